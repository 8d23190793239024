package retention_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/documents/retention"
	"github.com/bkpsdm/seleksi/internal/pgtest"
	"github.com/bkpsdm/seleksi/internal/store"
)

// The sweeper runs against the real store (SQLite and PostgreSQL) and a real filesystem
// blob store: the tests check files on disk, rows and the audit chain.

var databases = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.SchemaURL(t) }},
}

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// env is one test's store, blob store and clock.
type env struct {
	t     *testing.T
	st    *store.Store
	blobs *blob.FS
	root  string
	mu    sync.Mutex
	now   time.Time
	logs  *lockedBuffer
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "documents")
	blobs, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, blobs: blobs, root: root, now: t0, logs: &lockedBuffer{}}
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) set(at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = at
}

func (e *env) sweeper(retentionPeriod time.Duration, blobs blob.Store) *retention.Sweeper {
	e.t.Helper()
	if blobs == nil {
		blobs = e.blobs
	}
	sw, err := retention.New(e.st, blobs, slog.New(slog.NewTextHandler(e.logs, nil)),
		retention.Options{Retention: retentionPeriod, Interval: 10 * time.Millisecond, BatchSize: 3, Now: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	return sw
}

// selection creates a selection whose announcement window is open.
func (e *env) selection(id string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "req-" + id, WorkflowID: "selection-" + id,
		PositionTitle: "Kepala Dinas", Agency: "Pemerintah Kota Contoh", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + id, SelectionID: id, Key: "window-0",
		Window: store.Window{Opens: t0, Closes: t0.Add(240 * time.Hour), ClosesWall: t0.Add(240 * time.Hour)}}, t0); err != nil {
		e.t.Fatal(err)
	}
}

// close moves a selection to STAGE_CLOSED at wall-clock time at.
func (e *env) close(id string, at time.Time) {
	e.t.Helper()
	if _, err := e.st.ApplyCommand(context.Background(), store.Command{WorkflowID: "selection-" + id, SelectionID: id, Key: "event-close",
		Seq: 1, Kind: "Appointed", Actor: store.Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: at, AtWall: at,
		Stage: store.StageClosed}); err != nil {
		e.t.Fatal(err)
	}
}

func key(content string) (string, string) {
	sum := sha256.Sum256([]byte(content))
	digest := hex.EncodeToString(sum[:])
	return digest, "sha256/" + digest[:2] + "/" + digest
}

