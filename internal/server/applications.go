package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/participant"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// ApplicationServer implements ApplicationService. Submissions go straight to the store
// inside the window the workflow projected there (a deadline rush would overwhelm a single
// workflow's update limits); everything after the close goes through the workflow.
type ApplicationServer struct {
	seleksiv1.UnimplementedApplicationServiceServer
	store Store
	cmd   commander
	now   func() time.Time
	// docs checks the clarifying documents objections attach; refuseDocuments until
	// UseDocuments gives the document store's checker.
	docs DocumentChecker
	// numbers is the agency's participant number format; participant.DefaultFormat until
	// UseParticipantNumbers sets the configured one.
	numbers participant.Format
}

// UseParticipantNumbers sets the format of the participant numbers given at submission; the
// zero Format (a configuration built without config.Parse) keeps the default.
func (s *ApplicationServer) UseParticipantNumbers(f participant.Format) {
	if f.String() != "" {
		s.numbers = f
	}
}

// DocumentChecker checks that a document, `documents/{id}`, was uploaded by owner (the
// caller's recorded actor) for the selection, so that an objection may attach it. The
// document store implements it; an error wrapping store.ErrNotFound is the caller's fault
// (the document does not exist or is not theirs: the two are not told apart), anything else
// is the service's.
type DocumentChecker interface {
	CheckOwned(ctx context.Context, selectionID, owner, document string) error
}

// ErrDocumentsUnavailable is what the default DocumentChecker answers: this server has no
// document store, so no objection can attach a document.
var ErrDocumentsUnavailable = errors.New("server: documents are not available")

// refuseDocuments is the DocumentChecker of a server without a document store.
type refuseDocuments struct{}

func (refuseDocuments) CheckOwned(context.Context, string, string, string) error {
	return ErrDocumentsUnavailable
}

// UseDocuments sets the checker of the documents objections attach; nil refuses them all.
func (s *ApplicationServer) UseDocuments(dc DocumentChecker) {
	if dc == nil {
		dc = refuseDocuments{}
	}
	s.docs = dc
}

var (
	msgDocumentUnavailable = i18n.Text{
		ID: "dokumen tidak dapat dilampirkan pada sanggah di layanan ini",
		EN: "documents cannot be attached to objections on this service",
	}
	msgDocumentNotYours = i18n.Text{
		ID: "dokumen tidak ditemukan di antara dokumen yang Anda unggah untuk seleksi ini",
		EN: "the document is not among those you uploaded for this selection",
	}
)

var _ seleksiv1.ApplicationServiceServer = (*ApplicationServer)(nil)

// NewApplicationServer builds the application handlers.
// cat renders the message codes of statuses, reasons and rejections.
func NewApplicationServer(st Store, wf Workflows, cat *i18n.Catalog, logger *slog.Logger, now func() time.Time) *ApplicationServer {
	if now == nil {
		now = time.Now
	}
	numbers, err := participant.Parse(participant.DefaultFormat)
	if err != nil {
		panic(err) // a constant; TestNumber in internal/participant parses it
	}
	return &ApplicationServer{store: st, cmd: commander{wf: wf, ledger: st, stages: st, cat: cat, logger: logger}, now: now,
		docs: refuseDocuments{}, numbers: numbers}
}

var msgWindowClosed = i18n.Text{
	ID: "masa pendaftaran seleksi ini tidak sedang dibuka",
	EN: "this selection is not accepting applications now",
}

