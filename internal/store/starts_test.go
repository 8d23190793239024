package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// testWorkflowStarts: a selection created with its workflow input is pending until marked
// started, whoever marks it and however often; one created without an input never is; a
// scheduled selection starts in STAGE_SCHEDULED and takes no application.
func testWorkflowStarts(t *testing.T, open factory) {
	s := open(t, true)
	ctx := context.Background()
	create := func(id string, input string, scheduled bool, at time.Time) {
		t.Helper()
		in := NewSelection{ID: id, RequestID: "req-" + id, WorkflowID: workflowPrefix + id, PositionTitle: "Kepala Dinas",
			Agency: "Pemerintah Kota Contoh", Config: []byte(`{}`), Actor: Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: at,
			Scheduled: scheduled}
		if input != "" {
			in.WorkflowInput = json.RawMessage(input)
		}
		// Twice: a retried create records one start.
		for range 2 {
			if _, err := s.CreateSelection(ctx, in); err != nil {
				t.Fatalf("create %s: %v", id, err)
			}
		}
	}
	create("sel-old", "", false, t0)
	create("sel-a", `{"selectionId":"sel-a"}`, false, t0)
	create("sel-b", `{"selectionId":"sel-b","announcementOpensAt":"2026-04-01T01:00:00Z"}`, true, t0.Add(time.Second))
	if _, err := s.CreateSelection(ctx, NewSelection{ID: "sel-bad", RequestID: "req-sel-bad", WorkflowID: "w", PositionTitle: "x",
		Agency: "y", Now: t0, WorkflowInput: json.RawMessage(`{not json`)}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("input that is not JSON: %v", err)
	}

	ids := func(before time.Time) []string {
		t.Helper()
		ps, err := s.PendingStarts(ctx, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			if p.WorkflowID != workflowPrefix+p.SelectionID || p.Agency != "Pemerintah Kota Contoh" || !strings.Contains(string(p.Input), p.SelectionID) {
				t.Errorf("pending start %+v", p)
			}
			out = append(out, p.SelectionID)
		}
		return out
	}
	if got := ids(t0.Add(-time.Second)); len(got) != 0 {
		t.Errorf("pending before anything was created: %v", got)
	}
	if got := strings.Join(ids(t0), ","); got != "sel-a" {
		t.Errorf("pending at t0: %s", got)
	}
	if got := strings.Join(ids(t0.Add(time.Hour)), ","); got != "sel-a,sel-b" {
		t.Errorf("pending: %s, want sel-a,sel-b", got)
	}
	for range 2 {
		if err := s.MarkWorkflowStarted(ctx, "sel-a", t0.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkWorkflowStarted(ctx, "sel-old", t0); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(t0.Add(time.Hour)), ","); got != "sel-b" {
		t.Errorf("pending after sel-a started: %s", got)
	}

	sel, err := s.GetSelection(ctx, "sel-b")
	if err != nil || sel.Stage != StageScheduled {
		t.Fatalf("scheduled selection: stage %q, %v", sel.Stage, err)
	}
	if _, err := s.SubmitApplication(ctx, newSubmission("sel-b", 1, t0.Add(time.Minute))); !errors.Is(err, ErrFailedPrecondition) ||
		!strings.Contains(err.Error(), "not open yet") {
		t.Errorf("application to a scheduled selection: %v", err)
	}
	page, err := s.ListSelections(ctx, ListOptions{Filter: "stage = STAGE_SCHEDULED"})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != "sel-b" {
		t.Errorf("scheduled selections: %+v, %v", page.Items, err)
	}
}
