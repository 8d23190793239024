package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// endSelection moves a selection to a terminal stage at selection time at, with the wall
// clock wall (zero: not projected, as records made before the wall clock was sent).
func endSelection(t testing.TB, s *Store, id, stage string, at, wall time.Time) {
	t.Helper()
	if _, err := s.ApplyCommand(context.Background(), Command{WorkflowID: workflowPrefix + id, SelectionID: id, Key: "event-end", Seq: 1,
		Kind: "Ended", Actor: Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: at, AtWall: wall, Stage: stage}); err != nil {
		t.Fatalf("end selection %s: %v", id, err)
	}
}

// blobDeleter records the keys it is asked to delete, and fails while failing is set.
type blobDeleter struct {
	mu      sync.Mutex
	deleted []string
	failing error
}

func (d *blobDeleter) delete(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failing != nil {
		return d.failing
	}
	d.deleted = append(d.deleted, key)
	return nil
}

func (d *blobDeleter) keys() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.deleted)
}

// testRetention: documents of a selection that closed (or was cancelled) before the cutoff
// are due, those of open selections and of selections closed later are not; erasing keeps
// the row with its digest and without its file name, records an audit event with the
// digest on a chain that still verifies, deletes the blob only with its last user, does
// nothing twice, and changes nothing when the blob cannot be deleted.
func testRetention(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	for _, id := range []string{"sel-old", "sel-open", "sel-recent", "sel-cancelled"} {
		openWindow(t, s, id)
	}
	at := t0.Add(time.Hour)
	create := func(sel, owner, kind, upload, content string) StoredDocument {
		t.Helper()
		in := newDocument(sel, owner, kind, upload, at)
		in.SHA256 = sha256Hex([]byte(content))
		in.BlobKey = "sha256/" + in.SHA256[:2] + "/" + in.SHA256
		in.FileName = "Ijazah Budi Santoso.pdf"
		d, err := s.CreateDocument(ctx, in)
		if err != nil {
			t.Fatalf("create %s: %v", upload, err)
		}
		return d
	}
	// The same file (say, one agency's consent letter) in the old selection twice and in
	// the open one: three documents, one blob.
	shared1 := create("sel-old", "act-1", "ijazah", "up-1", "shared")
	shared2 := create("sel-old", "act-2", "ijazah", "up-2", "shared")
	sharedOpen := create("sel-open", "act-3", "ijazah", "up-3", "shared")
	own := create("sel-old", "act-1", "sk", "up-4", "own")
	recent := create("sel-recent", "act-4", "sk", "up-5", "recent")
	cancelled := create("sel-cancelled", "act-5", "sk", "up-6", "cancelled")
	openOwn := create("sel-open", "act-3", "sk", "up-7", "open")

	closedAt := t0.Add(30 * 24 * time.Hour)
	// Under a time scale the selection's clock runs ahead of the wall clock; the wall
	// clock counts.
	endSelection(t, s, "sel-old", StageClosed, closedAt.Add(400*24*time.Hour), closedAt)
	endSelection(t, s, "sel-cancelled", StageCancelled, closedAt, time.Time{})
	endSelection(t, s, "sel-recent", StageClosed, closedAt.Add(48*time.Hour), closedAt.Add(48*time.Hour))

	due := func(cutoff time.Time) []string {
		t.Helper()
		var all []string
		after := ""
		for {
			ids, err := s.DocumentsDueForErasure(ctx, cutoff, after, 2)
			if err != nil {
				t.Fatalf("due: %v", err)
			}
			if len(ids) == 0 {
				return all
			}
			all = append(all, ids...)
			after = ids[len(ids)-1]
		}
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

	if got := due(closedAt.Add(-time.Second)); len(got) != 0 {
		t.Fatalf("due before any close: %v", got)
	}
	cutoff := closedAt.Add(24 * time.Hour)
	if got, want := due(cutoff), sorted(shared1.ID, shared2.ID, own.ID, cancelled.ID); !slices.Equal(got, want) {
		t.Fatalf("due at the cutoff = %v, want %v (open %s, recent %s)", got, want, openOwn.ID, recent.ID)
	}

	del := &blobDeleter{}
	erase := func(id string, cutoff time.Time) Erasure {
		t.Helper()
		e, err := s.EraseDocument(ctx, EraseInput{DocumentID: id, Cutoff: cutoff, Now: cutoff.Add(time.Minute)}, del.delete)
		if err != nil {
			t.Fatalf("erase %s: %v", id, err)
		}
		return e
	}
	// Neither an open selection's document nor one of a selection closed after the cutoff
	// is erased, even when asked directly.
	for _, d := range []StoredDocument{sharedOpen, openOwn, recent} {
		if e := erase(d.ID, cutoff); e.Erased {
			t.Fatalf("erased %s of %s: %+v", d.ID, d.SelectionID, e)
		}
	}
	if keys := del.keys(); len(keys) != 0 {
		t.Fatalf("deleted %v for documents not due", keys)
	}

	// A failing deletion changes nothing.
	del.failing = errors.New("storage unreachable")
	if _, err := s.EraseDocument(ctx, EraseInput{DocumentID: own.ID, Cutoff: cutoff, Now: cutoff}, del.delete); err == nil ||
		!strings.Contains(err.Error(), "storage unreachable") {
		t.Fatalf("erase with failing storage: %v", err)
	}
	del.failing = nil
	if d, err := s.GetDocument(ctx, own.ID); err != nil || d.State == DocumentStateErased || d.FileName == "" {
		t.Fatalf("after a failed erasure: %+v, %v", d, err)
	}
	if n := count(t, s, "audit_events", "action = ?", ActionDocumentErased); n != 0 {
		t.Fatalf("%d erasure events after a failed erasure", n)
	}

	e1 := erase(shared1.ID, cutoff)
	if !e1.Erased || e1.BlobDeleted {
		t.Fatalf("first of three sharing a blob: %+v", e1)
	}
	e2 := erase(shared2.ID, cutoff)
	if !e2.Erased || e2.BlobDeleted {
		t.Fatalf("second sharing a blob with an open selection's document: %+v", e2)
	}
	eOwn := erase(own.ID, cutoff)
	if !eOwn.Erased || !eOwn.BlobDeleted {
		t.Fatalf("own blob: %+v", eOwn)
	}
	eCancelled := erase(cancelled.ID, cutoff)
	if !eCancelled.Erased || !eCancelled.BlobDeleted {
		t.Fatalf("cancelled selection's document: %+v", eCancelled)
	}
	if got, want := del.keys(), []string{own.BlobKey, cancelled.BlobKey}; !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want %v", got, want)
	}
	// Erasing again does nothing.
	if e := erase(own.ID, cutoff); e.Erased {
		t.Fatalf("erased twice: %+v", e)
	}
	if got := due(cutoff); len(got) != 0 {
		t.Fatalf("still due after the sweep: %v", got)
	}

	// The row stays: state, erase time, digest, without the file name.
	got, err := s.GetDocument(ctx, shared1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != DocumentStateErased || !got.EraseTime.Equal(cutoff.Add(time.Minute)) || got.SHA256 != shared1.SHA256 ||
		got.FileName != "" || got.SizeBytes != shared1.SizeBytes || got.Kind != shared1.Kind {
		t.Fatalf("erased row = %+v", got)
	}
	if e1.Document != got {
		t.Fatalf("erasure returned %+v, stored %+v", e1.Document, got)
	}
	// The audit event names the document and its digest, and the chain still verifies.
	events, err := s.ListAuditEvents(ctx, "sel-old", ListOptions{Filter: `action = "` + ActionDocumentErased + `"`})
	if err != nil || len(events.Items) != 3 {
		t.Fatalf("erasure events: %+v, %v", events.Items, err)
	}
	for _, ev := range events.Items {
		if ev.Role != "ROLE_SYSTEM" || !strings.HasPrefix(ev.Target, "documents/doc-") || strings.Contains(string(ev.Payload), "Budi") {
			t.Fatalf("erasure event = %+v payload %s", ev, ev.Payload)
		}
	}
	ev := events.Items[2]
	if ev.Target != "documents/"+own.ID || ev.Seq != eOwn.AuditSeq || !strings.Contains(string(ev.Payload), own.SHA256) ||
		!strings.Contains(string(ev.Payload), `"blobDeleted":true`) {
		t.Fatalf("own erasure event = %+v payload %s", ev, ev.Payload)
	}
	for _, sel := range []string{"sel-old", "sel-cancelled", "sel-open"} {
		if rep, err := s.VerifyChain(ctx, sel); err != nil || !rep.OK {
			t.Fatalf("chain of %s: %+v, %v", sel, rep, err)
		}
	}

	// Once the open selection closes and its retention passes, the last user of the shared
	// blob takes it along.
	endSelection(t, s, "sel-open", StageClosed, closedAt.Add(72*time.Hour), time.Time{})
	later := closedAt.Add(100 * time.Hour)
	if e := erase(sharedOpen.ID, later); !e.Erased || !e.BlobDeleted {
		t.Fatalf("last user of the shared blob: %+v", e)
	}
	if got := del.keys(); len(got) != 3 || got[2] != sharedOpen.BlobKey {
		t.Fatalf("deleted %v", got)
	}
}

// testConcurrentErasure: several sweepers erasing the same documents at once erase each
// exactly once, delete a blob shared by all of them once, and leave a chain that verifies.
func testConcurrentErasure(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-c")
	var ids []string
	for i := range 12 {
		in := newDocument("sel-c", "act-"+itoa(i), "ijazah", "up-"+itoa(i), t0.Add(time.Hour))
		if i%3 == 0 { // four documents share one blob
			in.SHA256 = sha256Hex([]byte("shared"))
			in.BlobKey = "sha256/" + in.SHA256[:2] + "/" + in.SHA256
		}
		d, err := s.CreateDocument(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	endSelection(t, s, "sel-c", StageClosed, t0.Add(48*time.Hour), time.Time{})
	cutoff := t0.Add(72 * time.Hour)
	del := &blobDeleter{}
	var mu sync.Mutex
	erased := 0
	errs := parallel(4, func(w int) error {
		for i := range ids {
			id := ids[(i+w*3)%len(ids)]
			e, err := s.EraseDocument(ctx, EraseInput{DocumentID: id, Cutoff: cutoff, Now: cutoff}, del.delete)
			if err != nil {
				return err
			}
			if e.Erased {
				mu.Lock()
				erased++
				mu.Unlock()
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if erased != len(ids) {
		t.Fatalf("%d erasures of %d documents", erased, len(ids))
	}
	keys := del.keys()
	slices.Sort(keys)
	if len(keys) != 9 || len(slices.Compact(keys)) != 9 {
		t.Fatalf("deleted %d keys (%d distinct), want 9 once each: %v", len(keys), len(slices.Compact(slices.Clone(keys))), keys)
	}
	if n := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-c", ActionDocumentErased); n != int64(len(ids)) {
		t.Fatalf("%d erasure events", n)
	}
	if rep, err := s.VerifyChain(ctx, "sel-c"); err != nil || !rep.OK {
		t.Fatalf("chain: %+v, %v", rep, err)
	}
}
