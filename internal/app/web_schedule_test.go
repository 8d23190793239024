package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"

	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
)

// TestWebSecretariatSchedule: the secretariat adds a session of the competency test from its
// page (a bad time is refused with the error summary), places the stage's candidates
// automatically, and the candidate's invitation is queued with its .ics; only the
// secretariat opens the page.
func TestWebSecretariatSchedule(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	c := signedIn(t, api, secAdmin)
	const page = "/sekretariat/seleksi/" + selOpen + "/jadwal/competency-test"
	p := webGet(t, c, api.base+page)
	if p.code != http.StatusOK {
		t.Fatalf("schedule page = %d\n%s", p.code, p.body)
	}
	secContains(t, "empty schedule", p, `id="belum-ada-sesi"`, `id="belum-ada-penempatan"`, `id="form-sesi"`)

	form := url.Values{"request_id": {"web-session-01"}, "date": {"2027-02-10"}, "start": {"8 pagi"}, "end": {"12:00"},
		"venue": {"Aula BKPSDM Lantai 2"}, "capacity": {"1"}}
	p = webPost(t, c, api.base, page, page+"/sesi", form)
	if p.code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad start time = %d\n%s", p.code, p.body)
	}
	secContains(t, "a bad start time", p, `<a href="#start">`, "Aula BKPSDM Lantai 2")
	form.Set("start", "08:00")
	p = webPost(t, c, api.base, page, page+"/sesi", form)
	if p.code != http.StatusSeeOther {
		t.Fatalf("add session = %d\n%s", p.code, p.body)
	}
	p = webGet(t, c, api.base+page)
	secContains(t, "one session", p, `id="daftar-sesi"`, "Aula BKPSDM Lantai 2", "0 / 1", "08.00 WIB")

	// The selection reaches the competency test with its one application in the running.
	ctx := context.Background()
	if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: "selection-" + selOpen, SelectionID: selOpen, Key: "advance-test", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: time.Now(), Stage: store.StageCompetencyTest,
		Phase: "OPEN", Applications: []store.ApplicationChange{{ApplicationID: appOpen, State: store.StateInProgress}}}); err != nil {
		t.Fatal(err)
	}
	p = webPost(t, c, api.base, page, page+"/tetapkan", url.Values{"request_id": {"web-assign-01"}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("assign = %d\n%s", p.code, p.body)
	}
	p = webGet(t, c, api.base+page)
	secContains(t, "placed", p, `id="daftar-penempatan"`, "1 / 1", "Peserta ditempatkan dan undangan dikirim.")
	app, err := api.store.GetApplication(ctx, selOpen, appOpen)
	if err != nil || app.ParticipantNumber == "" || !strings.Contains(p.body, app.ParticipantNumber) {
		t.Errorf("the placements do not show participant number %q (%v)", app.ParticipantNumber, err)
	}
	pending, err := api.store.PendingNotifications(ctx, store.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	var invitation string
	for _, n := range pending {
		if n.Kind == store.NotificationInvite && n.ApplicationID == appOpen {
			invitation = n.ID
			if !strings.Contains(n.Text.ID, "Aula BKPSDM Lantai 2") || !strings.Contains(n.Text.ID, "08:00-12:00 WIB") {
				t.Errorf("invitation text %q", n.Text.ID)
			}
		}
	}
	att, err := api.store.NotificationAttachments(ctx, []string{invitation})
	if err != nil || !strings.Contains(string(att[invitation].Content), "DTSTART;TZID=Asia/Jakarta:20270210T080000") {
		t.Fatalf("invitation %q attachment %+v, %v", invitation, att, err)
	}

	// The candidate sees the invitation on their application and downloads the same event
	// (UID, sequence) as an .ics; the secretariat's page is not theirs.
	cand := signedIn(t, api, secCand)
	p = webGet(t, cand, api.base+"/lamaran/"+selOpen+"/"+appOpen)
	secContains(t, "candidate's invitation", p, `id="undangan-competency-test"`, "Aula BKPSDM Lantai 2", `id="ics-competency-test"`)
	ics := webGet(t, cand, api.base+"/lamaran/"+selOpen+"/"+appOpen+"/undangan/competency-test")
	if ics.code != http.StatusOK || !strings.HasPrefix(ics.header.Get("Content-Type"), "text/calendar") {
		t.Fatalf(".ics download = %d %q", ics.code, ics.header.Get("Content-Type"))
	}
	cal, err := goical.NewDecoder(strings.NewReader(ics.body)).Decode()
	if err != nil || len(cal.Events()) != 1 {
		t.Fatalf(".ics does not parse: %v\n%s", err, ics.body)
	}
	mailed, _ := goical.NewDecoder(strings.NewReader(string(att[invitation].Content))).Decode()
	uid, _ := cal.Events()[0].Props.Text(goical.PropUID)
	mailedUID, _ := mailed.Events()[0].Props.Text(goical.PropUID)
	if uid == "" || uid != mailedUID {
		t.Errorf("downloaded UID %q, mailed UID %q", uid, mailedUID)
	}
	if p := webGet(t, cand, api.base+page); p.code != http.StatusForbidden {
		t.Errorf("a candidate opens the schedule page: %d", p.code)
	}
}
