package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// DocumentStore is what DocumentServer needs of the store.
type DocumentStore interface {
	Actors
	GetDocument(ctx context.Context, id string) (store.StoredDocument, error)
	ListDocuments(ctx context.Context, f store.DocumentFilter, opts store.ListOptions) (store.Page[store.StoredDocument], error)
	RecordDocumentAccess(ctx context.Context, in store.DocumentAccessInput) (store.DocumentAccess, error)
	ListDocumentAccesses(ctx context.Context, documentID string, opts store.ListOptions) (store.Page[store.DocumentAccess], error)
}

// DocumentContent opens a document's stored bytes by blob key (internal/documents/blob's
// Store does).
type DocumentContent interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// DocumentServer serves the documents candidates uploaded (the uploads themselves are the
// tus routes of internal/documents). Who may read a document: its owner, the committee of its
// selection, the secretariat and auditors. Each read by someone other than the owner of a
// document's description, and each download by anyone, is recorded in the store, with its
// audit event, before the answer goes out: a read that cannot be recorded is not served.
type DocumentServer struct {
	seleksiv1.UnimplementedDocumentServiceServer
	store   DocumentStore
	content DocumentContent
	logger  *slog.Logger
	now     func() time.Time
}

var _ seleksiv1.DocumentServiceServer = (*DocumentServer)(nil)

// NewDocumentServer returns the document service; now is the clock (time.Now outside tests).
func NewDocumentServer(st DocumentStore, content DocumentContent, logger *slog.Logger, now func() time.Time) *DocumentServer {
	return &DocumentServer{store: st, content: content, logger: logger, now: now}
}

var (
	msgDocumentErased = i18n.Text{ID: "isi dokumen ini sudah dihapus setelah masa retensinya",
		EN: "this document's content was erased after its retention"}
	msgDocumentOwnerOnly = i18n.Text{ID: "hanya pemilik dokumen, sekretariat dan auditor yang dapat melihat catatan akses dokumen",
		EN: "only the document's owner, the secretariat and auditors may see who accessed it"}
)

// downloadChunk is the most content one message of a download carries.
const downloadChunk = 256 << 10

// visible loads a document the caller may read, and the caller as the store records them.
// Another candidate's document is not found, so IDs cannot be probed; a committee member of
// another selection is told they are not on its committee, as for its other resources.
func (s *DocumentServer) visible(ctx context.Context, name string) (store.StoredDocument, store.Actor, error) {
	doc, err := s.store.GetDocument(ctx, segment(name, 0))
	if err != nil {
		return store.StoredDocument{}, store.Actor{}, storeError(ctx, s.logger, err)
	}
	me, err := callerActor(ctx, s.store)
	if err != nil {
		return store.StoredDocument{}, store.Actor{}, storeError(ctx, s.logger, err)
	}
	p := principal(ctx)
	switch p.Role {
	case auth.RoleCandidate:
		if doc.Owner != me.Subject {
			return store.StoredDocument{}, store.Actor{}, localizedError(ctx, codes.NotFound, msgNotFound)
		}
	case auth.RoleCommittee:
		if !p.SitsOn(doc.SelectionID) {
			return store.StoredDocument{}, store.Actor{}, localizedError(ctx, codes.PermissionDenied, msgNotOnCommittee)
		}
	case auth.RoleAdmin, auth.RoleAuditor:
	default:
		return store.StoredDocument{}, store.Actor{}, localizedError(ctx, codes.PermissionDenied, msgWrongRole)
	}
	return doc, store.Actor{Subject: me.Subject, Role: string(me.Role)}, nil
}

// record records a read before it is answered.
func (s *DocumentServer) record(ctx context.Context, doc store.StoredDocument, me store.Actor, purpose string) error {
	if _, err := s.store.RecordDocumentAccess(ctx, store.DocumentAccessInput{DocumentID: doc.ID, Actor: me, Purpose: purpose, Now: s.now()}); err != nil {
		return storeError(ctx, s.logger, fmt.Errorf("record %s access to document %q: %w", purpose, doc.ID, err))
	}
	return nil
}