// SubmitApplication stores the caller's application, once per candidate per selection.
func (s *ApplicationServer) SubmitApplication(ctx context.Context, req *seleksiv1.SubmitApplicationRequest) (*seleksiv1.SubmitApplicationResponse, error) {
	p := principal(ctx)
	selID := segment(req.GetParent(), 0)
	owner, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	app := req.GetApplication()
	prof := app.GetCandidate()
	profile := proto.Clone(prof).(*seleksiv1.CandidateProfile)
	// Personal data lives in the candidate's own row; the profile keeps the rest.
	profile.FullName, profile.Nip, profile.Email, profile.Phone, profile.BirthDate = "", "", "", "", ""
	profileJSON, err := protojson.Marshal(profile)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	now := s.now()
	exp := int(prof.GetYearsOfExperience()) * 12
	adm := int(prof.GetYearsInAdministratorPost()) * 12
	in := store.SubmitInput{
		SelectionID: selID,
		RequestID:   req.GetRequestId(),
		Owner:       owner.Subject,
		Candidate: store.Candidate{Subject: p.Subject, FullName: prof.GetFullName(), NIP: prof.GetNip(),
			Email: prof.GetEmail(), Phone: prof.GetPhone(), BirthDate: prof.GetBirthDate()},
		Profile:   profileJSON,
		Statement: app.GetStatement(),
		Facts: store.Facts{Education: prof.GetEducationLevel().String(), ExperienceMonths: &exp,
			AdministratorMonths: &adm, Documents: []string{}},
		Now: now,
		ParticipantNumber: func(timeZone string, seq int) (string, error) {
			// The year as the candidate saw the date: a submission at 23:30 WIB on 31
			// December is numbered in the year that is ending.
			loc, err := calendar.Zone(trimEnumPrefix(timeZone, "TIME_ZONE_")).Location()
			if err != nil {
				return "", err
			}
			return s.numbers.Number(now.In(loc).Year(), selID, seq)
		},
	}
	for _, d := range app.GetDocuments() {
		in.Documents = append(in.Documents, store.DocumentRef{Kind: d.GetKind(), DocumentID: segment(d.GetDocument(), 0)})
		in.Facts.Documents = append(in.Facts.Documents, d.GetKind())
	}
	a, err := s.store.SubmitApplication(ctx, in)
	if err != nil {
		var de *store.DocumentsError
		if errors.As(err, &de) {
			return nil, documentsError(ctx, de, func(i int, reason string) string {
				field := "application.documents"
				switch {
				case i < 0:
					return field
				case reason == store.DocumentNotRequired:
					return fmt.Sprintf("%s[%d].kind", field, i)
				}
				return fmt.Sprintf("%s[%d].document", field, i)
			})
		}
		if isPrecondition(err) {
			return nil, localizedError(ctx, codes.FailedPrecondition, msgWindowClosed)
		}
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := s.view(ctx, a)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return &seleksiv1.SubmitApplicationResponse{Application: v}, nil
}

// visible loads an application the caller may see: candidates only their own. Another
// candidate's application is reported as not found, so IDs cannot be probed. It returns the
// caller as the selection records people, too.
func (s *ApplicationServer) visible(ctx context.Context, selID, appID string) (store.Application, workflows.Actor, error) {
	a, err := s.store.GetApplication(ctx, selID, appID)
	if err != nil {
		return store.Application{}, workflows.Actor{}, storeError(ctx, s.cmd.logger, err)
	}
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return store.Application{}, workflows.Actor{}, storeError(ctx, s.cmd.logger, err)
	}
	if principal(ctx).Role == auth.RoleCandidate && a.Owner != me.Subject {
		return store.Application{}, workflows.Actor{}, localizedError(ctx, codes.NotFound, msgNotFound)
	}
	return a, me, nil
}

// GetApplication returns one application with its status.
func (s *ApplicationServer) GetApplication(ctx context.Context, req *seleksiv1.GetApplicationRequest) (*seleksiv1.GetApplicationResponse, error) {
	a, _, err := s.visible(ctx, segment(req.GetName(), 0), segment(req.GetName(), 1))
	if err != nil {
		return nil, err
	}
	v, err := s.view(ctx, a)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return &seleksiv1.GetApplicationResponse{Application: v}, nil
}

