package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/web"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestWebCandidateNotifications: a candidate reads the notifications Seleksi sent them, in
// their language, and never another candidate's.
func TestWebCandidateNotifications(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	now := time.Now().UTC()
	owner, err := api.store.ActorID(ctx, auth.LocalIssuer, "cand-b")
	if err != nil {
		t.Fatal(err)
	}
	other, err := api.store.SubmitApplication(ctx, store.SubmitInput{SelectionID: selOpen, RequestID: "submit-cand-b", Owner: owner,
		Candidate: store.Candidate{Subject: "cand-b", FullName: "Calon B", NIP: "197505052000011002", Email: "b@example.id", BirthDate: "1975-05-05"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen, Key: "advance-1", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: now, Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Applications: []store.ApplicationChange{
			{ApplicationID: appOpen, State: store.StateInProgress, Status: &store.Text{EN: "A is being screened.", ID: "A sedang diperiksa."}},
			{ApplicationID: other.ID, State: store.StateInProgress, Status: &store.Text{EN: "B is being screened.", ID: "B sedang diperiksa."}},
		}}); err != nil {
		t.Fatal(err)
	}
	a := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-a", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"})}
	code, body, _ := a.get("/lamaran/notifikasi")
	wantPage(t, "notifications", code, body, http.StatusOK, "Notifikasi saya", `id="daftar-notifikasi"`, "menunggu dikirim", "/lamaran/"+selOpen+"/"+appOpen)
	if !containsAny(body, "A sedang diperiksa", "Status lamaran Anda telah berubah") {
		t.Errorf("candidate A's notification is not listed:\n%s", body)
	}
	if containsAny(body, "B sedang diperiksa", other.ID) {
		t.Errorf("candidate A sees candidate B's notification:\n%s", body)
	}
	auditor := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-x", Issuer: auth.LocalIssuer, Subject: "auditor-1", Role: auth.RoleAuditor, Name: "Auditor"})}
	if code, _, _ := auditor.get("/lamaran/notifikasi"); code != http.StatusForbidden {
		t.Errorf("an auditor opened the candidate's notifications page: %d", code)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
