package app

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web/browsertest"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestWebCommitteePagesInBrowser opens every committee page in headless Chromium as a
// signed-in member: axe-core finds no serious or critical WCAG 2.1 AA violation, each page
// with its CSS and scripts stays under 100 KB on the wire, and screenshots are written at
// 360 and 1280 px. The score sheet's confirmation runs its script: the batches go one by one
// and the progress bar reaches the end.
func TestWebCommitteePagesInBrowser(t *testing.T) {
	e := newCommitteeEnv(t)
	b := browsertest.Start(t)
	p := b.NewUser(t)
	base, _ := url.Parse(e.api.base)
	var session string
	for _, c := range e.member.Jar.Cookies(base) {
		if c.Name == "seleksi_sesi" {
			session = c.Value
		}
	}
	ctx, cancel := context.WithTimeout(p.Context(), 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "seleksi_sesi", Value: session, URL: e.api.base + "/"})
	}); err != nil {
		t.Fatal(err)
	}
	check := func(name, path string) {
		t.Helper()
		if code := p.Navigate(e.api.base + path); code != 200 {
			t.Fatalf("%s: GET %s = %d", name, path, code)
		}
		p.AssertAccessible(t, name)
		if name != "screening" && name != "score-form" {
			// The screening page frames a PDF, which Chromium's PDF viewer (an extension)
			// keeps loading; the frame is the candidate's document, not the page's weight.
			p.AssertWeight(t, name, 100*1024)
		}
		p.Screenshot("committee-" + name)
	}
	check("home", "/panitia")
	check("board", "/panitia/sel-panitia")
	check("applications", "/panitia/sel-panitia/lamaran")
	check("screening", "/panitia/sel-panitia/lamaran/"+e.appA)
	check("conflicts", "/panitia/sel-panitia/konflik")
	check("advance", "/panitia/sel-panitia/lanjut")
	check("objections", "/panitia/sel-panitia/sanggah")

	e.apply(t, store.Command{Kind: workflows.EvtStageOpened, Stage: "STAGE_COMPETENCY_TEST", Phase: "OPEN", Applications: []store.ApplicationChange{
		{ApplicationID: e.appA, State: store.StateInProgress}, {ApplicationID: e.appB, State: store.StateInProgress}}})
	check("score-form", "/panitia/sel-panitia/lamaran/"+e.appB)
	check("scores", "/panitia/sel-panitia/nilai")
	sheet := t.TempDir() + "/nilai.csv"
	writeSheet(t, sheet, "lamaran;komponen;nilai\n197505052000011001;uji_kompetensi;82,5\n197505052000011001;kategori;MS\n"+
		e.appB+";uji_kompetensi;75\n"+e.appB+";kategori;MMS\n")
	p.SetFile("#file", sheet)
	if code := p.ClickAndWait("#unggah-nilai-tombol"); code != 200 {
		t.Fatalf("preview = %d", code)
	}
	p.AssertAccessible(t, "scores-preview")
	p.Screenshot("committee-scores-preview")
	p.Click("#kirim-nilai-tombol")
	p.WaitVisible("#kemajuan-selesai")
	var progress int
	p.Eval(`document.getElementById("kemajuan-batang").value`, &progress)
	if progress != 1 || e.wf.count(workflows.UpdateRecordResults) != 1 {
		t.Errorf("progress %d, %d updates; want 1 and 1", progress, e.wf.count(workflows.UpdateRecordResults))
	}
	p.Screenshot("committee-scores-sent")

	e.apply(t, store.Command{Kind: workflows.EvtStageOpened, Stage: "STAGE_COMMITTEE_DECISION", Phase: "OPEN", Applications: []store.ApplicationChange{
		{ApplicationID: e.appA, State: store.StateInProgress, FinalScore: 7500}, {ApplicationID: e.appB, State: store.StateInProgress, FinalScore: 7500}}})
	check("decision", "/panitia/sel-panitia/keputusan")
}

func writeSheet(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
