package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Documents are files candidates upload to Seleksi (see migration 00015). The store keeps
// what the server found in each file (sniffed media type, size, SHA-256, pages) and where its
// bytes are (a content-addressed blob key); the bytes themselves live in document storage
// (internal/documents/blob). Every access to a document by someone is recorded, in
// document_accesses and as an audit event in the selection's chain: accountability for
// personal data under UU 27/2022 (PDP).

// Document states.
const (
	// DocumentStateUploaded: stored, not yet referenced by an application.
	DocumentStateUploaded = "uploaded"
	// DocumentStateAttached: an application references the document (ApplicationID).
	DocumentStateAttached = "attached"
	// DocumentStateErased: the retention has passed and the bytes are gone; the row keeps
	// the digest for the audit.
	DocumentStateErased = "erased"
)

// DocumentKindObjection is the reserved kind of a document attached to an objection (a
// clarifying document); every other kind is the ID of one of the selection's required
// documents.
const DocumentKindObjection = "objection"

// Purposes of a document access.
const (
	// AccessMetadata: the document's description was read (name, type, size, digest).
	AccessMetadata = "metadata"
	// AccessDownload: the document's content was read.
	AccessDownload = "download"
)

// Audit actions of documents. Like the other actions the store records on its own, they
// carry no command seq and are checked by the chain alone.
const (
	ActionDocumentUploaded = "DocumentUploaded"
	ActionDocumentViewed   = "DocumentViewed"
)

// documentPrefix starts every document ID.
const documentPrefix = "doc-"

// StoredDocument is a document as the store records it.
type StoredDocument struct {
	ID          string
	SelectionID string
	// Owner is the actor ID of the candidate who uploaded it.
	Owner string
	Kind  string
	// UploadID is the resumable upload that produced it.
	UploadID  string
	FileName  string
	MediaType string
	SizeBytes int64
	// SHA256 is the content's digest in lower-case hex, computed by the server.
	SHA256 string
	// Pages is the page count of a PDF; 0 for images.
	Pages   int
	BlobKey string
	State   string
	// ApplicationID is the application that references it, when attached.
	ApplicationID string
	CreateTime    time.Time
	// AttachTime, FreezeTime and EraseTime are zero until the document is attached to an
	// application, frozen at the announcement close, and erased.
	AttachTime time.Time
	FreezeTime time.Time
	EraseTime  time.Time
}

// NewDocument is a document whose bytes are already in document storage.
type NewDocument struct {
	SelectionID string
	Owner       string
	Kind        string
	// UploadID makes creation idempotent: creating a document for an upload that already
	// produced one returns that document, if it describes the same content.
	UploadID  string
	FileName  string
	MediaType string
	SizeBytes int64
	SHA256    string
	Pages     int
	BlobKey   string
	// RequireOpenWindow refuses the document (ErrFailedPrecondition) unless the selection's
	// announcement window is open at Now, checked under the selection's lock as intake
	// checks it: required documents are uploaded while applications are taken.
	RequireOpenWindow bool
	Now               time.Time
}

// DocumentAccess is one recorded access to a document.
type DocumentAccess struct {
	ID          string
	DocumentID  string
	SelectionID string
	// Actor is who read it: their actor ID and role.
	Actor      Actor
	Purpose    string
	AccessTime time.Time
	// AuditSeq is the audit event that records the same access in the selection's chain.
	AuditSeq int64
}

// DocumentAccessInput is an access to record.
type DocumentAccessInput struct {
	DocumentID string
	Actor      Actor
	Purpose    string
	Now        time.Time
}

// DocumentFilter scopes ListDocuments: the selection is required; Owner and ApplicationID,
// when set, narrow the list to one candidate's documents or one application's.
type DocumentFilter struct {
	SelectionID   string
	Owner         string
	ApplicationID string
}

type documentRow struct {
	ID            string `gorm:"primaryKey"`
	SelectionID   string
	Owner         string
	Kind          string
	UploadID      string
	FileName      string
	MediaType     string
	SizeBytes     int64
	SHA256        string `gorm:"column:sha256"`
	Pages         int
	BlobKey       string
	State         string
	ApplicationID *string
	CreateTime    time.Time `gorm:"autoCreateTime:false"`
	AttachTime    *time.Time
	FreezeTime    *time.Time
	EraseTime     *time.Time
}

func (documentRow) TableName() string { return "documents" }

