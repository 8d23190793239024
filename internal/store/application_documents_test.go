package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// docSelection creates a selection requiring an ijazah and an LHKPN, with its announcement
// window open from t0 for ten days.
func docSelection(t testing.TB, s *Store, id string) {
	t.Helper()
	_, err := s.CreateSelection(context.Background(), NewSelection{
		ID: id, RequestID: "req-" + id, WorkflowID: workflowPrefix + id,
		PositionTitle: "Kepala Dinas", PositionUnit: "Dinas", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB",
		Config: []byte(`{"requirements":{"requiredDocuments":[{"id":"ijazah","title":"Ijazah"},{"id":"lhkpn","title":"LHKPN"}]}}`),
		Actor:  Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0,
	})
	if err != nil {
		t.Fatalf("create selection %s: %v", id, err)
	}
	_, err = s.ProjectWindow(context.Background(), WindowInput{WorkflowID: workflowPrefix + id, SelectionID: id, Key: "window-0",
		Window: Window{Opens: t0, Closes: t0.Add(240 * time.Hour), ClosesWall: t0.Add(240 * time.Hour)}}, t0)
	if err != nil {
		t.Fatalf("project window: %v", err)
	}
}

// upload records a document of owner, as the upload service does once the bytes are stored.
func upload(t testing.TB, s *Store, selectionID, owner, kind, uploadID string) StoredDocument {
	t.Helper()
	d, err := s.CreateDocument(context.Background(), newDocument(selectionID, owner, kind, uploadID, t0.Add(time.Minute)))
	if err != nil {
		t.Fatalf("create document %s: %v", uploadID, err)
	}
	return d
}

// withDocs is submission n (owner cand-n) naming docs.
func withDocs(selectionID string, n int, docs ...StoredDocument) SubmitInput {
	in := newSubmission(selectionID, n, t0.Add(time.Hour))
	for _, d := range docs {
		in.Documents = append(in.Documents, DocumentRef{Kind: d.Kind, DocumentID: d.ID})
	}
	return in
}

// documentProblems returns the problems of a refused submission as "kind:reason" strings.
func documentProblems(t *testing.T, err error) []string {
	t.Helper()
	var de *DocumentsError
	if !errors.As(err, &de) {
		t.Fatalf("error %v is not a *DocumentsError", err)
	}
	var out []string
	for _, p := range de.Problems {
		out = append(out, p.Kind+":"+p.Reason)
	}
	return out
}

