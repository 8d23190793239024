package app

import (
	"context"
	"net/http"
	"net/url"
	"slices"
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

// TestWebCandidateNotificationChannels: a candidate chooses WhatsApp instead of e-mail on the
// page beside their notifications, without JavaScript; a malformed phone number is refused
// beside its field; and the next notification to them is queued on the channels they chose.
func TestWebCandidateNotificationChannels(t *testing.T) {
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{})
	ctx := context.Background()
	a := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-a", Issuer: auth.LocalIssuer, Subject: "cand-a", Role: auth.RoleCandidate, Name: "Calon A"})}
	code, body, _ := a.get("/lamaran/notifikasi")
	wantPage(t, "notifications", code, body, http.StatusOK, `href="/lamaran/notifikasi/saluran"`)
	code, body, _ = a.get("/lamaran/notifikasi/saluran")
	wantPage(t, "channels", code, body, http.StatusOK, "Cara menerima notifikasi", `id="email" name="email" value="1" checked`, "selalu aktif")
	if strings.Contains(body, `name="webhook" value="1" checked`) {
		t.Errorf("WhatsApp is ticked before the candidate chose it:\n%s", body)
	}

	code, body, _ = a.post("/lamaran/notifikasi/saluran", url.Values{"webhook": {"1"}, "phone": {"0812-3456"}})
	wantPage(t, "a malformed phone number", code, body, http.StatusBadRequest, `id="ringkasan-galat"`, `href="#phone"`, `aria-invalid="true"`, `value="0812-3456"`)

	code, _, loc := a.post("/lamaran/notifikasi/saluran", url.Values{"webhook": {"1"}, "phone": {"+62 812 3456 7890"}})
	if code != http.StatusSeeOther || loc != "/lamaran/notifikasi/saluran" {
		t.Fatalf("saving: HTTP %d to %q", code, loc)
	}
	code, body, _ = a.get(loc)
	wantPage(t, "channels saved", code, body, http.StatusOK, "telah disimpan", `name="webhook" value="1" checked`, `value="&#43;6281234567890"`)
	if strings.Contains(body, `name="email" value="1" checked`) {
		t.Errorf("e-mail is still ticked after the candidate turned it off:\n%s", body)
	}

	owner, err := api.store.ActorID(ctx, auth.LocalIssuer, "cand-a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.store.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(selOpen), SelectionID: selOpen, Key: "advance-1", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: time.Now().UTC(), Stage: "STAGE_ADMINISTRATIVE_SCREENING",
		Applications: []store.ApplicationChange{{ApplicationID: appOpen, State: store.StateInProgress}}}); err != nil {
		t.Fatal(err)
	}
	pending, err := api.store.PendingNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range pending {
		if n.Kind == "AdvanceSelection" && n.Recipient == owner {
			got = append(got, n.Channel+" "+n.Address)
		}
	}
	slices.Sort(got)
	if want := []string{"IN_APP ", "WEBHOOK +6281234567890"}; !slices.Equal(got, want) {
		t.Fatalf("queued on %q, want %q", got, want)
	}

	// The gateway refuses the WhatsApp message for good: the secretariat sees that dead
	// letter with its channel, and the in-app copy is the candidate's as before.
	claimed, err := api.store.ClaimNotifications(ctx, store.Claim{Owner: "w", Limit: 100, MaxAttempts: 5, Now: time.Now(), Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range claimed.Due {
		d := store.Delivery{ID: n.ID, Owner: "w", At: time.Now()}
		if n.Channel == store.ChannelWebhook {
			d.Error, d.Dead = "webhook gateway refused the delivery (400)", true
		}
		if err := api.store.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	admin := &visitor{t: t, base: api.base, c: signedIn(t, api, web.User{AccountID: "acc-s", Issuer: auth.LocalIssuer, Subject: "admin-1", Role: auth.RoleAdmin, Name: "Sekretariat"})}
	code, body, _ = admin.get("/sekretariat/notifikasi")
	wantPage(t, "dead letters", code, body, http.StatusOK, `id="surat-gagal"`, "WhatsApp/SMS (webhook)", "refused the delivery (400)")
	code, body, _ = a.get("/lamaran/notifikasi")
	wantPage(t, "notifications after the dead webhook", code, body, http.StatusOK, "hanya di aplikasi")
	if strings.Contains(body, "tidak dapat dikirim") {
		t.Errorf("the candidate's list shows the webhook's dead letter:\n%s", body)
	}
}
