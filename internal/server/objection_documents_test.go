package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// documentCheck is a DocumentChecker that answers err and remembers what it was asked.
type documentCheck struct {
	err   error
	asked []string
}

func (d *documentCheck) CheckOwned(_ context.Context, selectionID, owner, document string) error {
	d.asked = append(d.asked, selectionID+"|"+owner+"|"+document)
	return d.err
}

// TestObjectionDocumentIsChecked: an objection's clarifying document goes to the workflow
// only once the document checker says the candidate owns it; without a checker every
// document is refused, and an objection without one never asks. The contested items reach
// the workflow as given.
func TestObjectionDocumentIsChecked(t *testing.T) {
	tests := []struct {
		name     string
		checker  *documentCheck // nil: the default
		document string
		wantCode codes.Code // codes.OK: sent to the workflow
	}{
		{"no checker refuses a document", nil, "documents/doc-1", codes.FailedPrecondition},
		{"not the candidate's document", &documentCheck{err: fmt.Errorf("document doc-1: %w", store.ErrNotFound)}, "documents/doc-1", codes.InvalidArgument},
		{"the document store fails", &documentCheck{err: errors.New("disk on fire")}, "documents/doc-1", codes.Internal},
		{"the candidate's document", &documentCheck{}, "documents/doc-1", codes.OK},
		{"no document, no checker", nil, "", codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &commandStore{app: store.Application{ID: "app-1", SelectionID: "kadis-2026", Owner: "act-cand-1",
				State: store.StateEliminated, CurrentStage: string(workflows.StageAdministrativeScreening)}}
			fw := &fakeWorkflows{updateErr: errors.New("stop after the update")}
			s := NewApplicationServer(st, fw, testCatalog(t), slog.New(slog.DiscardHandler), nil)
			if tt.checker != nil {
				s.UseDocuments(tt.checker)
			}
			_, err := s.FileObjection(candidateCtx("cand-1"), &seleksiv1.FileObjectionRequest{
				Parent: "selections/kadis-2026/applications/app-1", RequestId: "object-0001",
				Objection: &seleksiv1.Objection{Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Reason: "LHKPN terlampir",
					Items: []string{"document:lhkpn"}, Document: tt.document}})
			sent := fw.got.UpdateName == workflows.UpdateFileObjection
			if tt.wantCode != codes.OK {
				if status.Code(err) != tt.wantCode || sent {
					t.Fatalf("error %v (sent %v), want %s and nothing sent", err, sent, tt.wantCode)
				}
				return
			}
			if !sent {
				t.Fatalf("not sent to the workflow: %v", err)
			}
			args := fw.got.Args[0].(workflows.FileObjectionArgs)
			if !slices.Equal(args.Items, []string{"document:lhkpn"}) || args.Document != tt.document {
				t.Errorf("sent %+v", args)
			}
			if tt.checker != nil && (len(tt.checker.asked) != 1 || tt.checker.asked[0] != "kadis-2026|act-cand-1|documents/doc-1") {
				t.Errorf("checker asked %v", tt.checker.asked)
			}
		})
	}
}

// storedDocs is a document store of fixed rows.
type storedDocs map[string]store.StoredDocument

func (s storedDocs) GetDocument(_ context.Context, id string) (store.StoredDocument, error) {
	d, ok := s[id]
	if !ok {
		return store.StoredDocument{}, fmt.Errorf("document %s: %w", id, store.ErrNotFound)
	}
	return d, nil
}

// TestStoreDocumentChecker: only the caller's own objection upload for the selection, still
// unattached, may go with an objection; every other document is "not found" alike.
func TestStoreDocumentChecker(t *testing.T) {
	own := store.StoredDocument{ID: "doc-own", SelectionID: "kadis-2026", Owner: "act-1", Kind: store.DocumentKindObjection, State: store.DocumentStateUploaded}
	with := func(f func(*store.StoredDocument)) store.StoredDocument { d := own; f(&d); return d }
	docs := storedDocs{
		"doc-own":      own,
		"doc-other":    with(func(d *store.StoredDocument) { d.ID, d.Owner = "doc-other", "act-2" }),
		"doc-elsewhr":  with(func(d *store.StoredDocument) { d.ID, d.SelectionID = "doc-elsewhr", "sekda-2026" }),
		"doc-required": with(func(d *store.StoredDocument) { d.ID, d.Kind = "doc-required", "lhkpn" }),
		"doc-attached": with(func(d *store.StoredDocument) { d.ID, d.State = "doc-attached", store.DocumentStateAttached }),
		"doc-erased":   with(func(d *store.StoredDocument) { d.ID, d.State = "doc-erased", store.DocumentStateErased }),
	}
	c := NewStoreDocumentChecker(docs)
	for _, tt := range []struct {
		document string
		ok       bool
	}{
		{"documents/doc-own", true},
		{"documents/doc-other", false},
		{"documents/doc-elsewhr", false},
		{"documents/doc-required", false},
		{"documents/doc-attached", false},
		{"documents/doc-erased", false},
		{"documents/doc-missing", false},
		{"doc-own", false},
		{"documents/doc-own/x", false},
	} {
		err := c.CheckOwned(context.Background(), "kadis-2026", "act-1", tt.document)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("%s: %v, want ok=%v or not found", tt.document, err, tt.ok)
		}
	}
}
