package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestWebAttendance: the candidate confirms their session and then asks to reschedule from
// the application page; the request shows on the secretariat's schedule page, where a
// refusal needs a reason and is sent to the candidate, and a second request is accepted by
// moving the candidate to another session with an updated invitation.
func TestWebAttendance(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	adm := signedIn(t, api, secAdmin)
	const page = "/sekretariat/seleksi/" + selOpen + "/jadwal/interview"
	addSession := func(req, date string) {
		t.Helper()
		p := webPost(t, adm, api.base, page, page+"/sesi", url.Values{"request_id": {req}, "date": {date}, "start": {"09:00"},
			"end": {"10:00"}, "venue": {"Ruang Rapat " + date}, "capacity": {"1"}})
		if p.code != http.StatusSeeOther {
			t.Fatalf("add session = %d\n%s", p.code, p.body)
		}
	}
	addSession("web-session-a1", "2027-03-01")
	placeAtInterview(t, api, adm, page, "web-assign-a1")

	cand := signedIn(t, api, secCand)
	mine := "/lamaran/" + selOpen + "/" + appOpen
	inv := mine + "/undangan/interview"
	p := webGet(t, cand, api.base+mine)
	secContains(t, "unconfirmed", p, `id="hadir-interview"`, "Belum dikonfirmasi", `id="minta-pindah-interview"`)
	if p = webPost(t, cand, api.base, mine, inv+"/hadir", url.Values{"request_id": {"web-confirm-a1"}}); p.code != http.StatusSeeOther {
		t.Fatalf("confirm = %d\n%s", p.code, p.body)
	}
	p = webGet(t, cand, api.base+mine)
	secContains(t, "confirmed", p, "Kehadiran dikonfirmasi", "Kehadiran Anda dikonfirmasi.")
	if strings.Contains(p.body, `id="hadir-interview"`) {
		t.Error("the confirm button stays after confirming")
	}
	if p = webPost(t, cand, api.base, mine, inv+"/pindah", url.Values{"request_id": {"web-resched-a1"}, "reason": {"Dinas ke Jakarta"}}); p.code != http.StatusSeeOther {
		t.Fatalf("request = %d\n%s", p.code, p.body)
	}
	secContains(t, "requested", webGet(t, cand, api.base+mine), "Minta pindah jadwal", "sedang ditinjau")

	// The secretariat sees it; refusing without a reason is refused on the page.
	p = webGet(t, adm, api.base+page)
	secContains(t, "pending", p, `id="permintaan-pindah"`, "Dinas ke Jakarta", `id="tolak-kirim-`+appOpen+`"`)
	p = webPost(t, adm, api.base, page, page+"/tolak", url.Values{"request_id": {"web-refuse-a0"}, "application": {appOpen}, "reason": {" "}})
	if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Tulis alasannya.") {
		t.Fatalf("refusing without a reason = %d\n%s", p.code, p.body)
	}
	if p = webPost(t, adm, api.base, page, page+"/tolak", url.Values{"request_id": {"web-refuse-a1"}, "application": {appOpen},
		"reason": {"Tidak ada sesi lain"}}); p.code != http.StatusSeeOther {
		t.Fatalf("refuse = %d\n%s", p.code, p.body)
	}
	secContains(t, "refused, candidate's page", webGet(t, cand, api.base+mine), `id="penolakan-interview"`, "Tidak ada sesi lain", `id="hadir-interview"`)
	pending, err := api.store.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, n := range pending {
		if n.Kind == store.NotificationRescheduleNote && n.ApplicationID == appOpen {
			notices++
			if !strings.Contains(n.Text.ID, "Tidak ada sesi lain") || !strings.Contains(n.Text.EN, "was refused") {
				t.Errorf("refusal notice %+v", n.Text)
			}
		}
	}
	if notices != 1 {
		t.Errorf("%d refusal notices queued, want 1", notices)
	}

	// Asked again and accepted: the candidate is moved and sent the changed invitation.
	if p = webPost(t, cand, api.base, mine, inv+"/pindah", url.Values{"request_id": {"web-resched-a2"}, "reason": {"Masih dinas"}}); p.code != http.StatusSeeOther {
		t.Fatalf("second request = %d\n%s", p.code, p.body)
	}
	addSession("web-session-a2", "2027-03-02")
	sessions, err := api.store.ListSessions(ctx, selOpen, store.StageInterview)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("sessions %+v, %v", sessions, err)
	}
	if p = webPost(t, adm, api.base, page, page+"/terima", url.Values{"request_id": {"web-accept-a1"}, "application": {appOpen},
		"session": {sessions[1].ID}}); p.code != http.StatusSeeOther {
		t.Fatalf("accept = %d\n%s", p.code, p.body)
	}
	p = webGet(t, adm, api.base+page)
	secContains(t, "accepted", p, "Permintaan diterima")
	if strings.Contains(p.body, `id="permintaan-pindah"`) {
		t.Error("the request still shows after it was accepted")
	}
	secContains(t, "moved, candidate's page", webGet(t, cand, api.base+mine), "Ruang Rapat 2027-03-02", "Jadwal berubah", `id="hadir-interview"`)
	pending, err = api.store.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, n := range pending {
		changed = changed || (n.Kind == store.NotificationInvite && n.ApplicationID == appOpen && n.Text.Code == "SESSION_CHANGED")
	}
	if !changed {
		t.Error("no changed invitation was queued after the accepted request")
	}
}

// placeAtInterview moves appOpen on to the interview, as the workflow's advance would, and
// has the secretariat place it in the interview's sessions from page.
func placeAtInterview(t *testing.T, api *realAPI, adm *http.Client, page, requestID string) {
	t.Helper()
	if _, err := api.store.ApplyCommand(context.Background(), store.Command{WorkflowID: "selection-" + selOpen, SelectionID: selOpen,
		Key: "advance-int", Seq: 1, Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: time.Now(),
		Stage: store.StageInterview, Phase: "OPEN",
		Applications: []store.ApplicationChange{{ApplicationID: appOpen, State: store.StateInProgress}}}); err != nil {
		t.Fatal(err)
	}
	if p := webPost(t, adm, api.base, page, page+"/tetapkan", url.Values{"request_id": {requestID}}); p.code != http.StatusSeeOther {
		t.Fatalf("assign = %d\n%s", p.code, p.body)
	}
}