// testApplicationDocuments: a submission must name every required document, each the
// candidate's own upload of this selection and kind, not attached elsewhere; the accepted
// documents are attached in the same transaction, their descriptions kept in the row, and
// a retried submission answers the same application.
func testApplicationDocuments(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	docSelection(t, s, "sel-ad")
	docSelection(t, s, "sel-ad2")
	ijazah := upload(t, s, "sel-ad", "cand-1", "ijazah", "up-1-ijazah")
	lhkpn := upload(t, s, "sel-ad", "cand-1", "lhkpn", "up-1-lhkpn")
	othersLHKPN := upload(t, s, "sel-ad", "cand-2", "lhkpn", "up-2-lhkpn")
	elsewhere := upload(t, s, "sel-ad2", "cand-1", "lhkpn", "up-1-lhkpn-elsewhere")
	asIjazah := lhkpn
	asIjazah.Kind = "ijazah"

	tests := []struct {
		name string
		in   SubmitInput
		want []string
		// precondition: the error is ErrFailedPrecondition rather than ErrInvalidArgument.
		precondition bool
	}{
		{"none", withDocs("sel-ad", 1), []string{"ijazah:missing", "lhkpn:missing"}, false},
		{"a required document missing", withDocs("sel-ad", 1, ijazah), []string{"lhkpn:missing"}, false},
		{"another candidate's document", withDocs("sel-ad", 1, ijazah, othersLHKPN), []string{"lhkpn:not_found"}, false},
		{"a document of another selection", withDocs("sel-ad", 1, ijazah, elsewhere), []string{"lhkpn:other_selection"}, false},
		{"a document of another kind", withDocs("sel-ad", 1, asIjazah), []string{"ijazah:wrong_kind", "lhkpn:missing"}, false},
		{"a kind the selection does not require", withDocs("sel-ad", 1, ijazah, lhkpn, StoredDocument{ID: "doc-x", Kind: "sertifikat"}),
			[]string{"sertifikat:not_required"}, false},
		{"the same document twice", withDocs("sel-ad", 1, ijazah, lhkpn, lhkpn), []string{"lhkpn:duplicate"}, false},
		{"a document that does not exist", withDocs("sel-ad", 1, ijazah, StoredDocument{ID: "doc-none", Kind: "lhkpn"}),
			[]string{"lhkpn:not_found"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SubmitApplication(ctx, tc.in)
			if got := documentProblems(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("problems %v, want %v", got, tc.want)
			}
			if want := map[bool]error{true: ErrFailedPrecondition, false: ErrInvalidArgument}[tc.precondition]; !errors.Is(err, want) {
				t.Fatalf("%v is not %v", err, want)
			}
		})
	}
	if n := count(t, s, "applications", "selection_id = ?", "sel-ad"); n != 0 {
		t.Fatalf("%d applications stored by refused submissions", n)
	}
	if n := count(t, s, "documents", "state <> ?", DocumentStateUploaded); n != 0 {
		t.Fatalf("%d documents changed by refused submissions", n)
	}

	in := withDocs("sel-ad", 1, ijazah, lhkpn)
	app := submit(t, s, in)
	want := []Document{
		{ID: ijazah.ID, Kind: "ijazah", FileName: ijazah.FileName, MediaType: "application/pdf", SizeBytes: 1234, SHA256: ijazah.SHA256},
		{ID: lhkpn.ID, Kind: "lhkpn", FileName: lhkpn.FileName, MediaType: "application/pdf", SizeBytes: 1234, SHA256: lhkpn.SHA256},
	}
	if !slices.Equal(app.Documents, want) {
		t.Fatalf("application documents %+v, want %+v", app.Documents, want)
	}
	for _, d := range []StoredDocument{ijazah, lhkpn} {
		got, err := s.GetDocument(ctx, d.ID)
		if err != nil || got.State != DocumentStateAttached || got.ApplicationID != app.ID || !got.AttachTime.Equal(t0.Add(time.Hour)) {
			t.Fatalf("document after submission: %+v, %v", got, err)
		}
	}
	// A retry answers the same application: its documents are attached to it already.
	if again := submit(t, s, in); again.ID != app.ID || !slices.Equal(again.Documents, want) {
		t.Fatalf("retry answered %+v", again)
	}

	// A document attached to one application cannot be attached to another.
	ijazah3 := upload(t, s, "sel-ad", "cand-3", "ijazah", "up-3-ijazah")
	lhkpn3 := upload(t, s, "sel-ad", "cand-3", "lhkpn", "up-3-lhkpn")
	if err := s.db.Exec("UPDATE documents SET state = ?, application_id = ? WHERE id = ?", DocumentStateAttached, app.ID, lhkpn3.ID).Error; err != nil {
		t.Fatal(err)
	}
	_, err := s.SubmitApplication(ctx, withDocs("sel-ad", 3, ijazah3, lhkpn3))
	if got := documentProblems(t, err); !slices.Equal(got, []string{"lhkpn:in_use"}) || !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("twice attached: %v (%v)", got, err)
	}
	if d, _ := s.GetDocument(ctx, ijazah3.ID); d.State != DocumentStateUploaded {
		t.Fatalf("the refused submission attached %+v", d)
	}
}