// GetDocument returns a document's description; a read by anyone but its owner is
// recorded.
func (s *DocumentServer) GetDocument(ctx context.Context, req *seleksiv1.GetDocumentRequest) (*seleksiv1.GetDocumentResponse, error) {
	doc, me, err := s.visible(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if me.Subject != doc.Owner {
		if err := s.record(ctx, doc, me, store.AccessMetadata); err != nil {
			return nil, err
		}
	}
	who, err := s.store.ActorSubjects(ctx, []string{doc.Owner})
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	return &seleksiv1.GetDocumentResponse{Document: documentView(doc, subjects(who))}, nil
}

// ListDocuments lists a selection's documents: a candidate's own, or all of them for the
// selection's committee, the secretariat and auditors. Each listed document is a read of its
// description and is recorded as GetDocument's is.
func (s *DocumentServer) ListDocuments(ctx context.Context, req *seleksiv1.ListDocumentsRequest) (*seleksiv1.ListDocumentsResponse, error) {
	selID := segment(req.GetSelection(), 0)
	p := principal(ctx)
	if p.Role == auth.RoleCommittee && !p.SitsOn(selID) {
		return nil, localizedError(ctx, codes.PermissionDenied, msgNotOnCommittee)
	}
	me, err := callerActor(ctx, s.store)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	opts := store.ListOptions{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter(), OrderBy: req.GetOrderBy()}
	if p.Role == auth.RoleCandidate {
		opts.Owner = me.Subject
	}
	page, err := s.store.ListDocuments(ctx, store.DocumentFilter{SelectionID: selID}, opts)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	owners := make([]string, 0, len(page.Items))
	for _, d := range page.Items {
		owners = append(owners, d.Owner)
		if d.Owner != me.Subject {
			if err := s.record(ctx, d, store.Actor{Subject: me.Subject, Role: string(me.Role)}, store.AccessMetadata); err != nil {
				return nil, err
			}
		}
	}
	who, err := s.store.ActorSubjects(ctx, owners)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListDocumentsResponse{NextPageToken: page.NextPageToken, TotalSize: int32(page.TotalSize)}
	for _, d := range page.Items {
		out.Documents = append(out.Documents, documentView(d, subjects(who)))
	}
	return out, nil
}

// ListDocumentAccesses lists who read a document: for its owner, the secretariat and
// auditors. Listing the accesses is itself no read of the document.
func (s *DocumentServer) ListDocumentAccesses(ctx context.Context, req *seleksiv1.ListDocumentAccessesRequest) (*seleksiv1.ListDocumentAccessesResponse, error) {
	doc, me, err := s.visible(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	if p := principal(ctx); p.Role != auth.RoleAdmin && p.Role != auth.RoleAuditor && me.Subject != doc.Owner {
		return nil, localizedError(ctx, codes.PermissionDenied, msgDocumentOwnerOnly)
	}
	page, err := s.store.ListDocumentAccesses(ctx, doc.ID, store.ListOptions{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter()})
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	actors := make([]string, 0, len(page.Items))
	for _, a := range page.Items {
		actors = append(actors, a.Actor.Subject)
	}
	who, err := s.store.ActorSubjects(ctx, actors)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListDocumentAccessesResponse{NextPageToken: page.NextPageToken, TotalSize: int32(page.TotalSize)}
	for _, a := range page.Items {
		purpose := seleksiv1.AccessPurpose_ACCESS_PURPOSE_METADATA
		if a.Purpose == store.AccessDownload {
			purpose = seleksiv1.AccessPurpose_ACCESS_PURPOSE_DOWNLOAD
		}
		out.Accesses = append(out.Accesses, &seleksiv1.DocumentAccess{
			Actor: subjects(who).of(a.Actor.Subject), Role: seleksiv1.Role(seleksiv1.Role_value[a.Actor.Role]),
			Purpose: purpose, AccessTime: ts(a.AccessTime), AuditSequence: a.AuditSeq,
		})
	}
	return out, nil
}

// DownloadDocument streams a document's content after recording the download. The content
// is hashed on its way out: content that no longer matches its recorded digest ends the
// stream with an error instead of its last chunk, so the client sees a broken transfer.
func (s *DocumentServer) DownloadDocument(req *seleksiv1.DownloadDocumentRequest, stream seleksiv1.DocumentService_DownloadDocumentServer) error {
	ctx := stream.Context()
	doc, me, err := s.visible(ctx, req.GetName())
	if err != nil {
		return err
	}
	if doc.State == store.DocumentStateErased {
		return documentErased(ctx)
	}
	if err := s.record(ctx, doc, me, store.AccessDownload); err != nil {
		return err
	}
	r, err := s.content.Open(ctx, doc.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		// The retention sweep may have erased the document since it was read above.
		if again, gerr := s.store.GetDocument(ctx, doc.ID); gerr == nil && again.State == store.DocumentStateErased {
			return documentErased(ctx)
		}
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "open document content", "document", doc.ID, "error", err)
		return localizedError(ctx, codes.Internal, msgInternal)
	}
	defer r.Close()
	who, err := s.store.ActorSubjects(ctx, []string{doc.Owner})
	if err != nil {
		return storeError(ctx, s.logger, err)
	}
	if err := stream.Send(&seleksiv1.DownloadDocumentResponse{Content: &seleksiv1.DownloadDocumentResponse_Header{Header: documentView(doc, subjects(who))}}); err != nil {
		return err
	}
	h := sha256.New()
	buf := make([]byte, downloadChunk)
	var sent int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			h.Write(buf[:n])
			sent += int64(n)
			if err := stream.Send(&seleksiv1.DownloadDocumentResponse{Content: &seleksiv1.DownloadDocumentResponse_Chunk{Chunk: buf[:n]}}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			s.logger.ErrorContext(ctx, "read document content", "document", doc.ID, "error", err)
			return localizedError(ctx, codes.Internal, msgInternal)
		}
	}
	if sent != doc.SizeBytes || hex.EncodeToString(h.Sum(nil)) != doc.SHA256 {
		s.logger.ErrorContext(ctx, "document content does not match its digest", "document", doc.ID, "sent", sent)
		return localizedError(ctx, codes.DataLoss, msgInternal)
	}
	return nil
}

