package server

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// AuditStore is what the audit handlers read from the relational store: the audit chain,
// the projection the replayed state is compared with, and the store's own checks of its
// chain and of the frozen application snapshots.
type AuditStore interface {
	GetSelection(ctx context.Context, id string) (store.Selection, error)
	ListAuditEvents(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.AuditEvent], error)
	ListApplications(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.Application], error)
	VerifyChain(ctx context.Context, selectionID string) (store.Report, error)
	VerifySnapshot(ctx context.Context, selectionID, key string) (store.SnapshotCheck, error)
	// ReadProjection reads every projected row of the selection (its published results,
	// application statuses, objections...), which the bundle carries and verification
	// compares with the history.
	ReadProjection(ctx context.Context, selectionID string) ([]store.ProjectionRow, error)
	// ListDocuments lists the selection's uploaded documents, whose descriptions and digests
	// (never their content) the bundle carries.
	ListDocuments(ctx context.Context, f store.DocumentFilter, opts store.ListOptions) (store.Page[store.StoredDocument], error)
	// ActorSubjects gives the subjects of recorded actor IDs (see Actors), which the list of
	// audit events shows; bundles and verification keep the recorded IDs.
	ActorSubjects(ctx context.Context, ids []string) (map[string]string, error)
}

// HistorySource is the part of the Temporal client that reads workflow histories: the
// visibility listing that finds every run of a selection's workflow, and each run's events.
type HistorySource interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID string, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// RunArchive is the durable archive of closed runs (the store's history_archive), which
// outlives Temporal's retention. Runs are listed without their histories and read one at a
// time, so that a long history is never held whole.
type RunArchive interface {
	ListArchivedRuns(ctx context.Context, selectionID string) ([]store.ArchivedRun, error)
	ArchivedHistory(ctx context.Context, selectionID, runID string) ([]byte, error)
}

// AuditServer implements AuditService: it reads the audit chain from the store and the
// workflow's histories from the archive and Temporal, signs export bundles with the server's key, and
// verifies a selection with the offline checks of internal/audit plus the comparisons that
// need the store (its own chain walk, its snapshots and its projection).
type AuditServer struct {
	seleksiv1.UnimplementedAuditServiceServer
	store   AuditStore
	history HistorySource
	// archive holds closed runs after Temporal deleted them; nil reads Temporal alone.
	archive RunArchive
	// codec decodes the histories' payloads before they are read (they stay encrypted in
	// the bundles); nil reads them as they are.
	codec  converter.PayloadCodec
	signer crypto.Signer
	pub    ed25519.PublicKey
	logger *slog.Logger
	now    func() time.Time
}

var _ seleksiv1.AuditServiceServer = (*AuditServer)(nil)

// NewAuditServer builds the audit handlers. signer must hold the Ed25519 private key whose
// public half is pub: a mismatch would publish a key that verifies none of the bundles, so
// it is refused here rather than discovered by an auditor.
func NewAuditServer(st AuditStore, hs HistorySource, signer crypto.Signer, pub ed25519.PublicKey, logger *slog.Logger, now func() time.Time) (*AuditServer, error) {
	if signer == nil || len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("audit server: an Ed25519 signer and its public key are required")
	}
	if sp, ok := signer.Public().(ed25519.PublicKey); !ok || !sp.Equal(pub) {
		return nil, errors.New("audit server: the signer does not hold the private half of the published key")
	}
	if now == nil {
		now = time.Now
	}
	return &AuditServer{store: st, history: hs, signer: signer, pub: pub, logger: logger, now: now}, nil
}

// UseArchive makes the handlers read closed runs from the archive: a closed run is taken
// from the archive whenever it is there (it is the copy the audit chain vouches for, and
// the one that stays), and from Temporal otherwise; the running run always comes from
// Temporal. A selection whose runs Temporal has all deleted is exported from the archive
// alone. Call it before serving.
func (s *AuditServer) UseArchive(a RunArchive) { s.archive = a }

// UsePayloadCodec makes the handlers decrypt the histories' payloads with codec (the one the
// Temporal client encrypts them with) wherever they read them: verification, the timeline,
// the snapshots a bundle's digests are collected for. Exported bundles keep the histories
// as Temporal holds them, encrypted: an auditor reads them with the payload keys
// (seleksictl audit replay --payload-keys), and the bundle's digests and signature cover
// the bytes Temporal and the archive hold. Call it before serving.
func (s *AuditServer) UsePayloadCodec(c converter.PayloadCodec) { s.codec = c }

// historyOptions are the options the audit functions read this server's histories with.
func (s *AuditServer) historyOptions() []audit.Option {
	if s.codec == nil {
		return nil
	}
	return []audit.Option{audit.WithPayloadCodec(s.codec)}
}

// historyUnavailable is the answer for a selection whose workflow has no history to export.
func historyUnavailable(ctx context.Context) error {
	return localizedError(ctx, codes.FailedPrecondition, i18n.Text{
		ID: "riwayat alur kerja seleksi ini tidak tersedia", EN: "this selection's workflow history is not available"})
}

// auditPageSize is how many audit events or applications are read per store call while a
// whole chain or projection is collected.
const auditPageSize = 1000

