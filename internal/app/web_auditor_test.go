package app

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// verifyingAudit is the real audit service whose verification reports findings (the real
// one needs a Temporal history to read).
type verifyingAudit struct {
	seleksiv1.AuditServiceServer
	report *seleksiv1.VerificationReport
}

func (v verifyingAudit) VerifySelection(context.Context, *seleksiv1.VerifySelectionRequest) (*seleksiv1.VerifySelectionResponse, error) {
	return &seleksiv1.VerifySelectionResponse{Report: v.report}, nil
}

// TestWebAuditorTimelineAndVerification: the auditor's list leads to a selection's audit
// trail, which shows the events in the store (who, when, what, why); the verification page
// shows a report's findings as problems, each linked to its events, and says plainly when
// there are none, and when the history cannot be read at all; the signing key page shows the
// key to check bundles with.
func TestWebAuditorTimelineAndVerification(t *testing.T) {
	report := &seleksiv1.VerificationReport{EventsChecked: 3, VerifyTime: timestamppb.Now(), Findings: []*seleksiv1.Finding{
		{Kind: seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN, Message: "event 2's prev_hash does not match event 1", EventSequences: []uint64{1, 2}},
		{Kind: seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT, Message: "update web-resume-0001 has no audit event", HistoryEventIds: []int64{17}},
	}}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withAudit(func(real seleksiv1.AuditServiceServer) seleksiv1.AuditServiceServer {
		return verifyingAudit{AuditServiceServer: real, report: report}
	}))
	ctx := context.Background()
	now := time.Now().UTC()
	// A command accepted by the workflow, with its reason, after the creation and the
	// application already in the chain.
	if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen,
		Key: "web-resume-0001", Seq: 1, Kind: "ResumeSelection", Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"},
		Reason: "daftar hari libur 2031 sudah dipasok", At: now, Stage: "STAGE_ANNOUNCEMENT", Payload: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, api, secAuditor)

	page := webGet(t, c, api.base+"/audit")
	if page.code != http.StatusOK {
		t.Fatalf("GET /audit = %d\n%s", page.code, page.body)
	}
	secContains(t, "audit home", page, `href="/audit/seleksi/sel-open"`, `href="/audit/seleksi/sel-open/unduh"`, `href="/audit/kunci"`)

	page = webGet(t, c, api.base+"/audit/seleksi/"+selOpen)
	if page.code != http.StatusOK {
		t.Fatalf("timeline = %d\n%s", page.code, page.body)
	}
	secContains(t, "timeline", page, `id="jejak-audit"`, `id="peristiwa-1"`, `id="peristiwa-3"`,
		"<code>CreateSelection</code>", "<code>SubmitApplication</code>", "<code>ResumeSelection</code>",
		"admin-1 (sekretariat)", "daftar hari libur 2031 sudah dipasok", " WIB")
	if strings.Index(page.body, "CreateSelection") > strings.Index(page.body, "ResumeSelection") {
		t.Error("the timeline is not in sequence order")
	}

	page = webGet(t, c, api.base+"/audit/seleksi/"+selOpen+"/verifikasi")
	if page.code != http.StatusOK {
		t.Fatalf("verification = %d\n%s", page.code, page.body)
	}
	secContains(t, "verification", page, `id="hasil-verifikasi"`, `id="verifikasi-masalah"`, "Ditemukan 2 masalah", `id="temuan"`,
		"Rantai terputus", "event 2&#39;s prev_hash does not match event 1", `href="/audit/seleksi/sel-open#peristiwa-2"`,
		"Peristiwa hilang", "h17", `id="jalankan-verifikasi"`)
	report.Ok, report.Findings = true, nil
	secContains(t, "verification without findings", webGet(t, c, api.base+"/audit/seleksi/"+selOpen+"/verifikasi?replay=1"),
		`id="verifikasi-ok"`, "Tidak ditemukan masalah", `id="replay" name="replay" value="1" checked`)

	page = webGet(t, c, api.base+"/audit/kunci")
	secContains(t, "signing key", page, `id="kunci-id"`, "EdDSA", "BEGIN PUBLIC KEY", `&#34;kty&#34;`)

	// English, for the auditor who reads it.
	en := webGet(t, c, api.base+"/bahasa?ke=en&kembali=/audit")
	if en.code != http.StatusSeeOther {
		t.Fatalf("language switch = %d", en.code)
	}
	secContains(t, "timeline in English", webGet(t, c, api.base+"/audit/seleksi/"+selOpen), "Audit trail", "admin-1 (secretariat)")
}

