package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestWebAbsence: on the interview's schedule page the secretariat marks a placed candidate
// absent, which under the default rule is only recorded; once it sets the rule to eliminate,
// an absence the committee records on its own schedule page is sent to the workflow as
// recordAbsence for that application and stage, under the form's request ID.
func TestWebAbsence(t *testing.T) {
	wf := &recordingWorkflows{}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, withWorkflows(wf))
	ctx := context.Background()
	adm := signedIn(t, api, secAdmin)
	const page = "/sekretariat/seleksi/" + selOpen + "/jadwal/interview"
	if p := webPost(t, adm, api.base, page, page+"/sesi", url.Values{"request_id": {"web-session-b1"}, "date": {"2027-03-01"},
		"start": {"09:00"}, "end": {"10:00"}, "venue": {"Ruang Rapat"}, "capacity": {"3"}}); p.code != http.StatusSeeOther {
		t.Fatalf("add session = %d\n%s", p.code, p.body)
	}
	placeAtInterview(t, api, adm, page, "web-assign-b1")
	secContains(t, "schedule page", webGet(t, adm, api.base+page), `id="kehadiran"`, "Hanya dicatat", `id="tidak-hadir-`+appOpen+`"`,
		`id="form-aturan-ketidakhadiran"`, "Belum dicatat")

	absent := url.Values{"request_id": {"web-absent-b1"}, "application": {appOpen}, "attendance": {"tidak-hadir"}, "note": {"tanpa kabar"}}
	if p := webPost(t, adm, api.base, page, page+"/kehadiran", absent); p.code != http.StatusSeeOther {
		t.Fatalf("absent = %d\n%s", p.code, p.body)
	}
	secContains(t, "after the absence", webGet(t, adm, api.base+page), "Ketidakhadiran dicatat.", `<td id="tercatat-`+appOpen+`">Tidak hadir</td>`)
	if n := wf.count(workflows.UpdateRecordAbsence); n != 0 {
		t.Fatalf("a recorded-only absence sent %d eliminations", n)
	}

	if p := webPost(t, adm, api.base, page, page+"/aturan-ketidakhadiran", url.Values{"request_id": {"web-policy-b1"},
		"consequence": {"ABSENCE_CONSEQUENCE_ELIMINATE"}}); p.code != http.StatusSeeOther {
		t.Fatalf("policy = %d\n%s", p.code, p.body)
	}
	secContains(t, "after the rule", webGet(t, adm, api.base+page), "Aturan ketidakhadiran disimpan.", "Peserta yang tidak hadir gugur pada tahap ini")

	member := signedIn(t, api, web.User{AccountID: "acc-m", Issuer: auth.LocalIssuer, Subject: "member-1", Role: auth.RoleCommittee, Name: "Ketua"})
	// The member acts on the selection through the seat the secretariat linked to the account.
	if _, err := api.accounts.LinkSeat(ctx, selOpen, "acc-m"); err != nil {
		t.Fatal(err)
	}
	const mine = "/panitia/" + selOpen + "/jadwal/interview"
	secContains(t, "committee page", webGet(t, member, api.base+mine), `id="hadir-`+appOpen+`"`, "Peserta yang tidak hadir gugur pada tahap ini")
	if p := webPost(t, member, api.base, mine, mine+"/kehadiran", url.Values{"request_id": {"web-absent-b2"}, "application": {appOpen},
		"attendance": {"tidak-hadir"}}); p.code != http.StatusSeeOther {
		t.Fatalf("committee absent = %d\n%s", p.code, p.body)
	}
	secContains(t, "after the elimination", webGet(t, member, api.base+mine), "lamaran gugur pada tahap ini")
	if n := wf.count(workflows.UpdateRecordAbsence); n != 1 {
		t.Fatalf("%d eliminations sent, want 1", n)
	}
	args, ok := wf.last(workflows.UpdateRecordAbsence).(workflows.RecordAbsenceArgs)
	if !ok || args.ApplicationID != appOpen || args.Stage != workflows.StageInterview || args.Actor.Role != workflows.RoleCommittee {
		t.Errorf("recordAbsence args %+v", wf.last(workflows.UpdateRecordAbsence))
	}
	wf.mu.Lock()
	last := wf.sent[len(wf.sent)-1]
	wf.mu.Unlock()
	if last.UpdateID != "web-absent-b2" {
		t.Errorf("update ID %q, want the form's request ID", last.UpdateID)
	}
	// The candidate cannot post to either page.
	cand := signedIn(t, api, secCand)
	if p := webGet(t, cand, api.base+mine); p.code != http.StatusForbidden {
		t.Errorf("candidate on the committee's schedule page: %d", p.code)
	}
}
