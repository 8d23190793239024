package app

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/internal/web/browsertest"
	"github.com/bkpsdm/seleksi/workflows"
)

// browserSignedIn opens a tab signed in as u: the session cookie a signedIn client holds,
// set in the tab's own browser context.
func browserSignedIn(t *testing.T, b *browsertest.Browser, api *realAPI, u web.User) *browsertest.Page {
	t.Helper()
	c := signedIn(t, api, u)
	base, _ := url.Parse(api.base)
	var token string
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == "seleksi_sesi" {
			token = ck.Value
		}
	}
	p := b.NewUser(t)
	if _, err := chromedp.Run(p.Context(), func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
		return cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "seleksi_sesi", Value: token, URL: api.base})
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWebSecretariatAndAuditorInBrowser: every secretariat and auditor page, in a real
// browser, has no serious or critical accessibility violation (axe-core, WCAG 2.1 AA) and
// stays under 100 KB of HTML, CSS and scripts on the wire; the wizard's live checks react as
// the user types and its refused submit puts the API's errors in front of them.
func TestWebSecretariatAndAuditorInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	now := time.Now().UTC()
	if err := api.store.ProjectBlocked(context.Background(), workflows.WorkflowID(selOpen), selOpen, &store.Blocked{
		Reason: string(workflows.BlockedCalendarNotCovered), Step: workflows.StepCloseAnnouncement, Year: 2031,
		Since: now, Attempts: 2, NextAttempt: now.Add(time.Minute)}, now); err != nil {
		t.Fatal(err)
	}
	check := func(p *browsertest.Page, name string) {
		t.Helper()
		p.AssertAccessible(t, name)
		p.AssertWeight(t, name, 100<<10)
	}
	admin := browserSignedIn(t, b, api, secAdmin)
	for _, path := range []string{"/sekretariat", "/sekretariat/seleksi/" + selOpen, "/sekretariat/seleksi/" + selOpen + "/batal",
		"/sekretariat/hari-libur?seleksi=" + selOpen, "/sekretariat/seleksi/" + selOpen + "/pengangkatan", "/sekretariat/notifikasi", "/sekretariat/seleksi/" + selOpen + "/kepatuhan",
		"/sekretariat/seleksi/baru"} {
		if code := admin.Navigate(api.base + path); code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		check(admin, path)
	}
	// On the wizard (the last page): live checks as the user types.
	admin.Fill("#score_weights-written_test", "40")
	admin.Fill("#score_weights-interview", "50")
	if got := admin.Text("#score_weights-sum"); !strings.Contains(got, "90") || !strings.Contains(got, "harus tepat 100") {
		t.Errorf("weights status %q", got)
	}
	admin.Fill("#committee-0-member_id", "pansel-1")
	admin.Fill("#committee-1-member_id", "pansel-2")
	admin.Select("#committee-1-kind", "MEMBER_KIND_INTERNAL")
	if got := admin.Text("#committee-status"); !strings.Contains(got, "2 anggota, 1 internal (50%), 1 ketua") || !strings.Contains(got, "45%") {
		t.Errorf("committee status %q", got)
	}
	// A refused submit: the summary and the fields' errors.
	admin.Fill("#position_title", "Ka")
	if code := admin.ClickAndWait("#buat-seleksi"); code != 422 {
		t.Fatalf("refused wizard = %d", code)
	}
	if got := admin.Text("#ringkasan-galat"); !strings.Contains(got, "paling sedikit 3 karakter") {
		t.Errorf("error summary %q", got)
	}
	check(admin, "wizard with errors")
	admin.Screenshot("sekretariat-wizard-errors")

	admin.Navigate(api.base + "/sekretariat/seleksi/" + selOpen)
	admin.Screenshot("sekretariat-blocked")
	auditor := browserSignedIn(t, b, api, secAuditor)
	for _, path := range []string{"/audit", "/audit/seleksi/" + selOpen, "/audit/kunci", "/audit/seleksi/" + selOpen + "/kepatuhan"} {
		if code := auditor.Navigate(api.base + path); code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		check(auditor, path)
	}
	auditor.Navigate(api.base + "/audit/seleksi/" + selOpen)
	auditor.Screenshot("audit-timeline")
}
