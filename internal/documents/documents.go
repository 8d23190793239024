// Package documents owns the files candidates upload: resumable uploads (the tus protocol),
// the content check of each finished upload, the content-addressed storage of its bytes
// (through blob.Store), and the document rows and audit events that record them (through
// the store). Reading documents (descriptions, downloads, access records) is served by the
// gRPC DocumentService in internal/server, which uses the same store and blob.Store.
package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Defaults of a selection's DocumentPolicy.
const (
	DefaultMaxBytes = 5 << 20
	DefaultMaxPages = 50
	// MaxBytesLimit is the largest max_document_bytes a selection may set (the proto's
	// bound): no upload to Seleksi is ever larger.
	MaxBytesLimit = 50 << 20
	// DefaultMaxPixels bounds an image's width × height, against decompression bombs.
	DefaultMaxPixels = 50_000_000
)

// DefaultMediaTypes are the types accepted when a selection names none.
func DefaultMediaTypes() []string { return []string{"application/pdf", "image/jpeg", "image/png"} }

// Policy is what a selection accepts in one document.
type Policy struct {
	MaxBytes   int64
	MediaTypes []string
	MaxPages   int
	MaxPixels  int64
}

// Result is what an Inspector found in a file.
type Result struct {
	// MediaType is the type sniffed from the content.
	MediaType string
	Size      int64
	// SHA256 is the content's digest, lower-case hex.
	SHA256 string
	// Pages of a PDF; Width and Height of an image.
	Pages, Width, Height int
}

// Inspector checks a finished upload's content against a policy: its real type, and that it
// is a well-formed file of that type within the limits. A file it refuses is a *Rejection;
// any other error means the check itself could not run.
type Inspector interface {
	Inspect(ctx context.Context, r io.ReaderAt, size int64, p Policy) (Result, error)
}

// Rejection is a file refused for what it is: a message code (rendered through the i18n
// catalog, e.g. "document.type_not_allowed") with its parameters, and the HTTP status that
// fits (415 for a type, 413 for a size, 422 otherwise; 0 means 422).
type Rejection struct {
	Code   string
	Params map[string]string
	Status int
}

func (r *Rejection) Error() string { return "document refused: " + r.Code }

// Message codes of refusals this package raises itself (internal/i18n renders them).
const (
	CodeTooLarge            = "document.upload_too_large"
	CodeEmpty               = "document.empty"
	CodeLengthRequired      = "document.length_required"
	CodeTypeNotAllowed      = "document.type_not_allowed"
	CodeKindNotRequired     = "document.kind_not_required"
	CodeObjectionNotAllowed = "document.objection_not_allowed"
	CodeWindowClosed        = "document.window_closed"
	CodeSelectionNotFound   = "document.selection_not_found"
	CodeMetadataMissing     = "document.metadata_missing"
	CodeCandidatesOnly      = "document.candidates_only"
	CodeUnauthenticated     = "document.unauthenticated"
	CodeUploadNotFound      = "document.upload_not_found"
	CodeSizeMismatch        = "document.size_mismatch"
	// CodeRefused is the fallback for an inspector's code the catalog does not know.
	CodeRefused = "document.refused"
	// CodeUnavailable: the upload could not be finished now; the client may try again.
	CodeUnavailable = "document.unavailable"
)

// Store is what the documents service needs of the store.
type Store interface {
	GetSelection(ctx context.Context, id string) (store.Selection, error)
	ActorID(ctx context.Context, issuer, subject string) (string, error)
	CreateDocument(ctx context.Context, in store.NewDocument) (store.StoredDocument, error)
	DocumentByUpload(ctx context.Context, uploadID string) (store.StoredDocument, error)
}

// selectionRules are what a selection's definition says about its documents.
type selectionRules struct {
	policy    Policy
	kinds     []string
	objection bool
}

// rulesOf reads a selection's document rules from its stored definition (the protojson of
// the Selection it was created with), filling in the defaults.
func rulesOf(sel store.Selection) (selectionRules, error) {
	var def seleksiv1.Selection
	if len(sel.Config) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(sel.Config, &def); err != nil {
			return selectionRules{}, fmt.Errorf("selection %q definition: %w", sel.ID, err)
		}
	}
	dp := def.GetDocumentPolicy()
	r := selectionRules{policy: Policy{
		MaxBytes: dp.GetMaxDocumentBytes(), MediaTypes: dp.GetDocumentMediaTypes(), MaxPages: int(dp.GetMaxPages()),
		MaxPixels: DefaultMaxPixels,
	}, objection: dp.GetObjectionDocuments()}
	if r.policy.MaxBytes <= 0 {
		r.policy.MaxBytes = DefaultMaxBytes
	}
	r.policy.MaxBytes = min(r.policy.MaxBytes, MaxBytesLimit)
	if len(r.policy.MediaTypes) == 0 {
		r.policy.MediaTypes = DefaultMediaTypes()
	}
	if r.policy.MaxPages <= 0 {
		r.policy.MaxPages = DefaultMaxPages
	}
	for _, d := range def.GetRequirements().GetRequiredDocuments() {
		r.kinds = append(r.kinds, d.GetId())
	}
	return r, nil
}

// checkKind refuses a kind the selection does not ask for.
func (r selectionRules) checkKind(kind string) error {
	switch {
	case kind == store.DocumentKindObjection && r.objection:
		return nil
	case kind == store.DocumentKindObjection:
		return &Rejection{Code: CodeObjectionNotAllowed, Status: 422}
	case !slices.Contains(r.kinds, kind):
		return &Rejection{Code: CodeKindNotRequired, Params: map[string]string{"kind": kind, "kinds": strings.Join(r.kinds, ", ")}, Status: 422}
	}
	return nil
}

// checkWindow refuses a required document outside the announcement window, as intake does
// (store.SubmitApplication): an objection's attachment comes later and is not held to it.
func checkWindow(sel store.Selection, kind string, now time.Time) error {
	if kind == store.DocumentKindObjection {
		return nil
	}
	w := sel.Window
	if sel.Stage != store.StageAnnouncement || sel.IntakeFrozen || w.Opens.IsZero() || w.ClosesWall.IsZero() ||
		now.Before(w.Opens) || !now.Before(w.ClosesWall) {
		return &Rejection{Code: CodeWindowClosed, Status: 422}
	}
	return nil
}

// BlobKey is where content with the digest is stored: content-addressed, so identical
// files are stored once and a key says nothing about its owner.
func BlobKey(sha256Hex string) string { return "sha256/" + sha256Hex[:2] + "/" + sha256Hex }

var errNoPrincipal = errors.New("documents: no authenticated caller")
