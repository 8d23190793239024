package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// detailPage is one application as its candidate follows it.
type detailPage struct {
	Ref         appRef
	Selection   *seleksiv1.Selection
	Application *seleksiv1.Application
	Status      string
	Reason      string
	Timeline    []timelineStep
	Results     []*seleksiv1.ApplicationStageResult
	Docs        []docView
	Objections  []*seleksiv1.Objection
	Offers      []objectionOffer
	CanWithdraw bool
	// CanReplace: the announcement is open and the application not withdrawn, so its
	// documents may be replaced.
	CanReplace             bool
	MaxSize, Types, Accept string
	RequestID              string
	// Invitations are the candidate's places in sessions (issue 13).
	Invitations []invitationView
}

// timelineStep is one stage on the application's way: done, where it is now, ahead, or
// where it stopped.
type timelineStep struct {
	Stage seleksiv1.Stage
	State string
}

// objectionOffer is an objection the candidate may file now: a published result whose
// window is open and that they have not objected to yet.
type objectionOffer struct {
	Stage         seleksiv1.Stage
	Slug          string
	Revision      uint32
	Deadline      *timestamppb.Timestamp
	Items         []*seleksiv1.UnmetRequirement
	AllowDocument bool
	RequestID     string
}

var timelineStages = []seleksiv1.Stage{
	seleksiv1.Stage_STAGE_ANNOUNCEMENT, seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, seleksiv1.Stage_STAGE_COMPETENCY_TEST,
	seleksiv1.Stage_STAGE_INTERVIEW, seleksiv1.Stage_STAGE_COMMITTEE_DECISION,
}

// stageSlug is a stage's name in result URLs.
func stageSlug(st seleksiv1.Stage) string {
	for _, s := range stageSlugs {
		if s.stage == st {
			return s.slug
		}
	}
	return ""
}

// timeline places the application on the stages.
func timeline(a *seleksiv1.Application) []timelineStep {
	cur := a.GetCurrentStage()
	stopped := a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_ELIMINATED || a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN
	finished := a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_APPOINTED || a.GetState() == seleksiv1.ApplicationState_APPLICATION_STATE_NOT_SELECTED ||
		cur == seleksiv1.Stage_STAGE_CLOSED
	out := make([]timelineStep, 0, len(timelineStages))
	for _, st := range timelineStages {
		state := "upcoming"
		switch {
		case finished || st < cur:
			state = "done"
		case st == cur && stopped:
			state = "stopped"
		case st == cur:
			state = "current"
		case stopped:
			state = "skipped"
		}
		out = append(out, timelineStep{Stage: st, State: state})
	}
	return out
}

