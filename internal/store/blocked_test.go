package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestProjectBlockedSQLite(t *testing.T) {
	t.Parallel()
	testProjectBlocked(t, sqliteFactory)
}

func TestProjectBlockedPostgres(t *testing.T) {
	t.Parallel()
	testProjectBlocked(t, postgresFactory(t))
}

// testProjectBlocked: the blocked state the workflow projects is read back with the selection,
// moves its version (etag), and is cleared when the selection resumes.
func testProjectBlocked(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	sel := newSelection(t, s, "sel-b")
	b := &Blocked{Reason: "CalendarNotCovered", Step: "OpenAnnouncement", Year: 2027, Since: t0.Add(time.Hour),
		Attempts: 3, NextAttempt: t0.Add(2 * time.Hour)}
	if err := s.ProjectBlocked(ctx, sel.WorkflowID, sel.ID, b, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSelection(ctx, sel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Blocked == nil || *got.Blocked != *b || got.Version <= sel.Version {
		t.Fatalf("blocked %+v (version %d after %d), want %+v", got.Blocked, got.Version, sel.Version, b)
	}
	if err := s.ProjectBlocked(ctx, sel.WorkflowID, sel.ID, nil, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err = s.GetSelection(ctx, sel.ID); err != nil || got.Blocked != nil {
		t.Fatalf("after resume: %+v, %v", got.Blocked, err)
	}
	if err := s.ProjectBlocked(ctx, "other-workflow", sel.ID, b, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("another workflow's projection: %v", err)
	}
}