func (r *documentRow) document() StoredDocument {
	d := StoredDocument{
		ID: r.ID, SelectionID: r.SelectionID, Owner: r.Owner, Kind: r.Kind, UploadID: r.UploadID, FileName: r.FileName,
		MediaType: r.MediaType, SizeBytes: r.SizeBytes, SHA256: r.SHA256, Pages: r.Pages, BlobKey: r.BlobKey, State: r.State,
		CreateTime: r.CreateTime.UTC(), AttachTime: fromNull(r.AttachTime), FreezeTime: fromNull(r.FreezeTime),
		EraseTime: fromNull(r.EraseTime),
	}
	if r.ApplicationID != nil {
		d.ApplicationID = *r.ApplicationID
	}
	return d
}

type documentAccessRow struct {
	ID          string `gorm:"primaryKey"`
	DocumentID  string
	SelectionID string
	Actor       string
	Role        string
	Purpose     string
	AccessTime  time.Time
	AuditSeq    int64
}

func (documentAccessRow) TableName() string { return "document_accesses" }

func (r *documentAccessRow) access() DocumentAccess {
	return DocumentAccess{ID: r.ID, DocumentID: r.DocumentID, SelectionID: r.SelectionID,
		Actor: Actor{Subject: r.Actor, Role: r.Role}, Purpose: r.Purpose, AccessTime: r.AccessTime.UTC(), AuditSeq: r.AuditSeq}
}

// opaqueID returns prefix followed by 16 random lower-case base32 letters and digits (80
// bits): IDs that fit the API's resource ID pattern and say nothing about their owner.
func opaqueID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

func validateNewDocument(in NewDocument) error {
	switch {
	case in.SelectionID == "" || in.Owner == "" || in.Kind == "" || in.UploadID == "":
		return invalid("selection, owner, kind and upload ID are required")
	case in.MediaType == "" || in.BlobKey == "":
		return invalid("media type and blob key are required")
	case in.SizeBytes <= 0:
		return invalid("size must be positive")
	case !sha256Pattern.MatchString(in.SHA256):
		return invalid("SHA-256 must be 64 lower-case hex digits")
	case in.Pages < 0:
		return invalid("pages must not be negative")
	case in.Now.IsZero():
		return invalid("time is required")
	}
	return nil
}

// CreateDocument records a stored document and its audit event (ActionDocumentUploaded,
// whose payload carries the digest and never the content or the file name) in one
// transaction. The caller stores the bytes first; should an erasure of the last other
// document with the same content have deleted the blob meanwhile, the caller finds it
// missing after this returns and stores it again (retention.go explains the lock that makes
// this check sufficient). It is idempotent by UploadID: a retry for the same upload and content returns
// the first document; the same upload with other content is ErrConflict. A missing selection
// is ErrNotFound; a closed window, when required, ErrFailedPrecondition.
func (s *Store) CreateDocument(ctx context.Context, in NewDocument) (StoredDocument, error) {
	op := fmt.Sprintf("store: create document of selection %q", in.SelectionID)
	if err := validateNewDocument(in); err != nil {
		return StoredDocument{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	var doc documentRow
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		doc = documentRow{} // a retried transaction starts afresh
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		err = tx.Take(&doc, "upload_id = ?", in.UploadID).Error
		switch {
		case err == nil:
			if doc.SelectionID != in.SelectionID || doc.Owner != in.Owner || doc.Kind != in.Kind || doc.SHA256 != in.SHA256 {
				return fmt.Errorf("upload %q already produced another document: %w", in.UploadID, ErrConflict)
			}
			return nil
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		if in.RequireOpenWindow {
			if why := sel.windowOpen(now); why != "" {
				return fmt.Errorf("%s: %w", why, ErrFailedPrecondition)
			}
		}
		// An erasure of another document with the same content decides under this lock
		// whether the shared blob is still used (see EraseDocument).
		if err := s.lockBlobKey(tx, in.BlobKey); err != nil {
			return err
		}
		doc = documentRow{
			ID: opaqueID(documentPrefix), SelectionID: in.SelectionID, Owner: in.Owner, Kind: in.Kind, UploadID: in.UploadID,
			FileName: in.FileName, MediaType: in.MediaType, SizeBytes: in.SizeBytes, SHA256: in.SHA256, Pages: in.Pages,
			BlobKey: in.BlobKey, State: DocumentStateUploaded, CreateTime: now,
		}
		if err := tx.Create(&doc).Error; err != nil {
			return conflictOr(err, "document")
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.UploadID, Actor: Actor{Subject: in.Owner, Role: "ROLE_CANDIDATE"},
			Action: ActionDocumentUploaded, Target: "documents/" + doc.ID, WorkflowTime: now,
			Payload: map[string]any{"documentId": doc.ID, "kind": in.Kind, "mediaType": in.MediaType,
				"sizeBytes": in.SizeBytes, "sha256": in.SHA256, "pages": in.Pages, "uploadId": in.UploadID,
				"createTime": now.Format(time.RFC3339Nano)},
		}, now)
		return err
	})
	if err != nil {
		return StoredDocument{}, fmt.Errorf("%s: %w", op, err)
	}
	return doc.document(), nil
}