// buildDetail reads everything the detail page shows.
func (s *Server) buildDetail(w http.ResponseWriter, r *http.Request, ref appRef) (detailPage, bool) {
	sel, app, ok := s.loadApplication(w, r, ref)
	if !ok {
		return detailPage{}, false
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return detailPage{}, false
	}
	lang := s.lang(r)
	d := detailPage{Ref: ref, Selection: sel, Application: app, Status: localizedText(app.GetStatusText(), lang),
		Reason: localizedText(app.GetEliminationReason(), lang), Timeline: timeline(app), Docs: refDocs(app, sel, lang), RequestID: requestID()}
	state := app.GetState()
	d.CanWithdraw = state == seleksiv1.ApplicationState_APPLICATION_STATE_SUBMITTED || state == seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS
	d.CanReplace = state == seleksiv1.ApplicationState_APPLICATION_STATE_SUBMITTED && sel.GetStage() == seleksiv1.Stage_STAGE_ANNOUNCEMENT
	p := policyOf(sel, applyPage{}, lang)
	d.MaxSize, d.Types, d.Accept = p.MaxSize, p.Types, p.Accept
	objs, err := s.api.applications.ListObjections(ctx, &seleksiv1.ListObjectionsRequest{Parent: ref.name(), PageSize: 100})
	if err != nil {
		s.apiFailed(w, r, err)
		return detailPage{}, false
	}
	d.Objections = objs.GetObjections()
	if d.Invitations, err = s.invitations(ctx, ref); err != nil {
		s.apiFailed(w, r, err)
		return detailPage{}, false
	}
	now := selectionNow(sel, time.Now())
	closed := sel.GetStage() == seleksiv1.Stage_STAGE_CLOSED || sel.GetStage() == seleksiv1.Stage_STAGE_CANCELLED
	for _, res := range app.GetStageResults() {
		if !res.GetPublished() {
			continue
		}
		d.Results = append(d.Results, res)
		slug := stageSlug(res.GetStage())
		if slug == "" || closed || state == seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN {
			continue
		}
		// The objection window is the published result's: ask for its deadline.
		sr, err := s.api.selections.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{Name: sel.GetName() + "/results/" + slug})
		if status.Code(err) == codes.NotFound {
			continue
		}
		if err != nil {
			s.apiFailed(w, r, err)
			return detailPage{}, false
		}
		dl := sr.GetResult().GetObjectionDeadline()
		if dl == nil || !now.Before(dl.AsTime()) {
			continue
		}
		filed := false
		for _, o := range d.Objections {
			if o.GetStage() == res.GetStage() && (o.GetRevision() == sr.GetResult().GetRevision() || o.GetRevision() == 0) {
				filed = true
			}
		}
		if filed {
			continue
		}
		d.Offers = append(d.Offers, objectionOffer{Stage: res.GetStage(), Slug: slug, Revision: sr.GetResult().GetRevision(), Deadline: dl,
			Items: res.GetUnmetItems(), AllowDocument: sel.GetDocumentPolicy().GetObjectionDocuments(), RequestID: requestID()})
	}
	return d, true
}

// selectionNow is the moment on the selection's own calendar, which its deadlines are on:
// the wall clock, or, for a selection run with compressed days (a demonstration), the time
// the workflow counts, from the current stage's opening on both clocks and the scale.
func selectionNow(sel *seleksiv1.Selection, wall time.Time) time.Time {
	scale := sel.GetTimeScale()
	open, openWall := sel.GetStageOpenTime(), sel.GetStageOpenWallTime()
	if scale <= 1 || open == nil || openWall == nil {
		return wall
	}
	return open.AsTime().Add(time.Duration(float64(wall.Sub(openWall.AsTime())) * scale))
}

// applicationDetail is one application: where it is, why, the results and checklist the
// candidate may see, the documents, and what they may do now.
func (s *Server) applicationDetail(w http.ResponseWriter, r *http.Request) {
	d, ok := s.buildDetail(w, r, refOf(r))
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "candidate/detail", d)
}

// withdrawPage is the confirmation step of a withdrawal.
type withdrawPage struct {
	Ref         appRef
	Selection   *seleksiv1.Selection
	Application *seleksiv1.Application
	RequestID   string
}

// withdrawConfirm asks before withdrawing, with an optional reason.
func (s *Server) withdrawConfirm(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	sel, app, ok := s.loadApplication(w, r, ref)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "candidate/withdraw", withdrawPage{Ref: ref, Selection: sel, Application: app, RequestID: requestID()})
}

