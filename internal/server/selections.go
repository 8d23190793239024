package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/reconcile"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Store is what the handlers read and write in the relational store.
type Store interface {
	CreateSelection(ctx context.Context, in store.NewSelection) (store.Selection, error)
	GetSelection(ctx context.Context, id string) (store.Selection, error)
	GetSelectionIntake(ctx context.Context, id string) (store.SelectionIntake, error)
	ListSelections(ctx context.Context, opts store.ListOptions) (store.Page[store.Selection], error)
	ApplicationCounts(ctx context.Context, selectionID string) (store.ApplicationCounts, error)
	GetStageResult(ctx context.Context, selectionID, stage string, revision int) (store.StageResult, error)
	CandidateNames(ctx context.Context, selectionID string) (map[string]string, error)
	SubmitApplication(ctx context.Context, in store.SubmitInput) (store.Application, error)
	GetApplication(ctx context.Context, selectionID, id string) (store.Application, error)
	ListApplications(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.Application], error)
	ListObjections(ctx context.Context, selectionID, applicationID string, opts store.ListOptions) (store.Page[store.Objection], error)
	GetObjection(ctx context.Context, selectionID, id string) (store.Objection, error)
	WithdrawBeforeClose(ctx context.Context, in store.WithdrawInput) (store.Application, error)
	ReplaceDocument(ctx context.Context, in store.ReplaceDocumentInput) (store.Application, error)
	MarkWorkflowStarted(ctx context.Context, selectionID string, at time.Time) error
	SelectionCreatedBy(ctx context.Context, requestID string) (string, time.Time, error)
	Ledger
	Actors
	RecordsActorIDs(ctx context.Context, selectionID string) (bool, error)
}

// SelectionOptions configure the selection handlers.
type SelectionOptions struct {
	TaskQueue string
	// SecondsPerDay compresses every new selection's days (demonstrations and tests only);
	// zero is real time.
	SecondsPerDay int64
	Now           func() time.Time
}

// SelectionServer implements SelectionService: reads from the store, commands through the
// selection's workflow.
type SelectionServer struct {
	seleksiv1.UnimplementedSelectionServiceServer
	store Store
	cmd   commander
	opts  SelectionOptions
}

var _ seleksiv1.SelectionServiceServer = (*SelectionServer)(nil)

// NewSelectionServer builds the selection handlers.
// cat renders the message codes of reasons and rejections.
func NewSelectionServer(st Store, wf Workflows, cat *i18n.Catalog, logger *slog.Logger, opts SelectionOptions) *SelectionServer {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &SelectionServer{store: st, cmd: commander{wf: wf, ledger: st, stages: st, cat: cat, logger: logger}, opts: opts}
}

var (
	msgNotFound        = i18n.Text{ID: "tidak ditemukan", EN: "not found"}
	msgConflict        = i18n.Text{ID: "bertentangan dengan data yang sudah ada", EN: "conflicts with existing data"}
	msgPrecondition    = i18n.Text{ID: "tidak dapat dilakukan pada keadaan saat ini", EN: "not possible in the current state"}
	msgInvalidSelInput = i18n.Text{ID: "definisi seleksi tidak sah", EN: "the selection's definition is not valid"}
)

// storeError maps the store's typed errors to statuses; other errors are logged and hidden.
func storeError(ctx context.Context, logger *slog.Logger, err error) error {
	var opt *store.OptionError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return localizedError(ctx, codes.NotFound, msgNotFound)
	case errors.Is(err, store.ErrConflict):
		return localizedError(ctx, codes.AlreadyExists, msgConflict)
	case errors.Is(err, store.ErrFailedPrecondition):
		return localizedError(ctx, codes.FailedPrecondition, msgPrecondition)
	case errors.As(err, &opt):
		return listOptionError(ctx, opt)
	case errors.Is(err, store.ErrInvalidArgument):
		return localizedError(ctx, codes.InvalidArgument, msgInvalid, &errdetails.BadRequest{
			// The store's own words are for the log, not for clients.
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "request", Description: msgInvalid.In(language(ctx)), Reason: "invalid"}},
		})
	case store.IsInvalidData(err):
		// The API's validation should have refused it; the store's own check caught it.
		logger.WarnContext(ctx, "store refused data", "error", err)
		return localizedError(ctx, codes.InvalidArgument, msgInvalid, &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "request", Description: msgInvalid.In(language(ctx)), Reason: "INVALID_DATA"}},
		})
	case store.IsUnavailable(err):
		// Before the context's errors: a connection attempt that the deadline cut short
		// still means the database could not be reached.
		logger.WarnContext(ctx, "store unavailable", "error", err)
		return unavailable(ctx, health.Store)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return localizedError(ctx, codes.DeadlineExceeded, msgTimeout)
	}
	logger.ErrorContext(ctx, "store call failed", "error", err)
	return localizedError(ctx, codes.Internal, msgInternal)
}

func principal(ctx context.Context) auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p
}

// me is the caller as selection selectionID records people (see actorIn).
func (s *SelectionServer) me(ctx context.Context, selectionID string) (workflows.Actor, error) {
	a, err := actorIn(ctx, s.store, selectionID)
	if err != nil {
		return workflows.Actor{}, storeError(ctx, s.cmd.logger, err)
	}
	return a, nil
}