// ListAuditEvents lists one page of a selection's audit chain.
func (s *AuditServer) ListAuditEvents(ctx context.Context, req *seleksiv1.ListAuditEventsRequest) (*seleksiv1.ListAuditEventsResponse, error) {
	page, err := s.store.ListAuditEvents(ctx, segment(req.GetParent(), 0), store.ListOptions{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter()})
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	out := &seleksiv1.ListAuditEventsResponse{NextPageToken: page.NextPageToken}
	actors := make([]string, len(page.Items))
	for i, e := range page.Items {
		actors[i] = e.ActorSubject
	}
	who, err := s.store.ActorSubjects(ctx, actors)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	for _, e := range page.Items {
		out.AuditEvents = append(out.AuditEvents, auditEventView(e, who))
	}
	return out, nil
}

// auditEventView shows an audit event to an auditor, with the actor's subject in place of
// the actor ID the chain records (see Actors); the hashes cover the recorded event, which
// the export bundle carries as it is.
func auditEventView(e store.AuditEvent, who subjects) *seleksiv1.AuditEvent {
	return &seleksiv1.AuditEvent{
		Name:          fmt.Sprintf("%s/auditEvents/%d", selectionName(e.SelectionID), e.Seq),
		Sequence:      uint64(e.Seq),
		ActorSubject:  who.of(e.ActorSubject),
		Role:          seleksiv1.Role(seleksiv1.Role_value[e.Role]),
		Action:        e.Action,
		Target:        e.Target,
		Reason:        e.Reason,
		WorkflowTime:  ts(e.WorkflowTime),
		PayloadSha256: e.PayloadSHA256,
		PrevHash:      e.PrevHash,
		Hash:          e.Hash,
		WorkflowId:    e.WorkflowID,
		UpdateId:      e.UpdateID,
	}
}

// GetSigningKey publishes the public key bundles are signed with, in the two forms
// verifiers take: PEM (openssl, most libraries) and JWK (JOSE tooling).
func (s *AuditServer) GetSigningKey(ctx context.Context, _ *seleksiv1.GetSigningKeyRequest) (*seleksiv1.GetSigningKeyResponse, error) {
	der, err := x509.MarshalPKIXPublicKey(s.pub)
	if err != nil {
		return nil, s.internalError(ctx, fmt.Errorf("encode the signing key: %w", err))
	}
	kid := audit.KeyFingerprint(s.pub)
	jwk, err := json.Marshal(map[string]string{
		"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(s.pub),
		"alg": audit.SignatureAlgorithm, "use": "sig", "kid": kid,
	})
	if err != nil {
		return nil, s.internalError(ctx, fmt.Errorf("encode the signing key: %w", err))
	}
	return &seleksiv1.GetSigningKeyResponse{
		KeyId:        kid,
		Algorithm:    audit.SignatureAlgorithm,
		PublicKeyPem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		Jwk:          string(jwk),
	}, nil
}

// evidence is everything collected about one selection for a bundle, with the store's
// snapshot checks that the bundle itself does not carry. It lists the workflow's runs
// without holding the archived ones: those are read again, one at a time, when the bundle
// is written, so that exporting a selection with a long history needs memory for one run,
// not for all of them.
type evidence struct {
	selection store.Selection
	header    audit.BundleHeader
	events    []audit.AuditEvent
	// projection is the store's projection (never nil: an empty one is still a part).
	projection []audit.ProjectionRow
	// documents describe the selection's uploaded documents (never nil).
	documents []audit.DocumentDigest
	// runs are the workflow's runs, oldest first.
	runs      []*runRef
	snapshots []audit.SnapshotDigest
	checks    []store.SnapshotCheck
	// archiveFindings are archived runs that do not match what the audit chain recorded
	// when they were archived.
	archiveFindings []audit.Finding
}

// runRef is one run of the selection's workflow as the evidence lists it: its place in the
// chain of runs and, until the bundle is written, where its history comes from.
type runRef struct {
	id    string
	start time.Time
	// prev is the run this one continues; next is the run it continued as, if it did.
	prev, next string
	// snapshots are the run's SnapshotApplications activities.
	snapshots []audit.SnapshotFact
	// An archived run is read from the archive again when written, and must still hash to
	// digest, the SHA-256 its HistoryArchived audit event recorded; a run read from
	// Temporal is kept (there is one open run, and rarely a closed one not yet archived).
	archived bool
	digest   string
	history  *historypb.History
}