// testReplaceDocument: the owner replaces a document while the window is open; the old one
// is kept as replaced, the audit event records both digests, a retry answers the same, and
// after the close (the snapshot) documents are frozen.
func testReplaceDocument(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	docSelection(t, s, "sel-rd")
	ijazah := upload(t, s, "sel-rd", "cand-1", "ijazah", "up-ijazah")
	lhkpn := upload(t, s, "sel-rd", "cand-1", "lhkpn", "up-lhkpn")
	app := submit(t, s, withDocs("sel-rd", 1, ijazah, lhkpn))
	newer := upload(t, s, "sel-rd", "cand-1", "lhkpn", "up-lhkpn-2")
	at := t0.Add(2 * time.Hour)
	replace := ReplaceDocumentInput{SelectionID: "sel-rd", ApplicationID: app.ID, RequestID: "replace-1", Owner: "cand-1",
		Kind: "lhkpn", DocumentID: newer.ID, Now: at}

	// Refusals first: someone else's application, a document of another kind, a kind the
	// application has no document of.
	other := replace
	other.Owner = "cand-2"
	if _, err := s.ReplaceDocument(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another candidate's application: %v, want ErrNotFound", err)
	}
	wrong := replace
	wrong.DocumentID = upload(t, s, "sel-rd", "cand-1", "ijazah", "up-ijazah-2").ID
	if _, err := s.ReplaceDocument(ctx, wrong); !slices.Equal(documentProblems(t, err), []string{"lhkpn:wrong_kind"}) {
		t.Fatalf("a document of another kind: %v", err)
	}
	unknown := replace
	unknown.Kind = "sertifikat"
	if _, err := s.ReplaceDocument(ctx, unknown); !slices.Equal(documentProblems(t, err), []string{"sertifikat:not_required"}) {
		t.Fatalf("a kind the application lacks: %v", err)
	}

	events := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-rd", ActionDocumentReplaced)
	got, err := s.ReplaceDocument(ctx, replace)
	if err != nil {
		t.Fatal(err)
	}
	if got.Documents[1].ID != newer.ID || got.Documents[1].SHA256 != newer.SHA256 || got.Documents[0].ID != ijazah.ID {
		t.Fatalf("documents after the replacement: %+v", got.Documents)
	}
	if d, _ := s.GetDocument(ctx, lhkpn.ID); d.State != DocumentStateReplaced || d.ApplicationID != app.ID {
		t.Fatalf("replaced document: %+v", d)
	}
	if d, _ := s.GetDocument(ctx, newer.ID); d.State != DocumentStateAttached || d.ApplicationID != app.ID {
		t.Fatalf("new document: %+v", d)
	}
	if n := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-rd", ActionDocumentReplaced); n != events+1 {
		t.Fatalf("%d replacement events, want %d", n, events+1)
	}
	page, err := s.ListAuditEvents(ctx, "sel-rd", ListOptions{Filter: `action = "` + ActionDocumentReplaced + `"`})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("replacement events: %+v, %v", page.Items, err)
	}
	payload := string(page.Items[0].Payload)
	for _, sum := range []string{lhkpn.SHA256, newer.SHA256} {
		if !strings.Contains(payload, sum) {
			t.Fatalf("the replacement's payload %s lacks digest %s", payload, sum)
		}
	}
	// A retry answers the same and records nothing more.
	if again, err := s.ReplaceDocument(ctx, replace); err != nil || again.Documents[1].ID != newer.ID {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	if n := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-rd", ActionDocumentReplaced); n != events+1 {
		t.Fatalf("a retry recorded another event: %d", n)
	}
	// The replaced document cannot come back.
	back := replace
	back.RequestID, back.DocumentID = "replace-2", lhkpn.ID
	if _, err := s.ReplaceDocument(ctx, back); !slices.Equal(documentProblems(t, err), []string{"lhkpn:in_use"}) {
		t.Fatalf("the replaced document again: %v", err)
	}

	// After the close the documents are frozen and replacements refused.
	third := upload(t, s, "sel-rd", "cand-1", "lhkpn", "up-lhkpn-3")
	closedAt := t0.Add(240 * time.Hour)
	if _, err := s.TakeSnapshot(ctx, SnapshotInput{WorkflowID: workflowPrefix + "sel-rd", SelectionID: "sel-rd", Key: "snapshot-1", ClosedAt: closedAt}, closedAt); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ijazah.ID, newer.ID} {
		if d, _ := s.GetDocument(ctx, id); !d.FreezeTime.Equal(closedAt) {
			t.Fatalf("document %s not frozen at the close: %+v", id, d)
		}
	}
	late := replace
	late.RequestID, late.DocumentID, late.Now = "replace-3", third.ID, at.Add(time.Hour)
	if _, err := s.ReplaceDocument(ctx, late); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("replacement after the close: %v, want ErrFailedPrecondition", err)
	}
	late.Now = closedAt.Add(time.Hour)
	if _, err := s.ReplaceDocument(ctx, late); !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("replacement after the window: %v, want ErrFailedPrecondition", err)
	}
	// The replacement made before the close still answers its retry.
	if again, err := s.ReplaceDocument(ctx, replace); err != nil || again.Documents[1].ID != newer.ID {
		t.Fatalf("retry after the close: %+v, %v", again, err)
	}
}

