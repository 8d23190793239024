package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Applications name the documents their candidates uploaded (documents.go): submitting an
// application attaches them to it in the same transaction as the application row, a
// candidate may replace one while the announcement window is open, and the snapshot at the
// close freezes them and digests them with the application rows.

// DocumentStateReplaced: a document that was attached to an application and then replaced
// by another while the window was open. It keeps its application ID for the audit and can
// never be attached again.
const DocumentStateReplaced = "replaced"

// ActionDocumentReplaced is the audit action of a replacement; its payload carries the
// digests of both documents.
const ActionDocumentReplaced = "DocumentReplaced"

// Why a document reference cannot be attached (DocumentProblem.Reason).
const (
	// DocumentMissing: the selection requires a document of this kind and the application
	// names none.
	DocumentMissing = "missing"
	// DocumentNotFound: no such document, or it is another candidate's: both are answered
	// alike, so that documents cannot be probed.
	DocumentNotFound = "not_found"
	// DocumentOtherSelection: the document was uploaded for another selection.
	DocumentOtherSelection = "other_selection"
	// DocumentWrongKind: the document was uploaded as another kind than the one named.
	DocumentWrongKind = "wrong_kind"
	// DocumentNotRequired: the selection requires no document of this kind.
	DocumentNotRequired = "not_required"
	// DocumentDuplicate: the application names the same kind or document twice.
	DocumentDuplicate = "duplicate"
	// DocumentInUse: the document is attached to another application, or was replaced.
	DocumentInUse = "in_use"
	// DocumentErased: the document's retention has passed.
	DocumentErased = "erased"
)

// DocumentProblem is one reason why an application's documents were refused.
type DocumentProblem struct {
	// Index is the reference's position in the request's documents; -1 for a required
	// document the request lacks.
	Index      int
	Kind       string
	DocumentID string
	Reason     string
}

// DocumentsError lists every problem of an application's documents. It wraps
// ErrFailedPrecondition when every problem is a document's state (in use, erased), which a
// correct request can meet, and ErrInvalidArgument otherwise.
type DocumentsError struct {
	Problems []DocumentProblem
}

func (e *DocumentsError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("%s %s (%s)", p.Kind, p.DocumentID, p.Reason)
	}
	return "documents refused: " + strings.Join(parts, ", ")
}

func (e *DocumentsError) Unwrap() error {
	for _, p := range e.Problems {
		if p.Reason != DocumentInUse && p.Reason != DocumentErased {
			return ErrInvalidArgument
		}
	}
	return ErrFailedPrecondition
}

// MissingKinds are the required kinds the request lacks, in the selection's order.
func (e *DocumentsError) MissingKinds() []string {
	var out []string
	for _, p := range e.Problems {
		if p.Reason == DocumentMissing {
			out = append(out, p.Kind)
		}
	}
	return out
}

// selectionRequirements is the part of a selection's definition (its Config, the API's
// JSON of the Selection message) that intake checks documents against.
type selectionRequirements struct {
	Requirements struct {
		RequiredDocuments []struct {
			ID string `json:"id"`
		} `json:"requiredDocuments"`
	} `json:"requirements"`
}

// requiredKinds are the kinds of document the selection requires, in its order.
func (r *selectionRow) requiredKinds() ([]string, error) {
	var cfg selectionRequirements
	if r.Config != "" {
		if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
			return nil, fmt.Errorf("selection %q: decode requirements: %w", r.ID, err)
		}
	}
	out := make([]string, 0, len(cfg.Requirements.RequiredDocuments))
	for _, d := range cfg.Requirements.RequiredDocuments {
		out = append(out, d.ID)
	}
	return out, nil
}

// checkDocumentRefs checks an application's references against the kinds of document
// required and the stored documents, under the selection's lock: every required kind
// present once, each document the owner's own, of this selection and kind, and free to
// attach (uploaded). It returns the documents as the application row keeps them, in the
// request's order, or a *DocumentsError naming every problem.
func checkDocumentRefs(tx *gorm.DB, selectionID string, required []string, owner string, refs []DocumentRef) ([]Document, error) {
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		ids = append(ids, r.DocumentID)
	}
	var rows []documentRow
	if len(ids) > 0 {
		if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("read documents: %w", err)
		}
	}
	byID := make(map[string]*documentRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	var problems []DocumentProblem
	out := make([]Document, 0, len(refs))
	for i, r := range refs {
		bad := func(reason string) { problems = append(problems, DocumentProblem{i, r.Kind, r.DocumentID, reason}) }
		d := byID[r.DocumentID]
		switch {
		case slices.ContainsFunc(refs[:i], func(o DocumentRef) bool { return o.Kind == r.Kind || o.DocumentID == r.DocumentID }):
			bad(DocumentDuplicate)
		case !slices.Contains(required, r.Kind):
			bad(DocumentNotRequired)
		case d == nil || d.Owner != owner:
			bad(DocumentNotFound)
		case d.SelectionID != selectionID:
			bad(DocumentOtherSelection)
		case d.Kind != r.Kind:
			bad(DocumentWrongKind)
		case d.State == DocumentStateErased:
			bad(DocumentErased)
		case d.State != DocumentStateUploaded:
			bad(DocumentInUse)
		default:
			out = append(out, Document{ID: d.ID, Kind: d.Kind, FileName: d.FileName, MediaType: d.MediaType,
				SizeBytes: d.SizeBytes, SHA256: d.SHA256})
		}
	}
	for _, k := range required {
		if !slices.ContainsFunc(refs, func(r DocumentRef) bool { return r.Kind == k }) {
			problems = append(problems, DocumentProblem{Index: -1, Kind: k, Reason: DocumentMissing})
		}
	}
	if len(problems) > 0 {
		return nil, &DocumentsError{Problems: problems}
	}
	return out, nil
}