// newRunRef describes a parsed run, whose first event is WorkflowExecutionStarted.
func newRunRef(h *historypb.History, opts ...audit.Option) *runRef {
	events := h.GetEvents()
	started := events[0].GetWorkflowExecutionStartedEventAttributes()
	facts, _ := audit.ExtractFacts([]*historypb.History{h}, opts...)
	return &runRef{
		id:        started.GetOriginalExecutionRunId(),
		start:     events[0].GetEventTime().AsTime(),
		prev:      started.GetContinuedExecutionRunId(),
		next:      events[len(events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId(),
		snapshots: facts.Snapshots,
	}
}

// collect gathers a selection's evidence: the whole audit chain, every run of its workflow,
// and the store's recomputed digest of every snapshot the workflow recorded. A selection
// whose workflow never started has no runs; the caller decides what that means. Errors are
// already statuses for the client.
func (s *AuditServer) collect(ctx context.Context, selectionID string) (*evidence, error) {
	sel, err := s.store.GetSelection(ctx, selectionID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	wfID := sel.WorkflowID
	if wfID == "" {
		wfID = workflows.WorkflowID(selectionID)
	}
	ev := &evidence{selection: sel, header: audit.BundleHeader{SelectionID: selectionID, WorkflowID: wfID, CreatedAt: s.now().UTC()}}
	// The chain is read before the history. While the workflow runs, a command's audit event
	// is written by an activity that the history records as completed only afterwards, so
	// in this order an event is never read without its record; the other order would show
	// events the history did not yet hold as unmatched.
	//
	// The archive is listed before the chain: a run and its HistoryArchived event are
	// written in one transaction, so every run listed in the archive has its event in the
	// chain read afterwards, even while the archiver is at work. Archived runs never change,
	// so reading their histories later reads what was listed.
	var stored []store.ArchivedRun
	if s.archive != nil {
		if stored, err = s.archive.ListArchivedRuns(ctx, selectionID); err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
	}
	// Documents are read before the chain for the same reason: a document and its upload's
	// audit event are written in one transaction, so every document listed has its event
	// in the chain read afterwards.
	if ev.documents, err = s.documents(ctx, selectionID); err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	if ev.events, err = s.auditEvents(ctx, selectionID); err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	if ev.projection, err = s.projection(ctx, selectionID); err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	archived, fs, err := s.checkArchived(ctx, selectionID, wfID, stored, ev.events)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	ev.archiveFindings = fs
	ev.runs, err = s.histories(ctx, wfID, archived)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// The workflow never started, or Temporal no longer has it: the evidence has no
		// history, which export refuses and verification reports as a finding.
		s.logger.WarnContext(ctx, "no workflow history for the selection", "selection", selectionID, "workflow_id", wfID, "error", err)
		ev.runs = nil
	case err != nil:
		return nil, s.historyError(ctx, err)
	}
	// The keys of the snapshots come from the history (the store offers no listing of its
	// own); a snapshot the store lost is then left without a digest, which the bundle's
	// check reports.
	for _, r := range ev.runs {
		for _, f := range r.snapshots {
			if f.CompletedEventID == 0 {
				continue
			}
			chk, err := s.store.VerifySnapshot(ctx, selectionID, f.Request.Key)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, storeError(ctx, s.logger, err)
			}
			ev.checks = append(ev.checks, chk)
			// The store reports which of the snapshot's applications are gone rather than
			// how many remain; the workflow's list is the snapshot's, so the difference is
			// the count the store can still account for.
			ev.snapshots = append(ev.snapshots, audit.SnapshotDigest{
				Key: chk.Key, Digest: chk.Recomputed, Applications: len(f.ApplicationIDs) - len(chk.Missing)})
		}
	}
	return ev, nil
}

// auditEvents reads the selection's whole chain, in order.
func (s *AuditServer) auditEvents(ctx context.Context, selectionID string) ([]audit.AuditEvent, error) {
	var out []audit.AuditEvent
	opts := store.ListOptions{PageSize: auditPageSize}
	for {
		page, err := s.store.ListAuditEvents(ctx, selectionID, opts)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Items {
			out = append(out, audit.AuditEvent{
				SelectionID: e.SelectionID, Seq: e.Seq, WorkflowID: e.WorkflowID, UpdateID: e.UpdateID,
				CommandSeq: e.CommandSeq, ActorSubject: e.ActorSubject, Role: e.Role, Action: e.Action,
				Target: e.Target, Reason: e.Reason, WorkflowTime: e.WorkflowTime, Payload: e.Payload,
				PayloadSHA256: e.PayloadSHA256, PrevHash: e.PrevHash, Hash: e.Hash, RecordedAt: e.RecordTime,
			})
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// documents reads the descriptions and digests of the selection's documents, for the
// bundle, in the store's order (by creation).
func (s *AuditServer) documents(ctx context.Context, selectionID string) ([]audit.DocumentDigest, error) {
	out := []audit.DocumentDigest{}
	opts := store.ListOptions{PageSize: store.MaxPageSize}
	for {
		page, err := s.store.ListDocuments(ctx, store.DocumentFilter{SelectionID: selectionID}, opts)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Items {
			out = append(out, audit.DocumentDigest{DocumentID: d.ID, ApplicationID: d.ApplicationID, Kind: d.Kind,
				MediaType: d.MediaType, SizeBytes: d.SizeBytes, SHA256: d.SHA256, State: d.State})
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// projection reads the store's projected rows in the library's form, for the bundle.
func (s *AuditServer) projection(ctx context.Context, selectionID string) ([]audit.ProjectionRow, error) {
	rows, err := s.store.ReadProjection(ctx, selectionID)
	if err != nil {
		return nil, err
	}
	out := make([]audit.ProjectionRow, len(rows))
	for i, r := range rows {
		out[i] = audit.ProjectionRow{Table: r.Table, Key: r.Key, Columns: r.Columns, StoreOnly: r.StoreOnly}
	}
	return out, nil
}

// kindArchiveMismatch is this server's finding for an archived run that does not match the
// HistoryArchived audit event recorded when it was archived (or has none, or does not parse).
const kindArchiveMismatch = "archive_mismatch"

// checkArchived checks each archived run against its HistoryArchived audit event and returns
// the runs that pass by run ID: the event's payload names the SHA-256 of the history as
// archived, so a history rewritten in the archive no longer matches it. A run that fails
// the check is reported and left out, so that Temporal's copy is used if it still has one.
// The histories are read one at a time and only their description is kept.
func (s *AuditServer) checkArchived(ctx context.Context, selectionID, workflowID string, runs []store.ArchivedRun, events []audit.AuditEvent) (map[string]*runRef, []audit.Finding, error) {
	recorded := map[string]audit.AuditEvent{}
	for _, e := range events {
		if e.Action == store.ActionHistoryArchived {
			recorded[e.Target] = e
		}
	}
	out := make(map[string]*runRef, len(runs))
	var fs []audit.Finding
	for _, r := range runs {
		fail := func(seqs []int64, format string, args ...any) {
			fs = append(fs, audit.Finding{Kind: kindArchiveMismatch, Seqs: seqs,
				Message: fmt.Sprintf("archived run %s: ", r.RunID) + fmt.Sprintf(format, args...)})
		}
		e, ok := recorded[store.ArchivedRunTarget(selectionID, r.RunID)]
		if !ok {
			fail(nil, "the audit chain has no HistoryArchived event for it")
			continue
		}
		data, err := s.archive.ArchivedHistory(ctx, selectionID, r.RunID)
		if err != nil {
			return nil, nil, err
		}
		sum := sha256Hex(data)
		var p store.HistoryArchivedPayload
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.RunID != r.RunID || p.SHA256 != sum {
			fail([]int64{e.Seq}, "the history hashes to %s, audit event %d recorded %s when it was archived", sum, e.Seq, p.SHA256)
			continue
		}
		h, err := audit.ParseHistory(data)
		if err != nil || len(h.GetEvents()) == 0 || h.GetEvents()[0].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED || r.WorkflowID != workflowID {
			fail([]int64{e.Seq}, "the archived history cannot be read as a run of %s", workflowID)
			continue
		}
		ref := newRunRef(h, s.historyOptions()...)
		ref.archived, ref.digest = true, sum
		out[r.RunID] = ref
	}
	return out, fs, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// histories lists every run of the workflow, oldest first. Closed runs come from the archive
// when it has them, and from Temporal otherwise. Visibility finds the runs Temporal still
// has; because visibility is updated asynchronously, a run it does not list yet is still
// found by following continue-as-new from the last run, and when neither it nor the archive
// lists anything the chain is walked back from the current run. A run visibility lists that
// Temporal has since deleted is left out when other runs remain; the bundle's run-chain
// check then reports the gap.
func (s *AuditServer) histories(ctx context.Context, workflowID string, archived map[string]*runRef) ([]*runRef, error) {
	query, err := visibilityQuery(workflowID)
	if err != nil {
		return nil, err
	}
	var execs []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := s.history.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			PageSize: 100, NextPageToken: token, Query: query})
		if err != nil {
			return nil, fmt.Errorf("list the runs of %s: %w", workflowID, err)
		}
		execs = append(execs, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}

	var runs []*runRef
	seen := map[string]bool{}
	for id, a := range archived {
		seen[id] = true
		runs = append(runs, a)
	}
	// run reads one run from the archive, or from Temporal ("" is the current run).
	run := func(runID string) (*runRef, error) {
		if a, ok := archived[runID]; ok && runID != "" {
			return a, nil
		}
		h, err := s.runHistory(ctx, workflowID, runID)
		if err != nil {
			return nil, err
		}
		r := newRunRef(h, s.historyOptions()...)
		r.history = h
		return r, nil
	}
	var missing error
	for _, e := range execs {
		runID := e.GetExecution().GetRunId()
		if seen[runID] {
			continue
		}
		r, err := run(runID)
		if errors.As(err, new(*serviceerror.NotFound)) {
			missing = err
			continue
		}
		if err != nil {
			return nil, err
		}
		seen[runID] = true
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		if missing != nil {
			return nil, missing
		}
		r, err := run("")
		if err != nil {
			return nil, err
		}
		seen[r.id] = true
		runs = append(runs, r)
	}
	// Sorted here rather than with ORDER BY, which not every visibility store supports; a
	// run starts after the run it continues closed, so the start times order them.
	slices.SortStableFunc(runs, func(a, b *runRef) int { return a.start.Compare(b.start) })
	// Walk back through each run's predecessor from the first run found.
	for len(runs) <= maxRuns {
		prev := runs[0].prev
		if prev == "" || seen[prev] {
			break
		}
		r, err := run(prev)
		if errors.As(err, new(*serviceerror.NotFound)) {
			break
		}
		if err != nil {
			return nil, err
		}
		seen[prev] = true
		runs = append([]*runRef{r}, runs...)
	}
	// Follow continue-as-new past the last run found.
	for len(runs) <= maxRuns {
		next := runs[len(runs)-1].next
		if next == "" || seen[next] {
			break
		}
		r, err := run(next)
		if errors.As(err, new(*serviceerror.NotFound)) {
			break
		}
		if err != nil {
			return nil, err
		}
		seen[next] = true
		runs = append(runs, r)
	}
	return runs, nil
}

// runJSON is one run's history in the standard JSON form: as archived, read again and
// checked against the digest the chain vouches for, or as read from Temporal.
func (s *AuditServer) runJSON(ctx context.Context, selectionID string, r *runRef) ([]byte, error) {
	if !r.archived {
		return audit.MarshalHistory(r.history)
	}
	data, err := s.archive.ArchivedHistory(ctx, selectionID, r.id)
	if err != nil {
		return nil, err
	}
	if sum := sha256Hex(data); sum != r.digest {
		// The archive is written once per run; a history that changed while it was being
		// exported was rewritten behind the store's back.
		return nil, fmt.Errorf("archived run %s changed during the export: it hashed to %s, now to %s", r.id, r.digest, sum)
	}
	return data, nil
}

// load reads every run's history, for verification, which works on the bundle as a whole:
// the parsed runs and the bundle's content.
func (s *AuditServer) load(ctx context.Context, ev *evidence) ([]*historypb.History, audit.Bundle, error) {
	b := audit.Bundle{
		SelectionID: ev.header.SelectionID, WorkflowID: ev.header.WorkflowID, CreatedAt: ev.header.CreatedAt,
		Events: ev.events, Snapshots: ev.snapshots, Projection: ev.projection, Documents: ev.documents,
	}
	runs := make([]*historypb.History, 0, len(ev.runs))
	for _, r := range ev.runs {
		data, err := s.runJSON(ctx, ev.header.SelectionID, r)
		if err != nil {
			return nil, audit.Bundle{}, err
		}
		h := r.history
		if h == nil {
			if h, err = audit.ParseHistory(data); err != nil {
				return nil, audit.Bundle{}, err
			}
		}
		runs = append(runs, h)
		b.Histories = append(b.Histories, audit.RunHistory{RunID: r.id, JSON: data})
	}
	return runs, b, nil
}

// maxRuns bounds the walk along continue-as-new, so that a corrupt chain that loops cannot
// keep a request busy forever. A selection continues as new a handful of times.
const maxRuns = 1000

// runHistory reads one run's full history ("" for the current run). A run that is still
// open yields the events recorded so far.
func (s *AuditServer) runHistory(ctx context.Context, workflowID, runID string) (*historypb.History, error) {
	it := s.history.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s run %q: %w", workflowID, runID, err)
		}
		h.Events = append(h.Events, e)
	}
	if len(h.Events) == 0 || h.Events[0].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
		return nil, badHistoryError{workflowID: workflowID, runID: runID}
	}
	return h, nil
}

// badHistoryError is a run whose history Temporal returned without its first event.
type badHistoryError struct{ workflowID, runID string }

func (e badHistoryError) Error() string {
	return fmt.Sprintf("history of %s run %q does not start with WorkflowExecutionStarted", e.workflowID, e.runID)
}

// visibilityQuery is the visibility query for every run of one workflow ID. The ID is
// quoted as a string literal of Temporal's query language (backslash escapes), and IDs with
// control characters are refused outright, so no value can change the query's structure.
func visibilityQuery(workflowID string) (string, error) {
	if workflowID == "" || strings.ContainsFunc(workflowID, unicode.IsControl) {
		return "", fmt.Errorf("workflow ID %q cannot be queried", workflowID)
	}
	var b strings.Builder
	b.WriteString("WorkflowId = '")
	for _, r := range workflowID {
		if r == '\'' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// internalError logs a failure of the server itself (not of the store or Temporal) and
// answers without its text.
func (s *AuditServer) internalError(ctx context.Context, err error) error {
	s.logger.ErrorContext(ctx, "audit handler failed", "error", err)
	return localizedError(ctx, codes.Internal, msgInternal)
}

// historyError turns a failure to read the histories into a status; Temporal's own errors
// (an unknown workflow is NotFound) go through the same mapping as commands.
func (s *AuditServer) historyError(ctx context.Context, err error) error {
	if errors.As(err, new(badHistoryError)) {
		s.logger.ErrorContext(ctx, "unreadable workflow history", "error", err)
		return localizedError(ctx, codes.Internal, i18n.Text{
			ID: "riwayat alur kerja tidak dapat dibaca", EN: "the workflow history cannot be read"})
	}
	return commander{logger: s.logger}.workflowError(ctx, "read history", err)
}

// bundleAlgorithm names the bundle signature in the API: the same label as the signing key's
// algorithm and the JWK's alg.
const bundleAlgorithm = audit.SignatureAlgorithm

// signed writes the evidence as a signed bundle and reads it back, so that the API returns,
// and verification checks, exactly the bytes an archive would hold.
func (s *AuditServer) signed(b audit.Bundle) (*audit.Bundle, error) {
	var buf bytes.Buffer
	if err := audit.WriteBundle(&buf, b, s.signer); err != nil {
		return nil, err
	}
	return audit.ReadBundle(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
}

// Export streams.
const (
	// exportChunkSize is the most bundle bytes one message carries: far below gRPC's
	// default 4 MiB message ceiling, and large enough that the per-message cost is small.
	exportChunkSize = 256 << 10
	// bundleContentType is the media type of a bundle: a zip archive.
	bundleContentType = "application/zip"
)

// ExportHistory streams the selection's evidence as a signed bundle: a header describing it,
// the zip archive in chunks as the BundleWriter writes it, and a trailer with the archive's
// size and SHA-256. Nothing larger than one run's history is held in memory, so a bundle has
// no size limit; gRPC's flow control keeps the server from running ahead of a slow reader.
// Every refusal (unknown selection, no history) comes before the header; a failure after it
// ends the stream without a trailer, which tells the client that what it got is unusable.
func (s *AuditServer) ExportHistory(req *seleksiv1.ExportHistoryRequest, stream grpc.ServerStreamingServer[seleksiv1.ExportHistoryResponse]) error {
	ctx := stream.Context()
	selID := segment(req.GetName(), 0)
	ev, err := s.collect(ctx, selID)
	if err != nil {
		return err
	}
	if len(ev.runs) == 0 {
		return historyUnavailable(ctx)
	}
	created := ev.header.CreatedAt
	if err := stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Header{Header: &seleksiv1.BundleHeader{
		ContentType:        bundleContentType,
		FileName:           fmt.Sprintf("%s-%s.bundle.zip", selID, created.Format("20060102T150405Z")),
		KeyId:              audit.KeyFingerprint(s.pub),
		SignatureAlgorithm: bundleAlgorithm,
		CreateTime:         timestamppb.New(created),
	}}}); err != nil {
		return err
	}
	out := &chunkSender{stream: stream, h: sha256.New()}
	if err := s.writeBundle(ctx, ev, out); err != nil {
		if out.err != nil {
			// The client went away or the call was cancelled: gRPC's own status says so.
			return out.err
		}
		return s.internalError(ctx, fmt.Errorf("export bundle of %s: %w", selID, err))
	}
	if err := out.flush(); err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "exported a bundle", "selection", selID, "runs", len(ev.runs), "bytes", out.n)
	return stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Trailer{Trailer: &seleksiv1.BundleTrailer{
		SizeBytes: out.n, Sha256: hex.EncodeToString(out.h.Sum(nil)),
	}}})
}

// writeBundle writes the evidence as a signed bundle to w, reading each archived run as it
// goes.
func (s *AuditServer) writeBundle(ctx context.Context, ev *evidence, w io.Writer) error {
	bw, err := audit.NewBundleWriter(w, ev.header, s.signer)
	if err != nil {
		return err
	}
	for _, r := range ev.runs {
		data, err := s.runJSON(ctx, ev.header.SelectionID, r)
		if err != nil {
			return err
		}
		if err := bw.WriteHistory(r.id, data); err != nil {
			return err
		}
	}
	if err := bw.WriteEvents(ev.events); err != nil {
		return err
	}
	if err := bw.WriteSnapshots(ev.snapshots); err != nil {
		return err
	}
	if err := bw.WriteProjection(ev.projection); err != nil {
		return err
	}
	if err := bw.WriteDocuments(ev.documents); err != nil {
		return err
	}
	return bw.Close()
}

// chunkSender sends what is written to it as chunk messages of exportChunkSize, counting
// and hashing it for the trailer.
type chunkSender struct {
	stream grpc.ServerStreamingServer[seleksiv1.ExportHistoryResponse]
	buf    []byte
	h      hash.Hash
	n      int64
	// err is the stream's error once a send failed.
	err error
}

func (c *chunkSender) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	c.h.Write(p)
	c.n += int64(len(p))
	written := len(p)
	for len(p) > 0 {
		if c.buf == nil {
			c.buf = make([]byte, 0, exportChunkSize)
		}
		k := copy(c.buf[len(c.buf):cap(c.buf)], p)
		c.buf, p = c.buf[:len(c.buf)+k], p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return written - len(p), err
			}
		}
	}
	return written, nil
}