// GetDocument returns one document; ErrNotFound when there is none.
func (s *Store) GetDocument(ctx context.Context, id string) (StoredDocument, error) {
	var row documentRow
	if err := s.db.WithContext(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return StoredDocument{}, fmt.Errorf("store: get document %q: %w", id, notFound(err))
	}
	return row.document(), nil
}

// DocumentByUpload is the document a finished resumable upload produced (ErrNotFound when
// none did), so that a client whose last chunk's answer was lost can still learn it.
func (s *Store) DocumentByUpload(ctx context.Context, uploadID string) (StoredDocument, error) {
	var row documentRow
	if err := s.db.WithContext(ctx).Take(&row, "upload_id = ?", uploadID).Error; err != nil {
		return StoredDocument{}, fmt.Errorf("store: document of upload %q: %w", uploadID, notFound(err))
	}
	return row.document(), nil
}

func documentFields(name string) (fieldSpec, bool) {
	switch name {
	case "kind":
		return fieldSpec{"kind", anyValue}, true
	case "state":
		return fieldSpec{"state", func(v string) (string, bool) {
			v = strings.ToLower(v)
			return v, v == DocumentStateUploaded || v == DocumentStateAttached || v == DocumentStateReplaced || v == DocumentStateErased
		}}, true
	}
	return fieldSpec{}, false
}

func documentOrders(name string) (orderSpec, bool) {
	field, desc := orderField(name)
	switch field {
	case "create_time":
		return orderSpec{columns: []string{"create_time", "id"}, kinds: []keyKind{keyTime, keyString}, desc: desc}, true
	case "name", "id":
		return orderSpec{columns: []string{"id"}, kinds: []keyKind{keyString}, desc: desc}, true
	}
	return orderSpec{}, false
}