// upload stores content and records a document for it, as the uploader does.
func (e *env) upload(sel, owner, upload, content string) store.StoredDocument {
	e.t.Helper()
	ctx := context.Background()
	digest, k := key(content)
	if err := e.blobs.Put(ctx, k, strings.NewReader(content), int64(len(content))); err != nil {
		e.t.Fatal(err)
	}
	d, err := e.st.CreateDocument(ctx, store.NewDocument{SelectionID: sel, Owner: owner, Kind: "ijazah", UploadID: upload,
		FileName: "ijazah.pdf", MediaType: "application/pdf", SizeBytes: int64(len(content)), SHA256: digest, BlobKey: k,
		RequireOpenWindow: true, Now: t0.Add(time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) stored(content string) bool {
	e.t.Helper()
	_, k := key(content)
	_, err := e.blobs.Stat(context.Background(), k)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) state(id string) store.StoredDocument {
	e.t.Helper()
	d, err := e.st.GetDocument(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// TestSweep: with a short retention, the sweep erases nothing before the retention has
// passed and nothing of an open selection; then it erases the closed selection's documents,
// deletes their files from disk except one still used by the open selection's document,
// records an audit event with each digest on a chain that still verifies, and logs a
// summary without personal data. A second sweep does nothing; once the other selection
// closes and its retention passes, the shared file goes with its last document.
func TestSweep(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, db.url(t))
			e.selection("sel-closed")
			e.selection("sel-open")
			a := e.upload("sel-closed", "act-1", "up-a", "shared consent letter")
			b := e.upload("sel-closed", "act-2", "up-b", "shared consent letter")
			c := e.upload("sel-closed", "act-1", "up-c", "degree certificate of one")
			d := e.upload("sel-open", "act-3", "up-d", "shared consent letter")
			f := e.upload("sel-open", "act-3", "up-f", "degree certificate of three")
			closedAt := t0.Add(30 * 24 * time.Hour)
			e.close("sel-closed", closedAt)
			sw := e.sweeper(time.Hour, nil)

			// Within the retention: nothing.
			e.set(closedAt.Add(59 * time.Minute))
			if sum, err := sw.RunOnce(ctx); err != nil || sum != (retention.Summary{}) {
				t.Fatalf("within the retention: %+v, %v", sum, err)
			}
			// After it: the closed selection's three documents; one file is deleted, the
			// shared one stays for the open selection's document.
			e.set(closedAt.Add(61 * time.Minute))
			sum, err := sw.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := (retention.Summary{Due: 3, Erased: 3, BlobsDeleted: 1, Selections: 1}); sum != want {
				t.Fatalf("sweep = %+v, want %+v", sum, want)
			}
			for _, doc := range []store.StoredDocument{a, b, c} {
				got := e.state(doc.ID)
				if got.State != store.DocumentStateErased || !got.EraseTime.Equal(closedAt.Add(61*time.Minute)) || got.SHA256 != doc.SHA256 {
					t.Fatalf("%s after the sweep: %+v", doc.ID, got)
				}
			}
			for _, doc := range []store.StoredDocument{d, f} {
				if got := e.state(doc.ID); got.State == store.DocumentStateErased {
					t.Fatalf("open selection's %s erased: %+v", doc.ID, got)
				}
			}
			if e.stored("degree certificate of one") {
				t.Fatal("the erased document's file is still on disk")
			}
			if !e.stored("shared consent letter") || !e.stored("degree certificate of three") {
				t.Fatal("a file an open selection's document uses was deleted")
			}
			// The open selection's document still reads back whole.
			r, err := e.blobs.Open(ctx, d.BlobKey)
			if err != nil {
				t.Fatal(err)
			}
			content, _ := io.ReadAll(r)
			_ = r.Close()
			if string(content) != "shared consent letter" {
				t.Fatalf("shared content = %q", content)
			}

			events, err := e.st.ListAuditEvents(ctx, "sel-closed", store.ListOptions{Filter: `action = "` + store.ActionDocumentErased + `"`})
			if err != nil || len(events.Items) != 3 {
				t.Fatalf("erasure events: %+v, %v", events.Items, err)
			}
			for _, ev := range events.Items {
				id := strings.TrimPrefix(ev.Target, "documents/")
				doc := e.state(id)
				if !strings.Contains(string(ev.Payload), doc.SHA256) || !strings.Contains(string(ev.Payload), `"documentId":"`+id+`"`) {
					t.Fatalf("event %+v payload %s", ev, ev.Payload)
				}
			}
			for _, sel := range []string{"sel-closed", "sel-open"} {
				if rep, err := e.st.VerifyChain(ctx, sel); err != nil || !rep.OK {
					t.Fatalf("chain of %s: %+v, %v", sel, rep, err)
				}
			}

			// Again: nothing left.
			if sum, err := sw.RunOnce(ctx); err != nil || sum != (retention.Summary{}) {
				t.Fatalf("second sweep: %+v, %v", sum, err)
			}

			// The other selection closes; after its retention the shared file goes too.
			e.close("sel-open", closedAt.Add(24*time.Hour))
			e.set(closedAt.Add(26 * time.Hour))
			sum, err = sw.RunOnce(ctx)
			if want := (retention.Summary{Due: 2, Erased: 2, BlobsDeleted: 2, Selections: 1}); err != nil || sum != want {
				t.Fatalf("sweep after the second close = %+v, %v; want %+v", sum, err, want)
			}
			if e.stored("shared consent letter") || e.stored("degree certificate of three") {
				t.Fatal("files still on disk after their last documents were erased")
			}
			if rep, err := e.st.VerifyChain(ctx, "sel-open"); err != nil || !rep.OK {
				t.Fatalf("chain: %+v, %v", rep, err)
			}
		})
	}
}

// failingDeletes is the real filesystem store, except that deleting fails while ok is
// false: document storage that cannot be reached.
type failingDeletes struct {
	*blob.FS
	mu sync.Mutex
	ok bool
}

func (f *failingDeletes) Delete(ctx context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ok {
		return errors.New("storage unreachable")
	}
	return f.FS.Delete(ctx, key)
}

// TestSweepStorageFailure: a document whose file cannot be deleted is not marked erased
// and has no erasure event; the sweep counts and logs the failure and the next sweep, with
// storage back, erases it.
func TestSweepStorageFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, databases[0].url(t))
	e.selection("sel")
	doc := e.upload("sel", "act-1", "up-1", "Budi Santoso's degree")
	e.close("sel", t0.Add(24*time.Hour))
	e.set(t0.Add(48 * time.Hour))
	storage := &failingDeletes{FS: e.blobs}
	sw := e.sweeper(time.Hour, storage)
	sum, err := sw.RunOnce(ctx)
	if want := (retention.Summary{Due: 1, Failed: 1}); err != nil || sum != want {
		t.Fatalf("sweep with storage down = %+v, %v; want %+v", sum, err, want)
	}
	if got := e.state(doc.ID); got.State == store.DocumentStateErased || !e.stored("Budi Santoso's degree") {
		t.Fatalf("after a failed erasure: %+v", got)
	}
	storage.mu.Lock()
	storage.ok = true
	storage.mu.Unlock()
	sum, err = sw.RunOnce(ctx)
	if want := (retention.Summary{Due: 1, Erased: 1, BlobsDeleted: 1, Selections: 1}); err != nil || sum != want {
		t.Fatalf("sweep with storage back = %+v, %v; want %+v", sum, err, want)
	}
	if e.stored("Budi Santoso's degree") {
		t.Fatal("file still on disk")
	}
	if strings.Contains(e.logs.String(), "Budi") || strings.Contains(e.logs.String(), "ijazah.pdf") {
		t.Fatalf("personal data in the log:\n%s", e.logs)
	}
}