// ListApplications lists a selection's applications for the committee, secretariat and
// auditors; a candidate gets only their own.
func (s *ApplicationServer) ListApplications(ctx context.Context, req *seleksiv1.ListApplicationsRequest) (*seleksiv1.ListApplicationsResponse, error) {
	opts := store.ListOptions{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken(), Filter: req.GetFilter(), OrderBy: req.GetOrderBy()}
	if principal(ctx).Role == auth.RoleCandidate {
		me, err := actorIn(ctx, s.store, segment(req.GetParent(), 0))
		if err != nil {
			return nil, storeError(ctx, s.cmd.logger, err)
		}
		opts.Owner = me.Subject
	}
	page, err := s.store.ListApplications(ctx, segment(req.GetParent(), 0), opts)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	out := &seleksiv1.ListApplicationsResponse{NextPageToken: page.NextPageToken, TotalSize: int32(page.TotalSize)}
	intake := &intakeOnce{}
	for _, a := range page.Items {
		v, err := s.viewIn(ctx, a, intake)
		if err != nil {
			return nil, storeError(ctx, s.cmd.logger, err)
		}
		out.Applications = append(out.Applications, v)
	}
	return out, nil
}

// WithdrawApplication withdraws the caller's own application. While the announcement window
// is open the application is not in the workflow yet (submissions go to the store), so the
// withdrawal goes to the store too, idempotently, with its audit event, and the close's
// snapshot leaves the application out. After the close it goes through the workflow.
func (s *ApplicationServer) WithdrawApplication(ctx context.Context, req *seleksiv1.WithdrawApplicationRequest) (*seleksiv1.WithdrawApplicationResponse, error) {
	selID, appID := segment(req.GetName(), 0), segment(req.GetName(), 1)
	a, me, err := s.visible(ctx, selID, appID)
	if err != nil {
		return nil, err
	}
	if a.CurrentStage == string(workflows.StageAnnouncement) {
		// The status of an application withdrawn during the announcement is the code the
		// workflow gives one withdrawn after the close; the edges render it.
		withdrawn := store.Text{Code: workflows.CodeStatusWithdrawn}
		w, err := s.store.WithdrawBeforeClose(ctx, store.WithdrawInput{SelectionID: selID, ApplicationID: appID,
			RequestID: req.GetRequestId(), Actor: store.Actor{Subject: me.Subject, Role: string(me.Role)},
			Reason: req.GetReason(), Status: &withdrawn, Now: s.now()})
		switch {
		case err == nil:
			v, err := applicationView(s.cmd.cat, w, true)
			if err != nil {
				return nil, storeError(ctx, s.cmd.logger, err)
			}
			return &seleksiv1.WithdrawApplicationResponse{Application: v}, nil
		case !isPrecondition(err):
			return nil, storeError(ctx, s.cmd.logger, err)
		}
		// The window has just closed: the workflow takes the withdrawal once the close is
		// recorded, and says so until then.
	}
	if _, err := s.cmd.send(ctx, selID, req.GetRequestId(), workflows.UpdateWithdrawApplication, workflows.WithdrawArgs{
		Actor: me, ApplicationID: appID, Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	return s.reload(ctx, selID, appID)
}

var msgDocumentsFrozen = i18n.Text{
	ID: "dokumen lamaran hanya dapat diganti selama masa pendaftaran dan selama lamaran belum ditarik; setelah pengumuman ditutup dokumen dibekukan",
	EN: "an application's documents can be replaced only while the announcement is open and the application is not withdrawn; they are frozen at its close",
}

// ReplaceDocument replaces one document of the caller's own application while the
// announcement window is open; the store checks the new document as a submission's and
// keeps the old one, replaced, for the audit.
func (s *ApplicationServer) ReplaceDocument(ctx context.Context, req *seleksiv1.ReplaceDocumentRequest) (*seleksiv1.ReplaceDocumentResponse, error) {
	selID, appID := segment(req.GetName(), 0), segment(req.GetName(), 1)
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	a, err := s.store.ReplaceDocument(ctx, store.ReplaceDocumentInput{SelectionID: selID, ApplicationID: appID,
		RequestID: req.GetRequestId(), Owner: me.Subject, Kind: req.GetKind(), DocumentID: segment(req.GetDocument(), 0), Now: s.now()})
	if err != nil {
		var de *store.DocumentsError
		switch {
		case errors.As(err, &de):
			return nil, documentsError(ctx, de, func(_ int, reason string) string {
				if reason == store.DocumentNotRequired {
					return "kind"
				}
				return "document"
			})
		case isPrecondition(err):
			return nil, localizedError(ctx, codes.FailedPrecondition, msgDocumentsFrozen)
		}
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := s.view(ctx, a)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return &seleksiv1.ReplaceDocumentResponse{Application: v}, nil
}

// view shows an application to the people allowed to see it. An application the workflow
// has not spoken about yet (the announcement is still open) is received, and its status says
// when the screening starts: at the announcement's close, which the selection's row knows.
func (s *ApplicationServer) view(ctx context.Context, a store.Application) (*seleksiv1.Application, error) {
	if a.Intake != nil {
		// GetApplication read the selection's intake facts with the application.
		return s.viewIn(ctx, a, &intakeOnce{read: true, in: *a.Intake})
	}
	return s.viewIn(ctx, a, &intakeOnce{})
}

// intakeOnce reads a selection's intake facts once for the views of one response.
type intakeOnce struct {
	read bool
	in   store.SelectionIntake
}

func (o *intakeOnce) get(ctx context.Context, st Store, selectionID string) (store.SelectionIntake, error) {
	if o.read {
		return o.in, nil
	}
	in, err := st.GetSelectionIntake(ctx, selectionID)
	if err != nil {
		return store.SelectionIntake{}, err
	}
	o.read, o.in = true, in
	return in, nil
}

// viewIn is view with the selection's intake facts shared by the views of one response.
func (s *ApplicationServer) viewIn(ctx context.Context, a store.Application, intake *intakeOnce) (*seleksiv1.Application, error) {
	v, err := applicationView(s.cmd.cat, a, true)
	if err != nil {
		return nil, err
	}
	if len(v.Checklist) > 0 {
		verifiers := make([]string, 0, len(v.Checklist))
		for _, it := range v.Checklist {
			verifiers = append(verifiers, it.GetVerifiedBy())
		}
		who, err := subjectsOf(ctx, s.store, verifiers)
		if err != nil {
			return nil, err
		}
		for _, it := range v.Checklist {
			it.VerifiedBy = who.of(it.GetVerifiedBy())
		}
	}
	if a.Status.Code != "" || a.Status.ID != "" || a.State != store.StateSubmitted {
		return v, nil
	}
	sel, err := intake.get(ctx, s.store, a.SelectionID)
	if err != nil {
		return nil, err
	}
	switch {
	case sel.Stage != store.StageAnnouncement:
		// The close does not write every application's status; from then on it is screened.
		v.StatusText = localized(s.cmd.cat, i18n.Msg{Code: workflows.CodeStatusScreening})
	case !sel.WindowCloses.IsZero():
		v.StatusText = localized(s.cmd.cat, i18n.Msg{Code: workflows.CodeStatusReceived, Params: map[string]string{
			"closes": sel.WindowCloses.UTC().Format(time.RFC3339), "zone": trimEnumPrefix(sel.TimeZone, "TIME_ZONE_")}})
	}
	return v, nil
}

func (s *ApplicationServer) reload(ctx context.Context, selID, appID string) (*seleksiv1.WithdrawApplicationResponse, error) {
	a, err := s.store.GetApplication(ctx, selID, appID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := s.view(ctx, a)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return &seleksiv1.WithdrawApplicationResponse{Application: v}, nil
}

// FileObjection files the caller's objection against a published stage result.
func (s *ApplicationServer) FileObjection(ctx context.Context, req *seleksiv1.FileObjectionRequest) (*seleksiv1.FileObjectionResponse, error) {
	selID, appID := segment(req.GetParent(), 0), segment(req.GetParent(), 1)
	_, me, err := s.visible(ctx, selID, appID)
	if err != nil {
		return nil, err
	}
	stage := wfStage(req.GetObjection().GetStage())
	if doc := req.GetObjection().GetDocument(); doc != "" {
		// The workflow decides whether the selection allows a document; whose it is, only
		// the document store knows.
		if err := s.docs.CheckOwned(ctx, selID, me.Subject, doc); err != nil {
			switch {
			case errors.Is(err, ErrDocumentsUnavailable):
				return nil, localizedError(ctx, codes.FailedPrecondition, msgDocumentUnavailable)
			case errors.Is(err, store.ErrNotFound):
				return nil, localizedError(ctx, codes.InvalidArgument, msgDocumentNotYours)
			}
			return nil, storeError(ctx, s.cmd.logger, err)
		}
	}
	res, err := s.cmd.send(ctx, selID, req.GetRequestId(), workflows.UpdateFileObjection, workflows.FileObjectionArgs{
		Actor: me, ApplicationID: appID, Stage: stage, Reason: req.GetObjection().GetReason(),
		Revision: int(req.GetObjection().GetRevision()), Items: req.GetObjection().GetItems(), Document: req.GetObjection().GetDocument()})
	if err != nil {
		return nil, err
	}
	o, err := s.store.GetObjection(ctx, selID, res.ObjectionID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := s.objectionView(ctx, o)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.FileObjectionResponse{Objection: v}, nil
}

// ListObjections lists an application's objections, or a selection's (application "-").
func (s *ApplicationServer) ListObjections(ctx context.Context, req *seleksiv1.ListObjectionsRequest) (*seleksiv1.ListObjectionsResponse, error) {
	selID, appID := segment(req.GetParent(), 0), segment(req.GetParent(), 1)
	if appID == "-" {
		if principal(ctx).Role == auth.RoleCandidate {
			return nil, localizedError(ctx, codes.PermissionDenied, msgWrongRole)
		}
		appID = ""
	} else if _, _, err := s.visible(ctx, selID, appID); err != nil {
		return nil, err
	}
	page, err := s.store.ListObjections(ctx, selID, appID, store.ListOptions{PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()})
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	out := &seleksiv1.ListObjectionsResponse{NextPageToken: page.NextPageToken}
	answerers := make([]string, len(page.Items))
	for i, o := range page.Items {
		answerers[i] = o.AnsweredBy
	}
	who, err := subjectsOf(ctx, s.store, answerers)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	for _, o := range page.Items {
		out.Objections = append(out.Objections, objectionView(o, who))
	}
	return out, nil
}

// AnswerObjection records the committee's answer; an accepted objection corrects and
// re-publishes the stage result.
func (s *ApplicationServer) AnswerObjection(ctx context.Context, req *seleksiv1.AnswerObjectionRequest) (*seleksiv1.AnswerObjectionResponse, error) {
	selID, appID := segment(req.GetName(), 0), segment(req.GetName(), 1)
	stage, revision, ok := objectionFromSlug(segment(req.GetName(), 2))
	if !ok {
		return nil, localizedError(ctx, codes.NotFound, msgNotFound)
	}
	objID := workflows.ObjectionRevisionID(workflows.Stage(stage), revision, appID)
	me, err := actorIn(ctx, s.store, selID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	args := workflows.AnswerObjectionArgs{Actor: me, ObjectionID: objID, Accept: req.GetAccepted(), Answer: req.GetAnswer()}
	if c := req.GetCorrectedResult(); c != nil {
		in := resultInput(c)
		in.ApplicationID = appID
		args.Correction = &in
	}
	for _, a := range req.GetItemAnswers() {
		args.Items = append(args.Items, workflows.ItemAnswer{Item: a.GetItem(), Accepted: a.GetAccepted(), Answer: a.GetAnswer()})
	}
	if _, err := s.cmd.send(ctx, selID, req.GetRequestId(), workflows.UpdateAnswerObjection, args); err != nil {
		return nil, err
	}
	o, err := s.store.GetObjection(ctx, selID, objID)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	v, err := s.objectionView(ctx, o)
	if err != nil {
		return nil, err
	}
	out := &seleksiv1.AnswerObjectionResponse{Objection: v}
	if req.GetAccepted() {
		out.RepublishedResult = resultOfCommand(ctx, s.store, s.cmd.cat, s.cmd.logger, selID, stage)
	}
	return out, nil
}

func isPrecondition(err error) bool { return errors.Is(err, store.ErrFailedPrecondition) }

// objectionView shows one objection with the subject of the member who answered it.
func (s *ApplicationServer) objectionView(ctx context.Context, o store.Objection) (*seleksiv1.Objection, error) {
	who, err := subjectsOf(ctx, s.store, []string{o.AnsweredBy})
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	return objectionView(o, who), nil
}
