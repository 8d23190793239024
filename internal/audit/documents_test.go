package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// The store's action names this package reads bundles by.
func TestDocumentActionsAreTheStores(t *testing.T) {
	if actionDocumentUploaded != store.ActionDocumentUploaded || actionDocumentReplaced != store.ActionDocumentReplaced {
		t.Fatalf("audit reads %s and %s, the store writes %s and %s", actionDocumentUploaded, actionDocumentReplaced,
			store.ActionDocumentUploaded, store.ActionDocumentReplaced)
	}
}

// uploadChain is a chain of two uploads as the store records them.
func uploadChain(t *testing.T, docs []DocumentDigest) []AuditEvent {
	t.Helper()
	var events []AuditEvent
	for i, d := range docs {
		payload, err := CanonicalJSON(mustJSON(t, map[string]any{"documentId": d.DocumentID, "kind": d.Kind, "mediaType": d.MediaType,
			"sizeBytes": d.SizeBytes, "sha256": d.SHA256, "pages": 1, "uploadId": "up-" + d.DocumentID}))
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := PayloadDigest(payload)
		e := AuditEvent{SelectionID: "sel-doc", Seq: int64(i + 1), UpdateID: "up-" + d.DocumentID, ActorSubject: "act-1",
			Role: "ROLE_CANDIDATE", Action: actionDocumentUploaded, Target: "documents/" + d.DocumentID,
			WorkflowTime: time.Date(2026, 3, 2, 1, i, 0, 0, time.UTC), Payload: payload, PayloadSHA256: sum}
		var prev *AuditEvent
		if i > 0 {
			prev = &events[i-1]
		}
		events = append(events, Link(prev, e))
	}
	return events
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBundleDocuments: a bundle carries its documents' descriptions through writing and
// reading; CheckDocuments finds each one's upload in the chain and names a document whose
// digest, size, kind or media type differs, or that has no upload; the lookup by digest
// finds the documents of a file.
func TestBundleDocuments(t *testing.T) {
	docs := []DocumentDigest{
		{DocumentID: "doc-aaaaaaaaaaaaaaaa", ApplicationID: "app-1", Kind: "ijazah", MediaType: "application/pdf", SizeBytes: 1200,
			SHA256: strings.Repeat("a", 64), State: "attached"},
		{DocumentID: "doc-bbbbbbbbbbbbbbbb", Kind: "lhkpn", MediaType: "image/png", SizeBytes: 900,
			SHA256: strings.Repeat("b", 64), State: "uploaded"},
	}
	events := uploadChain(t, docs)
	var buf bytes.Buffer
	key := testKey("server")
	if err := WriteBundle(&buf, Bundle{SelectionID: "sel-doc", WorkflowID: "wf", CreatedAt: time.Now(),
		Histories: []RunHistory{{RunID: "run-1", JSON: []byte(`{"events":[]}`)}}, Events: events, Documents: docs}, key); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBundle(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Documents) != 2 || b.Documents[0] != docs[0] || b.Documents[1] != docs[1] {
		t.Fatalf("documents read back: %+v", b.Documents)
	}
	if fs := b.CheckParts(); len(fs) != 0 {
		t.Fatalf("parts: %v", fs)
	}
	if fs := CheckDocuments(b.Events, b.Documents); len(fs) != 0 {
		t.Fatalf("intact documents: %v", fs)
	}
	if got := DocumentsWithDigest(b.Documents, strings.Repeat("B", 64)); len(got) != 1 || got[0].DocumentID != docs[1].DocumentID {
		t.Fatalf("lookup by digest: %+v", got)
	}
	if got := DocumentsWithDigest(b.Documents, strings.Repeat("c", 64)); len(got) != 0 {
		t.Fatalf("lookup of an unknown digest: %+v", got)
	}
	for name, edit := range map[string]func(d *DocumentDigest){
		"digest":     func(d *DocumentDigest) { d.SHA256 = strings.Repeat("c", 64) },
		"size":       func(d *DocumentDigest) { d.SizeBytes++ },
		"kind":       func(d *DocumentDigest) { d.Kind = "sehat" },
		"media type": func(d *DocumentDigest) { d.MediaType = "image/jpeg" },
		"no upload":  func(d *DocumentDigest) { d.DocumentID = "doc-cccccccccccccccc" },
	} {
		altered := append([]DocumentDigest(nil), docs...)
		edit(&altered[1])
		fs := CheckDocuments(events, altered)
		if len(fs) != 1 || fs[0].Kind != KindDocumentMismatch {
			t.Errorf("%s altered: %v", name, fs)
		}
	}
	// A bundle written before bundles described documents is not checked.
	if fs := CheckDocuments(events, nil); fs != nil {
		t.Fatalf("no documents part: %v", fs)
	}
	// VerifyBundle runs the check, whatever else it finds.
	b.Documents[0].SHA256 = strings.Repeat("d", 64)
	rep, err := VerifyBundle(context.Background(), b, key.Public().(ed25519.PublicKey))
	if err != nil || !HasKind(rep.Findings, KindDocumentMismatch) {
		t.Fatalf("VerifyBundle of an altered document: %v, %v", rep, err)
	}
}