// CreateSelection checks the plan, records the definition together with the workflow's input
// in the store (idempotently by request_id), then starts the selection's workflow. A retry
// after a failure in between finds the stored definition and starts the workflow then; when
// no retry comes, the reconciler (internal/reconcile) starts it from the recorded input.
func (s *SelectionServer) CreateSelection(ctx context.Context, req *seleksiv1.CreateSelectionRequest) (*seleksiv1.CreateSelectionResponse, error) {
	id := selectionIDFor(req)
	in, violations, err := selectionInput(id, req.GetSelection())
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	in.TimeScale = workflows.TimeScale{SecondsPerDay: s.opts.SecondsPerDay}
	lang := language(ctx)
	if verr := in.Validate(); verr != nil {
		for _, p := range workflows.ProblemsOf(verr) {
			violations = append(violations, &errdetails.BadRequest_FieldViolation{
				Field: "selection", Description: s.cmd.cat.Render(catalogMsg(p), lang), Reason: p.Code})
		}
	}
	// The plan is counted from the scheduled opening or, for an announcement that opens at
	// once, from now. The workflow's own start follows a few milliseconds later, which moves
	// the window only across a midnight; what the store shows afterwards is authoritative.
	now := s.opts.Now().UTC()
	// A retry of a create the store already holds is checked as of the first attempt, so that
	// it gets the first answer even when its scheduled opening has passed since (the store
	// still refuses the request ID with a different definition).
	if prior, at, err := s.store.SelectionCreatedBy(ctx, req.GetRequestId()); err == nil && prior == id {
		now = at
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	opens, v := scheduledOpening(req.GetSelection(), now, lang)
	if v != nil {
		violations = append(violations, v)
	}
	in.AnnouncementOpensAt = opens
	var plan workflows.AnnouncementPlan
	if len(violations) == 0 {
		from := now
		if !opens.IsZero() {
			from = opens
		}
		if plan, v = checkPlan(in, from, lang); v != nil {
			violations = append(violations, v)
		}
	}
	if len(violations) > 0 {
		return nil, localizedError(ctx, codes.InvalidArgument, msgInvalidSelInput, &errdetails.BadRequest{FieldViolations: violations})
	}
	if req.GetValidateOnly() {
		// The request passed every check a create makes before storing anything: answer with
		// the plan alone (AIP-163), so that a form can preview the dates the service will use.
		// A chosen ID already taken would fail the create, so it fails the preview too.
		if req.GetSelectionId() != "" {
			switch _, err := s.store.GetSelection(ctx, id); {
			case err == nil:
				return nil, localizedError(ctx, codes.AlreadyExists, msgConflict)
			case !errors.Is(err, store.ErrNotFound):
				return nil, storeError(ctx, s.cmd.logger, err)
			}
		}
		return &seleksiv1.CreateSelectionResponse{AnnouncementPlan: planView(plan, in, req.GetSelection().GetTimeZone(), !opens.IsZero(), lang)}, nil
	}

	def := proto.Clone(req.GetSelection()).(*seleksiv1.Selection)
	clearOutputOnly(def.ProtoReflect())
	if in.TimeScale.SecondsPerDay > 0 {
		def.TimeScale = 86400 / float64(in.TimeScale.SecondsPerDay)
	} else {
		def.TimeScale = 1
	}
	config, err := protojson.Marshal(def)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, fmt.Errorf("encode definition: %w", err))
	}
	// A new selection records people by actor ID.
	me, err := callerActor(ctx, s.store)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	wfIn, err := s.workflowInput(ctx, in)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	input, err := json.Marshal(wfIn)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, fmt.Errorf("encode workflow input: %w", err))
	}
	committee := make([]store.CommitteeMember, 0, len(def.GetCommittee()))
	for _, m := range def.GetCommittee() {
		committee = append(committee, store.CommitteeMember{MemberID: m.GetMemberId(), DisplayName: m.GetDisplayName(),
			Kind: m.GetKind().String(), Role: m.GetRole().String(), PostLevel: m.GetPostLevel().String(), Affiliation: m.GetAffiliation()})
	}
	wfID := workflows.WorkflowID(id)
	if _, err := s.store.CreateSelection(ctx, store.NewSelection{
		ID: id, RequestID: req.GetRequestId(), WorkflowID: wfID,
		PositionTitle: def.GetPositionTitle(), PositionUnit: def.GetPositionUnit(), Agency: def.GetAgency(),
		TimeZone: def.GetTimeZone().String(), Config: config, Committee: committee,
		Actor: store.Actor{Subject: me.Subject, Role: string(me.Role)}, Now: now,
		WorkflowInput: input, Scheduled: !opens.IsZero(),
	}); err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	// From here on the selection exists with its input: if this process dies before the
	// workflow starts, the reconciler starts it.
	if err := reconcile.Start(ctx, s.cmd.wf, s.opts.TaskQueue, wfID, def.GetAgency(), wfIn); err != nil {
		return nil, s.cmd.workflowError(ctx, "start", err)
	}
	if err := s.store.MarkWorkflowStarted(ctx, id, s.opts.Now()); err != nil {
		// The workflow runs; the reconciler will find it running and mark it.
		s.cmd.logger.WarnContext(ctx, "could not mark the selection's workflow started", "selection", id, "error", err)
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	// The plan is computed here rather than read back from the workflow's first projection:
	// it is the same calendar arithmetic, costs nothing, and does not make creation wait for
	// a worker.
	return &seleksiv1.CreateSelectionResponse{Selection: sel,
		AnnouncementPlan: planView(plan, in, def.GetTimeZone(), !opens.IsZero(), lang)}, nil
}