// withdrawPost withdraws the application.
func (s *Server) withdrawPost(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	reqID := r.PostForm.Get("request_id")
	if reqID == "" {
		reqID = requestID()
	}
	_, err = s.api.applications.WithdrawApplication(ctx, &seleksiv1.WithdrawApplicationRequest{Name: ref.name(), RequestId: reqID, Reason: strings.TrimSpace(r.PostForm.Get("reason"))})
	if err != nil {
		if fe := fieldErrors(err); len(fe) > 0 {
			sel, app, ok := s.loadApplication(w, r, ref)
			if !ok {
				return
			}
			s.renderForm(w, r, http.StatusUnprocessableEntity, "candidate/withdraw", withdrawPage{Ref: ref, Selection: sel, Application: app, RequestID: reqID}, r.PostForm, fe)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "candidate.flash.withdrawn")
	http.Redirect(w, r, ref.path(), http.StatusSeeOther)
}

// replaceDocumentForm replaces one document of an application while the announcement is
// open: the new file is uploaded, then named in ReplaceDocument.
func (s *Server) replaceDocumentForm(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	cleanup, err := parseUploadForm(r)
	defer cleanup()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	kind := r.FormValue("kind")
	u, _ := s.user(r)
	input := "ganti-" + kind
	doc, sent, err := s.formUpload(r, u, "selections/"+ref.Sel, kind)
	if err == nil && !sent {
		err = &uploadRefused{Status: http.StatusUnprocessableEntity}
	}
	if err == nil {
		ctx, cerr := s.call(r)
		if cerr != nil {
			s.apiFailed(w, r, cerr)
			return
		}
		reqID := r.FormValue("request_id")
		if reqID == "" {
			reqID = requestID()
		}
		_, err = s.api.applications.ReplaceDocument(ctx, &seleksiv1.ReplaceDocumentRequest{Name: ref.name(), RequestId: reqID, Kind: kind, Document: doc.Name})
		if err != nil && len(fieldErrors(err)) == 0 && status.Code(err) != codes.FailedPrecondition {
			s.apiFailed(w, r, err)
			return
		}
		if err == nil {
			s.flash(r.Context(), "candidate.flash.replaced")
			http.Redirect(w, r, ref.path()+"#dokumen", http.StatusSeeOther)
			return
		}
	}
	s.detailWithError(w, r, ref, input, err)
}

// detailWithError shows the detail page again with err beside the input it concerns.
func (s *Server) detailWithError(w http.ResponseWriter, r *http.Request, ref appRef, input string, err error) {
	var msg string
	var refused *uploadRefused
	switch {
	case errors.As(err, &refused):
		msg = refused.Message
		if msg == "" {
			msg = view{p: s.pages, Lang: s.lang(r)}.T("candidate.upload.no_file")
		}
	case errors.Is(err, errNoUploads):
		msg = view{p: s.pages, Lang: s.lang(r)}.T("candidate.upload.unavailable")
	default:
		if fe := fieldErrors(err); len(fe) > 0 {
			for _, m := range fe {
				msg = m
			}
		} else if st, ok := status.FromError(err); ok {
			msg = st.Message()
		} else {
			s.logger.ErrorContext(r.Context(), "web: relay an upload", "error", err)
			s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
	}
	d, ok := s.buildDetail(w, r, ref)
	if !ok {
		return
	}
	form := url.Values{}
	if r.MultipartForm != nil {
		form = url.Values(r.MultipartForm.Value)
	}
	s.renderForm(w, r, http.StatusUnprocessableEntity, "candidate/detail", d, form, map[string]string{input: msg})
}

// objectionForm files an objection, with its clarifying document when the selection
// allows one (uploaded first, as kind "objection").
func (s *Server) objectionForm(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	cleanup, err := parseUploadForm(r)
	defer cleanup()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	slug := r.FormValue("stage")
	stage, ok := stageOfSlug(slug)
	if !ok {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	rev, _ := strconv.ParseUint(r.FormValue("revision"), 10, 32)
	obj := &seleksiv1.Objection{Stage: stage, Reason: strings.TrimSpace(r.FormValue("reason")), Revision: uint32(rev)}
	if r.MultipartForm != nil {
		obj.Items = r.MultipartForm.Value["items"]
	}
	u, _ := s.user(r)
	doc, sent, err := s.formUpload(r, u, "selections/"+ref.Sel, objectionKind)
	if err != nil {
		s.detailWithError(w, r, ref, "berkas-sanggah-"+slug, err)
		return
	}
	if sent {
		obj.Document = doc.Name
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	reqID := r.FormValue("request_id")
	if reqID == "" {
		reqID = requestID()
	}
	if _, err := s.api.applications.FileObjection(ctx, &seleksiv1.FileObjectionRequest{Parent: ref.name(), RequestId: reqID, Objection: obj}); err != nil {
		if fe := fieldErrors(err); len(fe) > 0 || status.Code(err) == codes.FailedPrecondition {
			s.detailWithError(w, r, ref, "alasan-"+slug, err)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "candidate.flash.objection_filed")
	http.Redirect(w, r, ref.path()+"#sanggah", http.StatusSeeOther)
}
