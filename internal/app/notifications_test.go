package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/cli"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestDeadLettersThroughTheAPIAndCLI: the secretariat lists the dead letters and retries
// them, over REST and with seleksictl, against the real handlers and store; auditors may
// list but not retry; candidates and the committee see nothing; a sent notification is never
// retried; nothing shown names a candidate's address.
func TestDeadLettersThroughTheAPIAndCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Three candidates are told of a change; delivery of two of them fails for good, the
	// third is sent.
	now := time.Now().UTC()
	const sel = "sel-outbox"
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-" + sel, WorkflowID: workflows.WorkflowID(sel),
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(sel), SelectionID: sel, Key: "window-1",
		Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(time.Hour), ClosesWall: now.Add(time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
	var changes []store.ApplicationChange
	for i, c := range []string{"cand-a", "cand-b", "cand-c"} {
		owner, err := st.ActorID(ctx, auth.LocalIssuer, c)
		if err != nil {
			t.Fatal(err)
		}
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: "submit-" + c, Owner: owner,
			Candidate: store.Candidate{Subject: c, FullName: "Calon", NIP: "19750505200001100" + string(rune('1'+i)), Email: c + "@example.id", BirthDate: "1975-05-05"}, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, store.ApplicationChange{ApplicationID: a.ID, State: store.StateInProgress,
			Status: &store.Text{EN: "You are in the administrative screening.", ID: "Anda mengikuti seleksi administrasi."}})
	}
	if _, err := st.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID(sel), SelectionID: sel, Key: "advance-1", Seq: 1,
		Kind: "AdvanceSelection", Actor: store.Actor{Subject: "system", Role: "ROLE_SYSTEM"}, At: now,
		Stage: "STAGE_ADMINISTRATIVE_SCREENING", Applications: changes}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimNotifications(ctx, store.Claim{Owner: "w", Limit: 10, MaxAttempts: 3, Now: now, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Each application's "received" notice went out; the three status changes are this test's.
	var due []store.Notification
	for _, n := range claimed.Due {
		if n.Kind != store.ActionSubmitApplication {
			due = append(due, n)
		} else if err := st.RecordDelivery(ctx, store.Delivery{ID: n.ID, Owner: "w", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	if len(due) != 3 || len(claimed.Due) != 6 {
		t.Fatalf("claim = %+v", claimed)
	}
	var dead []string
	for i, n := range due {
		d := store.Delivery{ID: n.ID, Owner: "w", At: now}
		if i < 2 {
			d.Error, d.Dead = "mail relay refused the recipient: 550 <<address>>: mailbox unavailable", true
			dead = append(dead, n.ID)
		}
		if err := st.RecordDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(dead)
	sent := due[2].ID

	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(sub string, role auth.Role, sels ...string) string {
		tok, err := key.Mint(auth.MintOptions{Subject: sub, Role: role, Selections: sels, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	admin, auditor := mint("admin-1", auth.RoleAdmin), mint("auditor-1", auth.RoleAuditor)
	logger := slog.New(slog.DiscardHandler)
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", key.Verifier(time.Now, 0), server.Services{
		Selection:    server.NewSelectionServer(st, acceptingWorkflows{}, cat, logger, server.SelectionOptions{TaskQueue: "q"}),
		Application:  server.NewApplicationServer(st, acceptingWorkflows{}, cat, logger, nil),
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: server.NewNotificationServer(st, cat, logger),
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	defer func() { _ = tr.Shutdown(context.Background()) }()
	base := "http://" + tr.HTTPAddr()

	type listed struct {
		Notifications []struct {
			Name, Application, State, LastError string
			Attempts                            int
		}
		TotalSize int
	}
	names := func(l listed) []string {
		var out []string
		for _, n := range l.Notifications {
			out = append(out, strings.TrimPrefix(n.Name, "notifications/"))
		}
		return out
	}

	t.Run("REST", func(t *testing.T) {
		deadURL := base + "/v1/notifications?filter=state%20%3D%20DEAD"
		for _, tt := range []struct {
			who, token string
			want       int
		}{
			{"admin", admin, http.StatusOK}, {"auditor", auditor, http.StatusOK},
			{"candidate", mint("cand-a", auth.RoleCandidate), http.StatusOK},
			{"committee", mint("chair", auth.RoleCommittee, sel), http.StatusForbidden},
			{"anonymous", "", http.StatusUnauthorized},
		} {
			code, body := do(t, "GET", deadURL, "", tt.token)
			if code != tt.want {
				t.Errorf("%s: list = %d %s, want %d", tt.who, code, body, tt.want)
			}
		}
		// A candidate lists only what was sent to them (the application received, the status
		// change), without the relay's answer.
		code, body := do(t, "GET", base+"/v1/notifications", "", mint("cand-a", auth.RoleCandidate))
		var own listed
		if err := json.Unmarshal(body, &own); err != nil || code != http.StatusOK || own.TotalSize != 2 || len(own.Notifications) != 2 ||
			strings.Contains(string(body), "lastError") {
			t.Errorf("candidate's own dead letters = %d %s", code, body)
		}
		code, body = do(t, "GET", deadURL, "", admin)
		var l listed
		if err := json.Unmarshal(body, &l); err != nil || code != http.StatusOK {
			t.Fatalf("list = %d %s", code, body)
		}
		if got := names(l); !slices.Equal(got, dead) || l.TotalSize != 2 {
			t.Fatalf("dead letters %v (total %d), want %v", got, l.TotalSize, dead)
		}
		n := l.Notifications[0]
		if n.State != "NOTIFICATION_STATE_DEAD" || n.Attempts != 1 || !strings.Contains(n.LastError, "550") ||
			!strings.HasPrefix(n.Application, "selections/"+sel+"/applications/") {
			t.Errorf("dead letter = %+v", n)
		}
		if strings.Contains(string(body), "@example.id") || strings.Contains(string(body), "cand-") {
			t.Errorf("the list names candidates: %s", body)
		}
		if code, body := do(t, "GET", base+"/v1/notifications?filter=state%20%3D%20LOST", "", admin); code != http.StatusBadRequest ||
			!strings.Contains(string(body), `"field":"filter"`) || strings.Contains(string(body), "store:") {
			t.Errorf("a bad filter = %d %s, want 400 naming the filter without internal text", code, body)
		}

		retry := base + "/v1/notifications/" + dead[0] + ":retry"
		if code, body := do(t, "POST", retry, `{}`, auditor); code != http.StatusForbidden {
			t.Errorf("auditor retry = %d %s, want 403", code, body)
		}
		code, body = do(t, "POST", retry, `{}`, admin)
		var r struct{ Notification struct{ State string } }
		if err := json.Unmarshal(body, &r); err != nil || code != http.StatusOK || r.Notification.State != "NOTIFICATION_STATE_PENDING" {
			t.Fatalf("retry = %d %s", code, body)
		}
		if code, body := do(t, "POST", base+"/v1/notifications/"+sent+":retry", `{}`, admin); code != http.StatusBadRequest ||
			!strings.Contains(string(body), "sudah terkirim") || !strings.Contains(string(body), `"code":9`) {
			t.Errorf("retry of a sent notification = %d %s, want 400 FAILED_PRECONDITION in Indonesian", code, body)
		}
		if code, body := doLang(t, "POST", base+"/v1/notifications/nope:retry", `{}`, admin, "en"); code != http.StatusNotFound ||
			!strings.Contains(string(body), "notification not found") {
			t.Errorf("retry of a missing notification = %d %s, want 404 in English", code, body)
		}
	})

	t.Run("seleksictl", func(t *testing.T) {
		run := func(token string, args ...string) (int, string, string) {
			var stdout, stderr bytes.Buffer
			app := &cli.App{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string {
				return map[string]string{"SELEKSI_SERVER": tr.GRPCAddr(), "SELEKSI_TOKEN": token}[k]
			}}
			code := app.Run(ctx, args)
			return code, stdout.String(), stderr.String()
		}
		// One dead letter is left (the REST test retried the other).
		code, out, errOut := run(admin, "notification", "list", "--dead", "--selection", sel, "-o", "json")
		var l listed
		if err := json.Unmarshal([]byte(out), &l); code != cli.ExitOK || err != nil {
			t.Fatalf("list --dead = %d %s %s", code, out, errOut)
		}
		if got := names(l); !slices.Equal(got, dead[1:]) {
			t.Fatalf("dead letters %v, want %v", got, dead[1:])
		}
		code, out, _ = run(auditor, "notification", "list", "--dead")
		if code != cli.ExitOK || !strings.Contains(out, dead[1]) || !strings.Contains(out, "LAST ERROR") || !strings.Contains(out, "dead") {
			t.Errorf("auditor's table = %d:\n%s", code, out)
		}
		if code, _, _ := run(auditor, "notification", "retry", dead[1]); code != cli.ExitDenied {
			t.Errorf("auditor retry exit %d, want %d", code, cli.ExitDenied)
		}
		if code, out, errOut := run(admin, "notification", "retry", "notifications/"+dead[1]); code != cli.ExitOK || !strings.Contains(out, "pending") {
			t.Errorf("retry = %d %s %s", code, out, errOut)
		}
		if code, _, errOut := run(admin, "notification", "retry", sent); code != cli.ExitPrecondition || !strings.Contains(errOut, "sudah terkirim") {
			t.Errorf("retry of a sent notification exit %d (%s), want %d", code, errOut, cli.ExitPrecondition)
		}
		if code, _, _ := run(admin, "notification", "retry", "nope"); code != cli.ExitNotFound {
			t.Errorf("retry of a missing notification exit %d, want %d", code, cli.ExitNotFound)
		}
		if code, out, _ := run(admin, "notification", "list", "--dead"); code != cli.ExitOK || strings.Contains(out, dead[1]) {
			t.Errorf("after the retries the dead letters are %d:\n%s", code, out)
		}
	})

	// Both retried notifications are due at once, with fresh attempts.
	again, err := st.ClaimNotifications(ctx, store.Claim{Owner: "w2", Limit: 10, MaxAttempts: 3, Now: time.Now(), Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range again.Due {
		got = append(got, n.ID)
		if n.Attempts != 0 {
			t.Errorf("%s: %d attempts after the retry, want 0", n.ID, n.Attempts)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, dead) {
		t.Errorf("due after the retries: %v, want %v", got, dead)
	}
}