// documentView shows a document; who gives its owner's subject.
func documentView(d store.StoredDocument, who subjects) *seleksiv1.Document {
	state := map[string]seleksiv1.DocumentState{
		store.DocumentStateUploaded: seleksiv1.DocumentState_DOCUMENT_STATE_UPLOADED,
		store.DocumentStateAttached: seleksiv1.DocumentState_DOCUMENT_STATE_ATTACHED,
		store.DocumentStateErased:   seleksiv1.DocumentState_DOCUMENT_STATE_ERASED,
		store.DocumentStateReplaced: seleksiv1.DocumentState_DOCUMENT_STATE_REPLACED,
	}[d.State]
	v := &seleksiv1.Document{
		Name: "documents/" + d.ID, Selection: "selections/" + d.SelectionID, Owner: who.of(d.Owner), Kind: d.Kind,
		FileName: d.FileName, MediaType: d.MediaType, SizeBytes: d.SizeBytes, Sha256: d.SHA256, Pages: int32(d.Pages),
		State: state, CreateTime: ts(d.CreateTime), EraseTime: ts(d.EraseTime),
	}
	if d.ApplicationID != "" {
		v.Application = "selections/" + d.SelectionID + "/applications/" + d.ApplicationID
	}
	if strings.TrimSpace(v.FileName) == "" {
		v.FileName = d.Kind
	}
	return v
}

// reasonDocumentErased is the ErrorInfo reason of a download of an erased document, so that
// clients can tell it from other refused preconditions.
const reasonDocumentErased = "DOCUMENT_ERASED"

// documentErased refuses a download of a document whose content was erased after its
// retention.
func documentErased(ctx context.Context) error {
	return localizedError(ctx, codes.FailedPrecondition, msgDocumentErased,
		&errdetails.ErrorInfo{Reason: reasonDocumentErased, Domain: "seleksi"})
}