// TestWebAuditorDownload: the bundle download streams ExportHistory's chunks to the browser
// as one file, with the header's media type and file name; a stream that fails before its
// first byte gets an error page.
func TestWebAuditorDownload(t *testing.T) {
	data := make([]byte, 1<<20+4321)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withAudit(func(seleksiv1.AuditServiceServer) seleksiv1.AuditServiceServer {
		return &bigExport{data: data}
	}))
	c := signedIn(t, api, secAuditor)
	resp, err := c.Get(api.base + "/audit/seleksi/sel-big/unduh")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	_, err = got.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download = %d, %v", resp.StatusCode, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=sel-big-20270301T090000Z.bundle.zip` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Errorf("downloaded %d bytes, not the %d bytes of the bundle", got.Len(), len(data))
	}
	// Cut off after the first chunk: the transfer fails rather than ending as if complete.
	resp, err = c.Get(api.base + "/audit/seleksi/sel-cut/unduh")
	if err == nil {
		_, err = got.ReadFrom(resp.Body)
		_ = resp.Body.Close()
	}
	if err == nil {
		t.Error("a download cut off halfway ended as if it were complete")
	}
}

// TestWebAuditorAccess: a candidate and the secretariat get 403 on the auditor's pages.
func TestWebAuditorAccess(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	for _, u := range []web.User{secCand, secAdmin} {
		c := signedIn(t, api, u)
		for _, p := range []string{"/audit", "/audit/seleksi/" + selOpen, "/audit/seleksi/" + selOpen + "/verifikasi", "/audit/seleksi/" + selOpen + "/unduh"} {
			if page := webGet(t, c, api.base+p); page.code != http.StatusForbidden {
				t.Errorf("%s GET %s = %d", u.Role, p, page.code)
			}
		}
	}
}

// TestWebAuditorVerificationUnavailable: with the workflow history out of reach, the
// verification page says the service is unavailable instead of showing a report.
func TestWebAuditorVerificationUnavailable(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	c := signedIn(t, api, secAuditor)
	page := webGet(t, c, api.base+"/audit/seleksi/"+selOpen+"/verifikasi")
	if page.code != http.StatusServiceUnavailable || strings.Contains(page.body, `id="hasil-verifikasi"`) {
		t.Fatalf("verification without Temporal = %d\n%s", page.code, page.body)
	}
	secContains(t, "verification without Temporal", page, "Layanan sedang tidak tersedia")
}

// TestWebMeritCompliance: the auditor's and the secretariat's merit-compliance page shows each
// rule with its status and findings (sel-open's committee of one breaks the composition rule),
// cites the audit events behind a finding with their time and action, and links the JSON;
// candidates and the committee are refused.
func TestWebMeritCompliance(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	for _, tc := range []struct {
		user web.User
		path string
	}{{secAuditor, "/audit/seleksi/" + selOpen}, {secAdmin, "/sekretariat/seleksi/" + selOpen}} {
		c := signedIn(t, api, tc.user)
		secContains(t, string(tc.user.Role)+" link", webGet(t, c, api.base+tc.path), `href="`+tc.path+`/kepatuhan"`)
		page := webGet(t, c, api.base+tc.path+"/kepatuhan")
		if page.code != http.StatusOK {
			t.Fatalf("%s: compliance page = %d\n%s", tc.user.Role, page.code, page.body)
		}
		secContains(t, string(tc.user.Role)+" compliance", page, "Laporan kepatuhan sistem merit", `id="butir-committee_composition"`,
			"Tidak terpenuhi", `id="butir-announcement_window"`, `href="/v1/selections/sel-open/meritComplianceReport"`)
		// The committee's definition is the selection's creation: its audit event is cited;
		// the auditor, who reads the trail, sees it with its action and a link to it, the
		// secretariat its number.
		if tc.user.Role == secAuditor.Role {
			if !strings.Contains(page.body, `href="/audit/seleksi/sel-open#peristiwa-1"`) || !strings.Contains(page.body, "<code>") {
				t.Errorf("auditor: the cited events are not shown:\n%s", page.body)
			}
		} else if !strings.Contains(page.body, `<li id="bukti-1">#1</li>`) {
			t.Errorf("secretariat: the cited event numbers are not shown:\n%s", page.body)
		}
	}
	for _, u := range []web.User{secCand} {
		c := signedIn(t, api, u)
		if page := webGet(t, c, api.base+"/audit/seleksi/"+selOpen+"/kepatuhan"); page.code != http.StatusForbidden {
			t.Errorf("%s: compliance page = %d", u.Role, page.code)
		}
	}
}
