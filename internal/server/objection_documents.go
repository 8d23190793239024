package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/bkpsdm/seleksi/internal/store"
)

// documentGetter reads one stored document.
type documentGetter interface {
	GetDocument(ctx context.Context, id string) (store.StoredDocument, error)
}

// StoreDocumentChecker checks an objection's clarifying document against the document store:
// it must be the caller's own upload of kind `objection` for this selection, not attached,
// replaced or erased. Every other case is reported as not found, so that a candidate cannot
// learn about other candidates' documents by naming them.
type StoreDocumentChecker struct {
	docs documentGetter
}

var _ DocumentChecker = StoreDocumentChecker{}

// NewStoreDocumentChecker builds the checker over the store.
func NewStoreDocumentChecker(docs documentGetter) StoreDocumentChecker {
	return StoreDocumentChecker{docs: docs}
}

// CheckOwned implements DocumentChecker.
func (c StoreDocumentChecker) CheckOwned(ctx context.Context, selectionID, owner, document string) error {
	id, ok := strings.CutPrefix(document, "documents/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("objection document %q: %w", document, store.ErrNotFound)
	}
	d, err := c.docs.GetDocument(ctx, id)
	if err != nil {
		return fmt.Errorf("objection document %s: %w", id, err)
	}
	if d.SelectionID != selectionID || d.Owner != owner || d.Kind != store.DocumentKindObjection || d.State != store.DocumentStateUploaded {
		return fmt.Errorf("objection document %s is not the caller's objection upload for %s: %w", id, selectionID, store.ErrNotFound)
	}
	return nil
}
