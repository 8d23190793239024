package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/official"
	"github.com/bkpsdm/seleksi/internal/store"
)

// OfficialDocumentStore is the registry of official documents, and what deciding who may
// read a personal one needs.
type OfficialDocumentStore interface {
	GetOfficialDocument(ctx context.Context, id string, withContent bool) (store.OfficialDocument, error)
	ListOfficialDocuments(ctx context.Context, selectionID string) ([]store.OfficialDocument, error)
	ListOfficialJobs(ctx context.Context, selectionID string, limit int) ([]store.OfficialJob, error)
	ListApplications(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.Application], error)
	selectionActors
}

// OfficialKeys are the keys official documents are signed with, as the workers registered
// them (official.RegisteredKeys): published, and used to check the stored files.
type OfficialKeys interface {
	PublicKeys(ctx context.Context) ([]official.PublicKey, error)
	Verify(ctx context.Context, keyID string, document, signature []byte) error
}

// OfficialDocumentServer implements OfficialDocumentService: the registry of signed
// documents, their PDFs and signatures, and the keys that check them. The announcements,
// minutes, recommendation and appointment record are public. A proof of registration names
// its candidate (UU 27/2022): anyone may check its record on the verification page (number,
// date, digest, status), but only the candidate, the selection's committee, the secretariat
// and auditors list it or read its file.
type OfficialDocumentServer struct {
	seleksiv1.UnimplementedOfficialDocumentServiceServer
	store  OfficialDocumentStore
	keys   OfficialKeys
	logger *slog.Logger
}

var _ seleksiv1.OfficialDocumentServiceServer = (*OfficialDocumentServer)(nil)

// NewOfficialDocumentServer serves the documents in st, checked with keys.
func NewOfficialDocumentServer(st OfficialDocumentStore, keys OfficialKeys, logger *slog.Logger) *OfficialDocumentServer {
	return &OfficialDocumentServer{store: st, keys: keys, logger: logger}
}

const officialPrefix = "officialDocuments/"

// officialDocumentView shows a document's record; with content, its PDF and signature.
func officialDocumentView(d store.OfficialDocument, withContent bool) *seleksiv1.OfficialDocument {
	title := official.KindTitle(d.Kind)
	out := &seleksiv1.OfficialDocument{
		Name: officialPrefix + d.ID, Number: d.Number, Selection: selectionName(d.SelectionID),
		Kind:  seleksiv1.OfficialDocumentKind(seleksiv1.OfficialDocumentKind_value[d.Kind]),
		Title: &seleksiv1.LocalizedText{Id: title.ID, En: title.EN}, Stage: protoStage(d.Stage), Revision: uint32(d.Revision),
		Status: seleksiv1.OfficialDocumentStatus_OFFICIAL_DOCUMENT_STATUS_VALID, Issuer: d.Issuer, IssueTime: ts(d.IssueTime),
		Sha256: d.SHA256, KeyId: d.KeyID, SignatureAlgorithm: d.Algorithm, SizeBytes: d.SizeBytes,
		DownloadUri:  "/v1/" + officialPrefix + d.ID + ":download",
		SignatureUri: "/v1/" + officialPrefix + d.ID + ":signature",
		VerifyUri:    "/verify/" + d.ID,
	}
	if d.SupersededBy != "" {
		out.Status = seleksiv1.OfficialDocumentStatus_OFFICIAL_DOCUMENT_STATUS_SUPERSEDED
		out.SupersededBy = officialPrefix + d.SupersededBy
	}
	if d.Supersedes != "" {
		out.Supersedes = officialPrefix + d.Supersedes
	}
	if withContent {
		out.Content = d.Content
		// The registry keeps the signature in base64; a stored value that does not decode
		// is served empty, which no verifier accepts.
		out.Signature, _ = base64.StdEncoding.DecodeString(d.Signature)
	}
	return out
}

// GetOfficialDocument returns a document's record, and with the full view its PDF and
// signature.
func (s *OfficialDocumentServer) GetOfficialDocument(ctx context.Context, req *seleksiv1.GetOfficialDocumentRequest) (*seleksiv1.GetOfficialDocumentResponse, error) {
	full := req.GetView() == seleksiv1.OfficialDocumentView_OFFICIAL_DOCUMENT_VIEW_FULL
	// The file is read even for the basic view: the status a verification page shows must
	// come from checking the stored bytes, not from the record alone.
	d, err := s.store.GetOfficialDocument(ctx, strings.TrimPrefix(req.GetName(), officialPrefix), true)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	if full && personalKind(d.Kind) {
		may, err := s.personalAccess(ctx, d.SelectionID)
		if err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
		if !may(d) {
			// Not found rather than denied: nobody learns whose proof a number is.
			return nil, localizedError(ctx, codes.NotFound, msgNotFound)
		}
	}
	v := officialDocumentView(d, full)
	sum := sha256.Sum256(d.Content)
	sig, sigErr := base64.StdEncoding.DecodeString(d.Signature)
	verr := s.keys.Verify(ctx, d.KeyID, d.Content, sig)
	if verr != nil && !errors.Is(verr, official.ErrBadSignature) {
		return nil, storeError(ctx, s.logger, verr)
	}
	if hex.EncodeToString(sum[:]) != d.SHA256 || sigErr != nil || verr != nil {
		s.logger.ErrorContext(ctx, "an official document fails its digest or signature", "document", d.ID)
		v.Status = seleksiv1.OfficialDocumentStatus_OFFICIAL_DOCUMENT_STATUS_INVALID
	}
	return &seleksiv1.GetOfficialDocumentResponse{OfficialDocument: v}, nil
}