// flush sends what is buffered. Each chunk gets a buffer of its own, because gRPC may still
// read a message after Send returns (stats handlers, tracing).
func (c *chunkSender) flush() error {
	if c.err != nil || len(c.buf) == 0 {
		return c.err
	}
	c.err = c.stream.Send(&seleksiv1.ExportHistoryResponse{Content: &seleksiv1.ExportHistoryResponse_Chunk{Chunk: c.buf}})
	c.buf = nil
	return c.err
}

// VerifySelection verifies a selection from the same evidence an export holds, signed in
// memory: the signature and parts, the audit chain against its head, the cross-check of
// the audit events with the history, the snapshot digests, and every projected row of the
// store (published results and their entries, scores, statuses, objections, conflicts, the
// appointment) against the rows the history determines; with replay, also the replay of
// every run through the current workflow code and the comparison of the rebuilt state with
// the store's projection. The store's own walk of its chain and its own snapshot
// checks are added, because they look at the rows as stored rather than as exported.
func (s *AuditServer) VerifySelection(ctx context.Context, req *seleksiv1.VerifySelectionRequest) (*seleksiv1.VerifySelectionResponse, error) {
	selID := segment(req.GetName(), 0)
	ev, err := s.collect(ctx, selID)
	if err != nil {
		return nil, err
	}
	rep := &seleksiv1.VerificationReport{EventsChecked: uint64(len(ev.events)), VerifyTime: timestamppb.New(s.now())}
	var (
		fs         []audit.Finding
		projection []*seleksiv1.Finding
	)
	if len(ev.runs) == 0 {
		fs = append(fs, audit.Finding{Kind: kindHistoryUnavailable, Message: "the selection's workflow has no history"})
		head := audit.Head(ev.events)
		fs = append(fs, audit.CheckChain(ev.events, &head)...)
	} else {
		runs, bundle, err := s.load(ctx, ev)
		if err != nil {
			return nil, s.internalError(ctx, fmt.Errorf("verify: read the histories: %w", err))
		}
		b, err := s.signed(bundle)
		if err != nil {
			return nil, s.internalError(ctx, fmt.Errorf("verify: sign the bundle: %w", err))
		}
		if req.GetReplay() {
			r, err := audit.VerifyBundle(ctx, b, s.pub, s.historyOptions()...)
			if err != nil {
				return nil, commander{logger: s.logger}.workflowError(ctx, "replay", err)
			}
			rep.Replayed = true
			fs = append(fs, r.Findings...)
			if r.Replay.State != nil {
				apps, err := s.applications(ctx, selID)
				if err != nil {
					return nil, storeError(ctx, s.logger, err)
				}
				projection = compareProjection(r.Replay.State, ev.selection, apps)
			}
		} else {
			// Everything VerifyBundle checks except the replay, which is the slow part.
			if err := b.VerifySignature(s.pub); err != nil {
				fs = append(fs, audit.Finding{Kind: audit.KindSignatureInvalid, Part: audit.SignatureName, Message: err.Error()})
			}
			fs = append(fs, b.CheckParts()...)
			head := b.Manifest.AuditHead
			fs = append(fs, audit.CheckChain(b.Events, &head)...)
			facts, ffs := audit.ExtractFacts(runs, s.historyOptions()...)
			fs = append(fs, ffs...)
			fs = append(fs, audit.CrossCheck(facts, b.Events)...)
			fs = append(fs, audit.CheckSnapshots(facts, b.Snapshots)...)
			fs = append(fs, b.CheckProjection(facts)...)
		}
		if fs, err = s.confirmProjection(ctx, selID, runs, fs); err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
		if fs, err = s.confirmAuditEvents(ctx, selID, runs, fs); err != nil {
			return nil, storeError(ctx, s.logger, err)
		}
	}
	fs = append(fs, ev.archiveFindings...)
	kinds := findingKinds()
	for _, f := range fs {
		rep.Findings = append(rep.Findings, findingView(kinds, f))
	}
	rep.Findings = append(rep.Findings, projection...)

	chain, err := s.store.VerifyChain(ctx, selID)
	if err != nil {
		return nil, storeError(ctx, s.logger, err)
	}
	if f := chain.First; f != nil {
		rep.Findings = append(rep.Findings, &seleksiv1.Finding{
			Kind:           seleksiv1.FindingKind(seleksiv1.FindingKind_value[string(f.Kind)]),
			Message:        "store chain: " + f.Message,
			EventSequences: []uint64{uint64(f.Seq)},
		})
	}
	for _, c := range ev.checks {
		if c.OK {
			continue
		}
		msg := fmt.Sprintf("store snapshot %s: recorded digest %s, the rows digest to %s today", c.Key, c.Recorded, c.Recomputed)
		if len(c.Missing) > 0 {
			msg += fmt.Sprintf("; applications missing: %s", strings.Join(c.Missing, ", "))
		}
		rep.Findings = append(rep.Findings, &seleksiv1.Finding{Kind: seleksiv1.FindingKind_FINDING_KIND_SNAPSHOT_MISMATCH, Message: msg})
	}
	rep.Ok = len(rep.Findings) == 0
	return &seleksiv1.VerifySelectionResponse{Report: rep}, nil
}

