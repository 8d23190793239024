package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestBlockedSelectionIsShown: the blocked state the workflow projects into the store is part
// of the selection a GET returns, in the caller's language, and the secretariat can ask for a
// retry; the public sees it too (the selection is public).
func TestBlockedSelectionIsShown(t *testing.T) {
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
	now := time.Now().UTC().Truncate(time.Second)
	id := "sel-blocked"
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.ProjectBlocked(ctx, workflows.WorkflowID(id), id, &store.Blocked{Reason: string(workflows.BlockedCalendarNotCovered),
		Step: workflows.StepOpenAnnouncement, Year: 2027, Since: now, Attempts: 3, NextAttempt: now.Add(4 * time.Second)}, now); err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := key.Mint(auth.MintOptions{Subject: "admin-1", Role: auth.RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", key.Verifier(time.Now), server.Services{
		Selection:    server.NewSelectionServer(st, acceptingWorkflows{}, cat, logger, server.SelectionOptions{TaskQueue: "q"}),
		Application:  server.NewApplicationServer(st, acceptingWorkflows{}, cat, logger, nil),
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
	})
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	defer func() { _ = tr.Shutdown(context.Background()) }()
	base := "http://" + tr.HTTPAddr() + "/v1/selections/" + id

	type view struct {
		Selection struct {
			Stage   string `json:"stage"`
			Blocked struct {
				Reason, Message, Remedy, Step, SinceTime string
				Year, Attempts                           int
			} `json:"blocked"`
		} `json:"selection"`
	}
	read := func(lang string) view {
		code, body := doLang(t, http.MethodGet, base, "", "", lang)
		if code != http.StatusOK {
			t.Fatalf("GET: %d %s", code, body)
		}
		var v view
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	id1, en := read(""), read("en")
	b := id1.Selection.Blocked
	if b.Reason != "CalendarNotCovered" || b.Step != "OpenAnnouncement" || b.Year != 2027 || b.Attempts != 3 || b.SinceTime == "" ||
		b.Message == "" || b.Remedy == "" || b.Message == en.Selection.Blocked.Message || id1.Selection.Stage != "STAGE_ANNOUNCEMENT" {
		t.Errorf("blocked %+v (en %+v)", b, en.Selection.Blocked)
	}
	code, body := do(t, http.MethodPost, base+":resume", `{"requestId":"req-resume-1","reason":"daftar libur 2027 dilengkapi"}`, admin)
	if code != http.StatusOK {
		t.Errorf("resume: %d %s", code, body)
	}
	if err := st.ProjectBlocked(ctx, workflows.WorkflowID(id), id, nil, now); err != nil {
		t.Fatal(err)
	}
	code, body = do(t, http.MethodGet, base, "", "")
	var raw map[string]map[string]any
	if err := json.Unmarshal(body, &raw); err != nil || code != http.StatusOK {
		t.Fatalf("GET: %d %s", code, body)
	}
	if _, ok := raw["selection"]["blocked"]; ok {
		t.Errorf("a resumed selection still shows blocked: %s", body)
	}
}