// TestConcurrentSweepers: several workers sweeping the same store at once (replicas) erase
// every document once, fail none, delete every file, and leave chains that verify.
func TestConcurrentSweepers(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, db.url(t))
			const docs = 24
			for s := range 2 {
				sel := fmt.Sprintf("sel-%d", s)
				e.selection(sel)
				for i := range docs / 2 {
					// Every fourth document shares one file across both selections.
					content := fmt.Sprintf("content %d-%d", s, i)
					if i%4 == 0 {
						content = "shared"
					}
					e.upload(sel, fmt.Sprintf("act-%d", i), fmt.Sprintf("up-%d-%d", s, i), content)
				}
				e.close(sel, t0.Add(24*time.Hour))
			}
			e.set(t0.Add(72 * time.Hour))
			var (
				mu    sync.Mutex
				total retention.Summary
				wg    sync.WaitGroup
			)
			for range 3 {
				sw := e.sweeper(time.Hour, nil)
				wg.Go(func() {
					sum, err := sw.RunOnce(ctx)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					defer mu.Unlock()
					total.Erased += sum.Erased
					total.BlobsDeleted += sum.BlobsDeleted
					total.Failed += sum.Failed
				})
			}
			wg.Wait()
			// 24 documents, 18 distinct files plus the shared one.
			if total.Erased != docs || total.Failed != 0 || total.BlobsDeleted != 19 {
				t.Fatalf("sweepers together: %+v, want %d erased, 19 files deleted, none failed", total, docs)
			}
			for s := range 2 {
				sel := fmt.Sprintf("sel-%d", s)
				events, err := e.st.ListAuditEvents(ctx, sel, store.ListOptions{Filter: `action = "` + store.ActionDocumentErased + `"`})
				if err != nil || len(events.Items) != docs/2 {
					t.Fatalf("%s: %d erasure events, %v", sel, len(events.Items), err)
				}
				if rep, err := e.st.VerifyChain(ctx, sel); err != nil || !rep.OK {
					t.Fatalf("chain of %s: %+v, %v", sel, rep, err)
				}
			}
			if matches, _ := filepath.Glob(filepath.Join(e.root, "sha256", "*", "*")); len(matches) != 0 {
				t.Fatalf("files left on disk: %v", matches)
			}
		})
	}
}

// TestRun: the loop sweeps at once, keeps sweeping every interval, and returns when its
// context ends.
func TestRun(t *testing.T) {
	e := newEnv(t, databases[0].url(t))
	e.selection("sel")
	first := e.upload("sel", "act-1", "up-1", "first")
	e.close("sel", t0.Add(24*time.Hour))
	e.set(t0.Add(48 * time.Hour))
	sw := e.sweeper(time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sw.Run(ctx)
	}()
	// The sweep logs its summary after the erasure is visible in the store: wait for the
	// summary, so that the context does not end between the two.
	deadline := time.Now().Add(10 * time.Second)
	for e.state(first.ID).State != store.DocumentStateErased || !strings.Contains(e.logs.String(), "erased=1") {
		if time.Now().After(deadline) {
			t.Fatalf("the loop did not erase the due document and log it:\n%s", e.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if !strings.Contains(e.logs.String(), "erased=1") || !strings.Contains(e.logs.String(), "blobs_deleted=1") {
		t.Fatalf("no summary logged:\n%s", e.logs)
	}
}

func TestNewRefusesNoRetention(t *testing.T) {
	for _, opts := range []retention.Options{{Retention: 0, Interval: time.Second}, {Retention: -time.Hour, Interval: time.Second},
		{Retention: time.Hour}} {
		if _, err := retention.New(nil, nil, slog.Default(), opts); err == nil {
			t.Errorf("New(%+v) accepted", opts)
		}
	}
}

// lockedBuffer is the log the sweeper writes from its goroutine while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