// confirmProjection reads the projection again when the selection's workflow is still
// running and the first reading differed from the history. The store commits a record
// before the history shows it complete, and the projection was read before the history, so
// a command applied in between differs in the first reading only; what both readings get
// wrong against the history is reported, the rest is dropped.
func (s *AuditServer) confirmProjection(ctx context.Context, selectionID string, runs []*historypb.History, fs []audit.Finding) ([]audit.Finding, error) {
	if !audit.HasKind(fs, audit.KindProjectionMismatch) {
		return fs, nil
	}
	facts, running := runningFacts(runs, s.historyOptions()...)
	if !running {
		return fs, nil
	}
	again, err := s.projection(ctx, selectionID)
	if err != nil {
		return nil, err
	}
	second := audit.CheckProjection(facts, again)
	out := make([]audit.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Kind != audit.KindProjectionMismatch || len(audit.SameFacts([]audit.Finding{f}, second)) > 0 {
			out = append(out, f)
		}
	}
	return out, nil
}

// runningFacts are the facts of runs, and whether the last run is still open: only then can
// the store have moved on between the readings of one verification.
func runningFacts(runs []*historypb.History, opts ...audit.Option) (audit.HistoryFacts, bool) {
	facts, _ := audit.ExtractFacts(runs, opts...)
	return facts, len(facts.Runs) > 0 && facts.Runs[len(facts.Runs)-1].Close == "open"
}

