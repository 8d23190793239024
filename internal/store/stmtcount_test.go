package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// statementLog records the SQL statements a store runs, through gorm's callbacks.
type statementLog struct {
	mu    sync.Mutex
	stmts []string
}

func traceStatements(t testing.TB, db *gorm.DB, log *statementLog) {
	t.Helper()
	rec := func(db *gorm.DB) {
		log.mu.Lock()
		log.stmts = append(log.stmts, db.Statement.SQL.String())
		log.mu.Unlock()
	}
	cb := db.Callback()
	for name, err := range map[string]error{
		"create": cb.Create().After("gorm:create").Register("test:trace", rec),
		"query":  cb.Query().After("gorm:query").Register("test:trace", rec),
		"update": cb.Update().After("gorm:update").Register("test:trace", rec),
		"delete": cb.Delete().After("gorm:delete").Register("test:trace", rec),
		"row":    cb.Row().After("gorm:row").Register("test:trace", rec),
		"raw":    cb.Raw().After("gorm:raw").Register("test:trace", rec),
	} {
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
}

// TestSubmitStatements counts the statements of one submission by a new candidate (actor ID
// included), alone in its group: a change that adds statements to the rush's path fails
// here, and -v lists them.
func TestSubmitStatements(t *testing.T) {
	// Two for the actor ID, then the group's transaction: the selection's lock, the checks,
	// the candidate and application, and the flush of audit, head, proof job and notices.
	const maxSubmitStatements = 12
	ctx := context.Background()
	s := sqliteFactory(t, true)
	openWindow(t, s, "sel-stmt")
	var log statementLog
	traceStatements(t, s.db, &log)
	for i := range 2 {
		log.mu.Lock()
		log.stmts = nil
		log.mu.Unlock()
		in := newSubmission("sel-stmt", i, t0.Add(time.Minute))
		actor, err := s.ActorID(ctx, "https://idp.example.go.id", in.Candidate.Subject)
		if err != nil {
			t.Fatal(err)
		}
		in.Owner = actor
		if _, err := s.SubmitApplication(ctx, in); err != nil {
			t.Fatal(err)
		}
		log.mu.Lock()
		t.Logf("submission %d: %d statements", i, len(log.stmts))
		for _, q := range log.stmts {
			t.Logf("  %s", q)
		}
		if len(log.stmts) > maxSubmitStatements {
			t.Errorf("submission %d: %d statements, want at most %d (the group commit's, issue 15)", i, len(log.stmts), maxSubmitStatements)
		}
		log.mu.Unlock()
	}
}