// attachDocuments marks the checked documents attached to the application. Only documents
// still uploaded change: the caller checked them under the selection's lock, so a count
// short of the list means that something changed them behind the lock.
func attachDocuments(tx *gorm.DB, applicationID string, docs []Document, now time.Time) error {
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	res := tx.Model(&documentRow{}).Where("id IN ? AND state = ?", ids, DocumentStateUploaded).
		UpdateColumns(map[string]any{"state": DocumentStateAttached, "application_id": applicationID, "attach_time": now})
	if res.Error != nil {
		return fmt.Errorf("attach documents: %w", res.Error)
	}
	if res.RowsAffected != int64(len(ids)) {
		return fmt.Errorf("attach documents: %d of %d were still free: %w", res.RowsAffected, len(ids), ErrConflict)
	}
	return nil
}

// ReplaceDocumentInput replaces one document of an application.
type ReplaceDocumentInput struct {
	SelectionID   string
	ApplicationID string
	// RequestID is the API request's ID; the audit event keeps it.
	RequestID string
	// Owner is the candidate's actor ID: only the application's owner replaces its
	// documents.
	Owner      string
	Kind       string
	DocumentID string
	// Now is the wall-clock time of the request, compared with the projected window.
	Now time.Time
}

// ReplaceDocument replaces the application's document of in.Kind by in.DocumentID while the
// announcement window is open, in one transaction: the new document passes the checks of
// submission and is attached, the old one becomes DocumentStateReplaced (keeping its
// application ID), the application row keeps the new document's description, and the audit
// event (ActionDocumentReplaced) records both digests. Replacing with the document already
// attached for that kind returns the application unchanged, so a retried request succeeds,
// even after the close. Someone else's application is ErrNotFound; a closed window, a
// frozen document or an application no longer submitted is ErrFailedPrecondition; a
// refused document is a *DocumentsError.
func (s *Store) ReplaceDocument(ctx context.Context, in ReplaceDocumentInput) (Application, error) {
	op := fmt.Sprintf("store: replace a document of application %q of selection %q", in.ApplicationID, in.SelectionID)
	if in.SelectionID == "" || in.ApplicationID == "" || in.Owner == "" || in.Kind == "" || in.DocumentID == "" || in.Now.IsZero() {
		return Application{}, fmt.Errorf("%s: %w", op, invalid("selection, application, owner, kind, document and time are required"))
	}
	now := instant(in.Now)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var app applicationRow
		if err := tx.Select("id", "owner", "state", "documents").Take(&app, "selection_id = ? AND id = ?", in.SelectionID, in.ApplicationID).Error; err != nil {
			return fmt.Errorf("application %q: %w", in.ApplicationID, notFound(err))
		}
		if app.Owner != in.Owner {
			return fmt.Errorf("application %q: %w", in.ApplicationID, ErrNotFound)
		}
		var docs []Document
		if err := json.Unmarshal([]byte(app.Documents), &docs); err != nil {
			return fmt.Errorf("application %q: decode documents: %w", in.ApplicationID, err)
		}
		at := slices.IndexFunc(docs, func(d Document) bool { return d.Kind == in.Kind })
		if at >= 0 && docs[at].ID == in.DocumentID {
			return nil // already replaced by this request, or the same document: nothing to do
		}
		if why := sel.windowOpen(now); why != "" {
			return fmt.Errorf("%s; documents are frozen at the close: %w", why, ErrFailedPrecondition)
		}
		if app.State != StateSubmitted {
			return fmt.Errorf("the application is %s: %w", app.State, ErrFailedPrecondition)
		}
		if at < 0 {
			return &DocumentsError{Problems: []DocumentProblem{{Index: 0, Kind: in.Kind, DocumentID: in.DocumentID, Reason: DocumentNotRequired}}}
		}
		// The new document is checked as the only one of a submission that requires just
		// its kind.
		checked, err := checkDocumentRefs(tx, in.SelectionID, []string{in.Kind}, in.Owner, []DocumentRef{{Kind: in.Kind, DocumentID: in.DocumentID}})
		if err != nil {
			return err
		}
		old := docs[at]
		var oldRow documentRow
		if err := tx.Select("id", "state", "freeze_time").Take(&oldRow, "id = ?", old.ID).Error; err != nil {
			return fmt.Errorf("document %q: %w", old.ID, notFound(err))
		}
		if oldRow.FreezeTime != nil {
			return fmt.Errorf("document %q was frozen at the close: %w", old.ID, ErrFailedPrecondition)
		}
		res := tx.Model(&documentRow{}).Where("id = ? AND state = ?", old.ID, DocumentStateAttached).
			UpdateColumns(map[string]any{"state": DocumentStateReplaced})
		if res.Error != nil {
			return fmt.Errorf("release document %q: %w", old.ID, res.Error)
		}
		if err := attachDocuments(tx, in.ApplicationID, checked, now); err != nil {
			return err
		}
		docs[at] = checked[0]
		encoded, err := json.Marshal(docs)
		if err != nil {
			return err
		}
		err = tx.Model(&applicationRow{}).Where("selection_id = ? AND id = ?", in.SelectionID, in.ApplicationID).
			UpdateColumns(map[string]any{"documents": string(encoded), "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: Actor{Subject: in.Owner, Role: "ROLE_CANDIDATE"},
			Action: ActionDocumentReplaced, Target: "selections/" + in.SelectionID + "/applications/" + in.ApplicationID,
			WorkflowTime: now,
			Payload: map[string]any{"applicationId": in.ApplicationID, "kind": in.Kind, "requestId": in.RequestID,
				"oldDocumentId": old.ID, "oldSha256": old.SHA256, "newDocumentId": checked[0].ID, "newSha256": checked[0].SHA256,
				"replaceTime": now.Format(time.RFC3339Nano)},
		}, now)
		return err
	})
	if err != nil {
		var de *DocumentsError
		if errors.As(err, &de) {
			return Application{}, fmt.Errorf("%s: %w", op, de)
		}
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.answerApplication(ctx, in.SelectionID, in.ApplicationID)
}