// confirmAuditEvents reads the audit events again when the selection's workflow is still
// running and the cross-check found applied records without their events. The events were
// read before the history (see collect), so a command applied in between is in the history
// but its event is not in the first reading; the second reading, after the history, holds
// the event of every record that history shows applied. Only what both readings miss is
// reported.
func (s *AuditServer) confirmAuditEvents(ctx context.Context, selectionID string, runs []*historypb.History, fs []audit.Finding) ([]audit.Finding, error) {
	if !audit.HasKind(fs, audit.KindAuditEventMissing) {
		return fs, nil
	}
	facts, running := runningFacts(runs, s.historyOptions()...)
	if !running {
		return fs, nil
	}
	again, err := s.auditEvents(ctx, selectionID)
	if err != nil {
		return nil, err
	}
	second := audit.CrossCheck(facts, again)
	out := make([]audit.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Kind != audit.KindAuditEventMissing || slices.ContainsFunc(second, func(g audit.Finding) bool { return g.Kind == f.Kind && g.Message == f.Message }) {
			out = append(out, f)
			continue
		}
		// The event arrived between the readings: what the second reading finds wrong with
		// it (it disagrees with its record, or repeats it) is reported in its place. A
		// record's findings name the same history events.
		for _, g := range second {
			if g.Kind != audit.KindAuditEventMissing && slices.Equal(g.EventIDs, f.EventIDs) && len(g.EventIDs) > 0 {
				out = append(out, g)
			}
		}
	}
	return out, nil
}