// workflowInput is the selection's input as the workflow gets it: the committee is known by
// actor IDs, as every caller is, and by no name, so that no member's subject (often a NIP)
// or name enters Temporal. The definition in the store keeps both. Members' tokens come from
// the identity provider that issued the secretariat's, so their actor IDs are taken under the
// creating caller's issuer.
func (s *SelectionServer) workflowInput(ctx context.Context, in workflows.SelectionInput) (workflows.SelectionInput, error) {
	issuer := principal(ctx).Issuer
	members := make([]workflows.Member, len(in.Committee))
	for i, m := range in.Committee {
		id, err := s.store.ActorID(ctx, issuer, m.Subject)
		if err != nil {
			return workflows.SelectionInput{}, fmt.Errorf("actor ID of committee member %d: %w", i+1, err)
		}
		m.Subject, m.Name = id, ""
		members[i] = m
	}
	in.Committee = members
	return in, nil
}

// clearOutputOnly clears every field marked OUTPUT_ONLY, recursively: a client cannot set
// a selection's stage or timestamps by sending them (AIP-203).
func clearOutputOnly(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		behaviors, _ := proto.GetExtension(fd.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
		if slices.Contains(behaviors, annotations.FieldBehavior_OUTPUT_ONLY) {
			m.Clear(fd)
			return true
		}
		if fd.Kind() == protoreflect.MessageKind {
			switch {
			case fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					clearOutputOnly(v.List().Get(i).Message())
				}
			case !fd.IsMap():
				clearOutputOnly(v.Message())
			}
		}
		return true
	})
}

func (s *SelectionServer) view(ctx context.Context, id string) (*seleksiv1.Selection, error) {
	sel, err := s.store.GetSelection(ctx, id)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	counts, err := s.store.ApplicationCounts(ctx, id)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	who, err := subjectsOf(ctx, s.store, conflictActors(sel))
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := selectionView(s.cmd.cat, sel, &counts, who)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v.Blocked = blockedView(ctx, s.cmd.cat, sel.Blocked)
	return v, nil
}

// GetSelection returns the announcement and the selection's status.
func (s *SelectionServer) GetSelection(ctx context.Context, req *seleksiv1.GetSelectionRequest) (*seleksiv1.GetSelectionResponse, error) {
	sel, err := s.view(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	hideConflicts(ctx, sel)
	return &seleksiv1.GetSelectionResponse{Selection: sel}, nil
}

// hideConflicts removes the committee's declared conflicts of interest from a selection shown
// on a public route, unless the caller is on its committee, the secretariat or an auditor.
func hideConflicts(ctx context.Context, sel *seleksiv1.Selection) {
	p, ok := auth.FromContext(ctx)
	if ok && (p.Role == auth.RoleAdmin || p.Role == auth.RoleAuditor || p.SitsOn(segment(sel.GetName(), 0))) {
		return
	}
	sel.Conflicts = nil
}

// ListSelections lists selections page by page.
func (s *SelectionServer) ListSelections(ctx context.Context, req *seleksiv1.ListSelectionsRequest) (*seleksiv1.ListSelectionsResponse, error) {
	page, err := s.store.ListSelections(ctx, store.ListOptions{
		PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter(), OrderBy: req.GetOrderBy()})
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	out := &seleksiv1.ListSelectionsResponse{NextPageToken: page.NextPageToken, TotalSize: int32(page.TotalSize)}
	var actors []string
	for _, sel := range page.Items {
		actors = append(actors, conflictActors(sel)...)
	}
	who, err := subjectsOf(ctx, s.store, actors)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	for _, sel := range page.Items {
		v, err := selectionView(s.cmd.cat, sel, nil, who)
		if err != nil {
			return nil, storeError(ctx, s.cmd.logger, err)
		}
		v.Blocked = blockedView(ctx, s.cmd.cat, sel.Blocked)
		hideConflicts(ctx, v)
		out.Selections = append(out.Selections, v)
	}
	return out, nil
}

// GetStageResult returns a published stage result, the latest revision unless asked.
func (s *SelectionServer) GetStageResult(ctx context.Context, req *seleksiv1.GetStageResultRequest) (*seleksiv1.GetStageResultResponse, error) {
	id := segment(req.GetName(), 0)
	r, err := publishedResult(ctx, s.store, s.cmd.cat, id, stageFromSlug(segment(req.GetName(), 1)), int(req.GetRevision()))
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return &seleksiv1.GetStageResultResponse{Result: r}, nil
}