// ListOfficialDocuments lists a selection's documents in issue order.
func (s *OfficialDocumentServer) ListOfficialDocuments(ctx context.Context, req *seleksiv1.ListOfficialDocumentsRequest) (*seleksiv1.ListOfficialDocumentsResponse, error) {
	docs, err := s.store.ListOfficialDocuments(ctx, strings.TrimPrefix(req.GetParent(), "selections/"))
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListOfficialDocumentsResponse{}
	var may func(store.OfficialDocument) bool
	for _, d := range docs {
		if personalKind(d.Kind) {
			if may == nil {
				if may, err = s.personalAccess(ctx, d.SelectionID); err != nil {
					return nil, storeError(ctx, s.logger, err)
				}
			}
			if !may(d) {
				continue
			}
		}
		out.OfficialDocuments = append(out.OfficialDocuments, officialDocumentView(d, false))
	}
	return out, nil
}

// personalKind reports whether documents of kind name a candidate, beyond what the
// published results show.
func personalKind(kind string) bool { return kind == store.OfficialRegistrationProof }

// personalAccess reports which personal documents of a selection the caller may read: a
// candidate their own (d.Subject is the application), the selection's committee, the
// secretariat and auditors all. It reads the store once per request, however many documents
// it is asked about.
func (s *OfficialDocumentServer) personalAccess(ctx context.Context, selectionID string) (func(store.OfficialDocument) bool, error) {
	none := func(store.OfficialDocument) bool { return false }
	p, ok := auth.FromContext(ctx)
	if !ok || p.Subject == "" {
		return none, nil
	}
	switch p.Role {
	case auth.RoleAdmin, auth.RoleAuditor:
		return func(store.OfficialDocument) bool { return true }, nil
	case auth.RoleCommittee:
		return func(d store.OfficialDocument) bool { return p.SitsOn(d.SelectionID) }, nil
	case auth.RoleCandidate:
		me, err := actorIn(ctx, s.store, selectionID)
		if err != nil {
			return nil, err
		}
		// A candidate applies once per selection; a page of a few covers older data too.
		page, err := s.store.ListApplications(ctx, selectionID, store.ListOptions{Owner: me.Subject, PageSize: 10})
		if err != nil {
			return nil, err
		}
		mine := map[string]bool{}
		for _, a := range page.Items {
			mine[a.ID] = true
		}
		return func(d store.OfficialDocument) bool { return d.SelectionID == selectionID && mine[d.Subject] }, nil
	}
	return none, nil
}

// ListOfficialDocumentKeys publishes the verification keys.
func (s *OfficialDocumentServer) ListOfficialDocumentKeys(ctx context.Context, _ *seleksiv1.ListOfficialDocumentKeysRequest) (*seleksiv1.ListOfficialDocumentKeysResponse, error) {
	keys, err := s.keys.PublicKeys(ctx)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListOfficialDocumentKeysResponse{}
	for i, k := range keys {
		raw, _ := base64.StdEncoding.DecodeString(k.Raw)
		// The newest registered key is the one workers sign with now.
		out.Keys = append(out.Keys, &seleksiv1.OfficialDocumentKey{KeyId: k.ID, Algorithm: k.Algorithm, PublicKeyPem: k.PEM, PublicKey: raw,
			Current: i == 0})
	}
	return out, nil
}

// ListOfficialDocumentJobs lists the documents waiting to be issued.
func (s *OfficialDocumentServer) ListOfficialDocumentJobs(ctx context.Context, req *seleksiv1.ListOfficialDocumentJobsRequest) (*seleksiv1.ListOfficialDocumentJobsResponse, error) {
	limit := int(req.GetPageSize())
	if limit == 0 {
		limit = 100
	}
	jobs, err := s.store.ListOfficialJobs(ctx, strings.TrimPrefix(req.GetSelection(), "selections/"), limit)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListOfficialDocumentJobsResponse{}
	for _, j := range jobs {
		out.Jobs = append(out.Jobs, &seleksiv1.OfficialDocumentJob{
			Selection: selectionName(j.SelectionID), Kind: seleksiv1.OfficialDocumentKind(seleksiv1.OfficialDocumentKind_value[j.Kind]),
			Subject: j.Subject, Revision: uint32(j.Revision), Attempts: uint32(j.Attempts), LastError: j.LastError,
			NextAttemptTime: ts(j.NextAttempt), CreateTime: ts(j.CreateTime),
		})
	}
	return out, nil
}