// applications reads the store's whole projection of a selection's applications.
func (s *AuditServer) applications(ctx context.Context, selectionID string) ([]store.Application, error) {
	var out []store.Application
	opts := store.ListOptions{PageSize: auditPageSize}
	for {
		page, err := s.store.ListApplications(ctx, selectionID, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextPageToken == "" {
			return out, nil
		}
		opts.PageToken = page.NextPageToken
	}
}

// kindHistoryUnavailable is this server's own finding kind for a selection without a
// history; the library never produces it, because it only ever sees bundles that have one.
const kindHistoryUnavailable = "history_unavailable"

// findingKinds maps the library's finding kinds to the API's coarser enum. The library's
// kind stays in the message, so nothing is lost in the mapping.
func findingKinds() map[string]seleksiv1.FindingKind {
	return map[string]seleksiv1.FindingKind{
		// The bundle was built from the store and Temporal in this request, so a broken
		// signature or part means its bytes do not hash as signed.
		audit.KindSignatureInvalid:   seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
		audit.KindPartDigestMismatch: seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
		audit.KindPartUnlisted:       seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
		audit.KindPartMissing:        seleksiv1.FindingKind_FINDING_KIND_HISTORY_UNAVAILABLE,
		audit.KindPartInvalid:        seleksiv1.FindingKind_FINDING_KIND_HISTORY_UNAVAILABLE,
		audit.KindRunChainBroken:     seleksiv1.FindingKind_FINDING_KIND_HISTORY_UNAVAILABLE,
		kindHistoryUnavailable:       seleksiv1.FindingKind_FINDING_KIND_HISTORY_UNAVAILABLE,
		// An archived history that no longer hashes as its audit event recorded was changed.
		kindArchiveMismatch:            seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
		audit.KindNondeterminism:       seleksiv1.FindingKind_FINDING_KIND_REPLAY_FAILED,
		audit.KindReplayFailed:         seleksiv1.FindingKind_FINDING_KIND_REPLAY_FAILED,
		audit.KindStateMismatch:        seleksiv1.FindingKind_FINDING_KIND_REPLAY_FAILED,
		audit.KindAuditChainBroken:     seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN,
		audit.KindAuditPayloadMismatch: seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
		audit.KindAuditEventMissing:    seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT,
		// An event that disagrees with the history records an action the history does not have.
		audit.KindAuditEventUnmatched:    seleksiv1.FindingKind_FINDING_KIND_UNEXPECTED_EVENT,
		audit.KindAuditEventMismatch:     seleksiv1.FindingKind_FINDING_KIND_UNEXPECTED_EVENT,
		audit.KindSnapshotDigestMismatch: seleksiv1.FindingKind_FINDING_KIND_SNAPSHOT_MISMATCH,
		audit.KindProjectionMismatch:     seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH,
	}
}

// findingView is a library finding in the API's terms. The message keeps the library's
// kind, the run and the part, which the proto has no fields for.
func findingView(kinds map[string]seleksiv1.FindingKind, f audit.Finding) *seleksiv1.Finding {
	out := &seleksiv1.Finding{Kind: kinds[f.Kind], Message: f.String(), HistoryEventIds: f.EventIDs}
	for _, s := range f.Seqs {
		out.EventSequences = append(out.EventSequences, uint64(s))
	}
	return out
}

// compareProjection compares the state rebuilt by replay with the store's projection: the
// selection's stage, and each application's state, current stage, rank and final score.
// Each difference is a PROJECTION_MISMATCH finding.
func compareProjection(st *workflows.SelectionState, sel store.Selection, apps []store.Application) []*seleksiv1.Finding {
	var out []*seleksiv1.Finding
	add := func(format string, args ...any) {
		out = append(out, &seleksiv1.Finding{Kind: seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH, Message: fmt.Sprintf(format, args...)})
	}
	if string(st.Stage) != sel.Stage {
		add("the selection is at %s in the store, replay rebuilds %s", sel.Stage, st.Stage)
	}
	byID := make(map[string]store.Application, len(apps))
	for _, a := range apps {
		byID[a.ID] = a
	}
	inWorkflow := make(map[string]bool, len(st.Applications))
	for _, a := range st.Applications {
		inWorkflow[a.ID] = true
		got, ok := byID[a.ID]
		if !ok {
			add("application %s is in the rebuilt state but not in the store", a.ID)
			continue
		}
		if got.State != string(a.State) {
			add("application %s: state %s in the store, replay rebuilds %s", a.ID, got.State, a.State)
		}
		if want := expectedStage(st.Stage, a); want != "" && got.CurrentStage != want {
			add("application %s: current stage %s in the store, replay rebuilds %s", a.ID, got.CurrentStage, want)
		}
		if got.Rank != a.Rank {
			add("application %s: rank %d in the store, replay rebuilds %d", a.ID, got.Rank, a.Rank)
		}
		if got.FinalScore != int64(a.Final) {
			add("application %s: final score %d in the store, replay rebuilds %d (hundredths)", a.ID, got.FinalScore, a.Final)
		}
	}
	// The workflow learns of applications at the announcement's close; before then, and for
	// those withdrawn during the announcement, the store alone has them.
	if st.Stage != workflows.StageAnnouncement {
		for _, a := range apps {
			if !inWorkflow[a.ID] && !(a.State == store.StateWithdrawn && a.EliminatedStage == store.StageAnnouncement) {
				add("application %s is in the store but not in the rebuilt state", a.ID)
			}
		}
	}
	return out
}

// expectedStage is the current stage the store should show for an application in the
// rebuilt state, following how the store projects it: applications still in the running
// move with the selection; an appointment is recorded at the close; an application that left
// the running stays at the stage where it did. "" means the state does not say (an
// application released by a cancellation keeps the stage of the cancellation, which the
// state does not keep).
func expectedStage(stage workflows.Stage, a workflows.Application) string {
	switch a.State {
	case workflows.AppSubmitted, workflows.AppInProgress, workflows.AppShortlisted:
		return string(stage)
	case workflows.AppAppointed:
		return string(workflows.StageClosed)
	}
	return string(a.EliminatedAt)
}
