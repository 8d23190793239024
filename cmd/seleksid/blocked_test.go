package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// TestBlockedSelectionResumes runs the real stack: the store refuses the announcement's close
// (a constraint a database administrator added, say), so the selection does not fail but
// shows itself blocked at its stage; once the constraint is gone, the secretariat's resume
// lets it go on, and it can still be cancelled.
func TestBlockedSelectionResumes(t *testing.T) {
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) {
			_, e := startStack(t, db, "blk-")
			committee := []string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}
			admin := e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
			e.must(http.MethodPost, "/v1/selections?requestId=req-create-blk&selectionId="+e.id, admin, selectionBody(committee), nil)
			for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; {
				if time.Now().After(deadline) {
					t.Fatal("the announcement window never opened")
				}
				time.Sleep(50 * time.Millisecond)
			}
			refuse, allow := storeConstraint(t, e)
			refuse()
			for i := 1; i <= 3; i++ {
				cand := e.tok.mint(auth.RoleCandidate, fmt.Sprintf("kandidat-%d", i))
				e.must(http.MethodPost, e.sel()+"/applications?requestId="+fmt.Sprintf("req-apply-%d", i), cand, e.withDocuments(applicationBody(i), cand, e.id), nil)
			}

			began := time.Now()
			b := waitBlocked(t, e, true, 90*time.Second)
			t.Logf("blocked visible %s after the applications (the window lasts a few seconds)", time.Since(began).Round(time.Millisecond))
			if b.Selection.Stage != "STAGE_ANNOUNCEMENT" || b.Selection.Blocked.Reason != "StoreRejectedData" ||
				b.Selection.Blocked.Step != "CloseAnnouncement" || b.Selection.Blocked.Message == "" || b.Selection.Blocked.Remedy == "" {
				t.Fatalf("blocked selection %+v", b.Selection)
			}
			if r := e.do(http.MethodPost, e.sel()+":resume", e.tok.mint(auth.RoleCommittee, "ketua", e.id), map[string]any{"requestId": "req-resume-blk-0"}); r.code != http.StatusForbidden {
				t.Errorf("committee resume: %s, want 403", r)
			}

			allow()
			resumed := time.Now()
			e.must(http.MethodPost, e.sel()+":resume", admin, map[string]any{"requestId": "req-resume-blk-1", "reason": "batasan dihapus"}, nil)
			e.waitStage(e.id, "STAGE_ADMINISTRATIVE_SCREENING", 60*time.Second)
			t.Logf("screening reached %s after the resume", time.Since(resumed).Round(time.Millisecond))
			waitBlocked(t, e, false, 30*time.Second)

			e.must(http.MethodPost, e.sel()+":cancel", admin, map[string]any{"requestId": "req-cancel-blk", "reason": "uji selesai"}, nil)
			if s := e.getSelection(e.id); s.Stage != "STAGE_CANCELLED" {
				t.Errorf("after cancel: %s", s.Stage)
			}
		})
	}
}

type blockedJSON struct {
	Selection struct {
		Stage   string `json:"stage"`
		Blocked *struct {
			Reason, Step, Message, Remedy string
		} `json:"blocked"`
	} `json:"selection"`
}

// waitBlocked polls the public selection until it is (or is no longer) blocked.
func waitBlocked(t *testing.T, e *e2e, blocked bool, timeout time.Duration) blockedJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := e.do(http.MethodGet, e.sel(), "", nil)
		var v blockedJSON
		if r.code == http.StatusOK && json.Unmarshal(r.body, &v) == nil && (v.Selection.Blocked != nil) == blocked {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("selection blocked=%v not reached within %s; last answer %s", blocked, timeout, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storeConstraint returns functions that make the store refuse to move the selection to
// screening (a constraint violation, which is invalid data) and that lift the refusal.
func storeConstraint(t *testing.T, e *e2e) (refuse, allow func()) {
	driver, dsn := "pgx", e.storeURL
	on := []string{fmt.Sprintf(`ALTER TABLE selections ADD CONSTRAINT blk_test CHECK (id <> '%s' OR stage <> 'STAGE_ADMINISTRATIVE_SCREENING') NOT VALID`, e.id)}
	off := []string{`ALTER TABLE selections DROP CONSTRAINT blk_test`}
	if path, ok := strings.CutPrefix(e.storeURL, "sqlite:"); ok {
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(10000)"
		on = []string{fmt.Sprintf(`CREATE TRIGGER blk_test BEFORE UPDATE OF stage ON selections
			WHEN NEW.id = '%s' AND NEW.stage = 'STAGE_ADMINISTRATIVE_SCREENING'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`, e.id)}
		off = []string{`DROP TRIGGER blk_test`}
	}
	exec := func(stmts []string) {
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.ExecContext(context.Background(), s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	return func() { exec(on) }, func() { exec(off) }
}