// freezeDocuments marks the documents attached to the selection's applications frozen at
// the close: from then on they can be neither replaced nor detached.
func freezeDocuments(tx *gorm.DB, selectionID string, at time.Time) error {
	err := tx.Model(&documentRow{}).Where("selection_id = ? AND state = ? AND freeze_time IS NULL", selectionID, DocumentStateAttached).
		UpdateColumn("freeze_time", at).Error
	if err != nil {
		return fmt.Errorf("freeze documents: %w", err)
	}
	return nil
}

// snapshotDocument is what the snapshot digest covers of one stored document an application
// names: the parts that never change once it was uploaded (its state changes when it is
// frozen or erased, which is legitimate).
type snapshotDocument struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Owner     string `json:"owner"`
	MediaType string `json:"mediaType"`
	SizeBytes int64  `json:"sizeBytes"`
	SHA256    string `json:"sha256"`
	// Missing is set when the application names a document the store no longer has.
	Missing bool `json:"missing,omitempty"`
}

// storedDocuments reads the stored documents the batch's applications name, for the
// snapshot: their rows in the documents table, so that a digest altered there after the
// close changes the snapshot's digest as one altered in the application row does.
func storedDocuments(db *gorm.DB, rows []applicationRow) (map[string][]snapshotDocument, error) {
	named := make(map[string][]Document, len(rows))
	var ids []string
	for i := range rows {
		var docs []Document
		if err := json.Unmarshal([]byte(rows[i].Documents), &docs); err != nil {
			return nil, fmt.Errorf("application %q: decode documents: %w", rows[i].ID, err)
		}
		named[rows[i].ID] = docs
		for _, d := range docs {
			if d.ID != "" {
				ids = append(ids, d.ID)
			}
		}
	}
	byID := map[string]documentRow{}
	for lo := 0; lo < len(ids); lo += snapshotBatch {
		var docs []documentRow
		err := db.Select("id", "kind", "owner", "media_type", "size_bytes", "sha256").
			Where("id IN ?", ids[lo:min(lo+snapshotBatch, len(ids))]).Find(&docs).Error
		if err != nil {
			return nil, fmt.Errorf("read documents: %w", err)
		}
		for _, d := range docs {
			byID[d.ID] = d
		}
	}
	out := make(map[string][]snapshotDocument, len(rows))
	for appID, docs := range named {
		list := make([]snapshotDocument, 0, len(docs))
		for _, d := range docs {
			row, ok := byID[d.ID]
			if !ok {
				list = append(list, snapshotDocument{ID: d.ID, Missing: true})
				continue
			}
			list = append(list, snapshotDocument{ID: row.ID, Kind: row.Kind, Owner: row.Owner, MediaType: row.MediaType,
				SizeBytes: row.SizeBytes, SHA256: row.SHA256})
		}
		out[appID] = list
	}
	return out, nil
}