// ListDocuments lists a selection's documents, narrowed by f (and by opts.Owner, which
// keeps one candidate's own documents as in the other lists). The filter accepts
// `kind = X` and `state = X`; order_by accepts create_time (the default) and name, each
// optionally "desc". A missing selection is ErrNotFound.
func (s *Store) ListDocuments(ctx context.Context, f DocumentFilter, opts ListOptions) (Page[StoredDocument], error) {
	op := fmt.Sprintf("store: list documents of selection %q", f.SelectionID)
	if f.SelectionID == "" {
		return Page[StoredDocument]{}, fmt.Errorf("%s: %w", op, invalid("selection is required"))
	}
	scope := "documents:" + f.SelectionID + "/" + f.Owner + "/" + opts.Owner + "/" + f.ApplicationID
	q, err := s.newListQuery(scope, opts, documentFields, documentOrders, "create_time")
	if err != nil {
		return Page[StoredDocument]{}, fmt.Errorf("%s: %w", op, err)
	}
	if q.after == nil {
		if err := s.requireSelection(ctx, f.SelectionID); err != nil {
			return Page[StoredDocument]{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	base := s.db.WithContext(ctx).Model(&documentRow{}).Where("selection_id = ?", f.SelectionID)
	for _, owner := range []string{f.Owner, opts.Owner} {
		if owner != "" {
			base = base.Where("owner = ?", owner)
		}
	}
	if f.ApplicationID != "" {
		base = base.Where("application_id = ?", f.ApplicationID)
	}
	rows, next, total, err := runList(s, q, base, func(r *documentRow) []any {
		if q.order.columns[0] == "id" {
			return []any{r.ID}
		}
		return []any{r.CreateTime, r.ID}
	})
	if err != nil {
		return Page[StoredDocument]{}, fmt.Errorf("%s: %w", op, err)
	}
	out := Page[StoredDocument]{NextPageToken: next, TotalSize: total}
	for i := range rows {
		out.Items = append(out.Items, rows[i].document())
	}
	return out, nil
}

// RecordDocumentAccess records that in.Actor read the document for in.Purpose, in
// document_accesses and as an audit event (ActionDocumentViewed) in the selection's chain,
// in one transaction: the access is recorded in both or in neither. Callers record before
// they answer, so that no read goes unrecorded. A missing document is ErrNotFound.
func (s *Store) RecordDocumentAccess(ctx context.Context, in DocumentAccessInput) (DocumentAccess, error) {
	op := fmt.Sprintf("store: record access to document %q", in.DocumentID)
	switch {
	case in.DocumentID == "" || in.Actor.Subject == "" || in.Actor.Role == "":
		return DocumentAccess{}, fmt.Errorf("%s: %w", op, invalid("document and actor are required"))
	case in.Purpose != AccessMetadata && in.Purpose != AccessDownload:
		return DocumentAccess{}, fmt.Errorf("%s: %w", op, invalid("purpose %q is neither %s nor %s", in.Purpose, AccessMetadata, AccessDownload))
	case in.Now.IsZero():
		return DocumentAccess{}, fmt.Errorf("%s: %w", op, invalid("time is required"))
	}
	now := instant(in.Now)
	var row documentAccessRow
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var doc documentRow
		if err := tx.Select("id", "selection_id", "sha256").Take(&doc, "id = ?", in.DocumentID).Error; err != nil {
			return notFound(err)
		}
		sel, err := s.lockSelection(tx, doc.SelectionID)
		if err != nil {
			return err
		}
		row = documentAccessRow{ID: opaqueID("acc-"), DocumentID: doc.ID, SelectionID: doc.SelectionID,
			Actor: in.Actor.Subject, Role: in.Actor.Role, Purpose: in.Purpose, AccessTime: now}
		ev, err := s.appendAudit(tx, sel, auditInput{
			UpdateID: row.ID, Actor: in.Actor, Action: ActionDocumentViewed, Target: "documents/" + doc.ID,
			WorkflowTime: now,
			Payload: map[string]any{"documentId": doc.ID, "accessId": row.ID, "purpose": in.Purpose, "sha256": doc.SHA256,
				"accessTime": now.Format(time.RFC3339Nano)},
		}, now)
		if err != nil {
			return err
		}
		row.AuditSeq = ev.Seq
		return tx.Create(&row).Error
	})
	if err != nil {
		return DocumentAccess{}, fmt.Errorf("%s: %w", op, err)
	}
	return row.access(), nil
}

func documentAccessFields(name string) (fieldSpec, bool) {
	switch name {
	case "purpose":
		return fieldSpec{"purpose", func(v string) (string, bool) {
			v = strings.ToLower(v)
			return v, v == AccessMetadata || v == AccessDownload
		}}, true
	case "role":
		return fieldSpec{"role", enumValue("ROLE_", knownRole)}, true
	}
	return fieldSpec{}, false
}

func documentAccessOrders(name string) (orderSpec, bool) {
	field, desc := orderField(name)
	if field == "access_time" {
		return orderSpec{columns: []string{"access_time", "id"}, kinds: []keyKind{keyTime, keyString}, desc: desc}, true
	}
	return orderSpec{}, false
}

// ListDocumentAccesses lists the recorded accesses to a document, oldest first by default.
// The filter accepts `purpose = X` and `role = X`; order_by accepts access_time, optionally
// "desc". A missing document is ErrNotFound.
func (s *Store) ListDocumentAccesses(ctx context.Context, documentID string, opts ListOptions) (Page[DocumentAccess], error) {
	op := fmt.Sprintf("store: list accesses to document %q", documentID)
	q, err := s.newListQuery("document-accesses:"+documentID, opts, documentAccessFields, documentAccessOrders, "access_time")
	if err != nil {
		return Page[DocumentAccess]{}, fmt.Errorf("%s: %w", op, err)
	}
	if q.after == nil {
		var n int64
		if err := s.db.WithContext(ctx).Model(&documentRow{}).Where("id = ?", documentID).Count(&n).Error; err != nil {
			return Page[DocumentAccess]{}, fmt.Errorf("%s: %w", op, err)
		}
		if n == 0 {
			return Page[DocumentAccess]{}, fmt.Errorf("%s: %w", op, ErrNotFound)
		}
	}
	base := s.db.WithContext(ctx).Model(&documentAccessRow{}).Where("document_id = ?", documentID)
	rows, next, total, err := runList(s, q, base, func(r *documentAccessRow) []any { return []any{r.AccessTime, r.ID} })
	if err != nil {
		return Page[DocumentAccess]{}, fmt.Errorf("%s: %w", op, err)
	}
	out := Page[DocumentAccess]{NextPageToken: next, TotalSize: total}
	for i := range rows {
		out.Items = append(out.Items, rows[i].access())
	}
	return out, nil
}