// testSnapshotCoversDocuments: the snapshot digest covers each application's documents, as
// the application row describes them and as the documents table stores them.
func testSnapshotCoversDocuments(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	docSelection(t, s, "sel-sd")
	ijazah := upload(t, s, "sel-sd", "cand-1", "ijazah", "up-ijazah")
	lhkpn := upload(t, s, "sel-sd", "cand-1", "lhkpn", "up-lhkpn")
	app := submit(t, s, withDocs("sel-sd", 1, ijazah, lhkpn))
	closedAt := t0.Add(240 * time.Hour)
	snap, err := s.TakeSnapshot(ctx, SnapshotInput{WorkflowID: workflowPrefix + "sel-sd", SelectionID: "sel-sd", Key: "snapshot-1", ClosedAt: closedAt}, closedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Applications) != 1 || snap.Applications[0].ID != app.ID {
		t.Fatalf("snapshot %+v", snap)
	}
	check := func(want bool, what string) {
		t.Helper()
		chk, err := s.VerifySnapshot(ctx, "sel-sd", "snapshot-1")
		if err != nil || chk.OK != want {
			t.Fatalf("%s: snapshot check %+v, %v; want OK %v", what, chk, err, want)
		}
	}
	check(true, "intact")
	// Erasure after the retention changes the state, not what the digest covers.
	if err := s.db.Exec("UPDATE documents SET state = ?, erase_time = ? WHERE id = ?", DocumentStateErased, closedAt, lhkpn.ID).Error; err != nil {
		t.Fatal(err)
	}
	check(true, "erased")
	forged := sha256Hex([]byte("forged"))
	if err := s.db.Exec("UPDATE documents SET sha256 = ? WHERE id = ?", forged, lhkpn.ID).Error; err != nil {
		t.Fatal(err)
	}
	check(false, "a stored document's digest altered")
	if err := s.db.Exec("UPDATE documents SET sha256 = ? WHERE id = ?", lhkpn.SHA256, lhkpn.ID).Error; err != nil {
		t.Fatal(err)
	}
	check(true, "restored")
	var row applicationRow
	if err := s.db.Take(&row, "id = ?", app.ID).Error; err != nil {
		t.Fatal(err)
	}
	altered := strings.ReplaceAll(row.Documents, lhkpn.SHA256, forged)
	if err := s.db.Exec("UPDATE applications SET documents = ? WHERE id = ?", altered, app.ID).Error; err != nil {
		t.Fatal(err)
	}
	check(false, "the application row's digest altered")
}
