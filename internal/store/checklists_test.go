package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"
)

// testChecklistBatch: a screening batch's checklists are written checklistChunk at a time,
// one UPDATE per chunk; each application's row ends up exactly as the row-by-row writes
// left it (same canonical checklist, same update time). A chunk that names an application
// twice keeps the last checklist, as row by row; a checklist of an application outside the
// selection fails the command with ErrFailedPrecondition and writes nothing.
func testChecklistBatch(t *testing.T, open factory) {
	ctx := context.Background()
	const n = checklistChunk + 10
	batched, rowByRow := open(t, true), open(t, true)
	for _, s := range []*Store{batched, rowByRow} {
		openWindow(t, s, "sel-b")
		seed(t, s, "sel-b", n)
	}
	at := t0.Add(300 * time.Hour)
	cls := make([]Checklist, n)
	for i := range cls {
		// Keys out of canonical order, so that canonicalisation shows.
		cls[i] = Checklist{ApplicationID: fmt.Sprintf("app-%07d", i), Items: []byte(fmt.Sprintf(
			`[{"status":"REQUIREMENT_STATUS_MET","item":"age","proposed":"REQUIREMENT_STATUS_MET","by":"chair","at":"2026-07-19T08:00:00Z","note":"n%d"}]`, i))}
	}
	// The last chunk names its first application again: the last checklist wins.
	cls = append(cls, Checklist{ApplicationID: cls[checklistChunk].ApplicationID, Items: []byte(`[{"item":"age","status":"REQUIREMENT_STATUS_UNMET"}]`)})
	chair := Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
	if applied, err := batched.ApplyCommand(ctx, Command{WorkflowID: workflowPrefix + "sel-b", SelectionID: "sel-b", Key: "req-record", Seq: 1,
		Kind: "RecordResults", Actor: chair, At: at, Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN", Checklists: cls}); err != nil || !applied {
		t.Fatalf("apply: %v, %v", applied, err)
	}
	err := rowByRow.db.Transaction(func(tx *gorm.DB) error {
		for _, cl := range cls {
			body, err := CanonicalJSON(cl.Items)
			if err != nil {
				return err
			}
			if err := updateChecklist(tx, "sel-b", cl.ApplicationID, string(body), instant(at)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID        string
		Checklist string
		UpdatedAt time.Time
	}
	read := func(s *Store) []row {
		var rows []row
		if err := s.db.Raw("SELECT id, checklist, updated_at FROM applications WHERE selection_id = ? ORDER BY id", "sel-b").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return rows
	}
	got, want := read(batched), read(rowByRow)
	if len(got) != n || len(want) != n {
		t.Fatalf("%d and %d rows, want %d", len(got), len(want), n)
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Checklist != want[i].Checklist || !got[i].UpdatedAt.Equal(want[i].UpdatedAt) {
			t.Fatalf("row %d batched %+v, row by row %+v", i, got[i], want[i])
		}
	}
	// The rows above would match even if every chunk fell back to row by row: the batched
	// UPDATE itself must report done, and not done when a row is missing.
	errRollback := errors.New("rollback")
	for _, tc := range []struct {
		ids  []string
		want bool
	}{
		{[]string{"app-0000000", "app-0000001", "app-0000002"}, true},
		{[]string{"app-0000000", "app-none"}, false},
		{[]string{"app-0000000", "app-0000000"}, false},
	} {
		chunk := make([]Checklist, len(tc.ids))
		bodies := make([]string, len(tc.ids))
		for i, id := range tc.ids {
			chunk[i], bodies[i] = Checklist{ApplicationID: id}, `[{"item":"age","status":"REQUIREMENT_STATUS_MET"}]`
		}
		err := batched.db.Transaction(func(tx *gorm.DB) error {
			done, err := updateChecklists(tx, "sel-b", chunk, bodies, instant(at))
			if err != nil {
				return err
			}
			if done != tc.want {
				t.Errorf("updateChecklists(%v): done %v, want %v", tc.ids, done, tc.want)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("updateChecklists(%v): %v", tc.ids, err)
		}
	}
	if c := got[checklistChunk].Checklist; c != `[{"item":"age","status":"REQUIREMENT_STATUS_UNMET"}]` {
		t.Errorf("an application named twice kept %s, want the last checklist", c)
	}

	// An application of another selection: refused, and nothing of the command is written.
	openWindow(t, batched, "sel-x")
	other := submit(t, batched, newSubmission("sel-x", 1, t0)).ID
	bad := []Checklist{{ApplicationID: "app-0000001", Items: []byte(`[]`)}, {ApplicationID: other, Items: []byte(`[]`)}, {ApplicationID: "app-0000002", Items: []byte(`[]`)}}
	_, err = batched.ApplyCommand(ctx, Command{WorkflowID: workflowPrefix + "sel-b", SelectionID: "sel-b", Key: "req-other", Seq: 2,
		Kind: "RecordResults", Actor: chair, At: at.Add(time.Hour), Stage: "STAGE_ADMINISTRATIVE_SCREENING", Phase: "OPEN", Checklists: bad})
	if !errors.Is(err, ErrFailedPrecondition) {
		t.Errorf("a checklist of another selection's application: %v, want ErrFailedPrecondition", err)
	}
	if after := read(batched); after[1].Checklist != got[1].Checklist || !after[1].UpdatedAt.Equal(got[1].UpdatedAt) {
		t.Errorf("a refused command changed a row: %+v, was %+v", after[1], got[1])
	}
}
