package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Applying takes three steps and a receipt, each its own page so that a phone shows one
// thing at a time and nothing typed is lost to an upload:
//
//  1. /lamaran/baru/{sel}: who the candidate is and their statement, kept in the session
//     as a draft;
//  2. /lamaran/baru/{sel}/dokumen: one upload per required document (a form each, or
//     resumable uploads with JavaScript);
//  3. /lamaran/baru/{sel}/periksa: everything once more, and the submit button;
//
// then the receipt, /lamaran/{sel}/{app}/tanda-terima. The documents chosen are not kept in
// the session: each kind's latest upload not yet attached is the one the candidate chose,
// read back from DocumentService, so a document uploaded by script in another request, or
// before the session was renewed, is not lost.

// profileFields are the form's inputs, in order: the CandidateProfile's fields by their
// proto names, then the statement.
var profileFields = []inputField{
	{Name: "full_name", Type: "text", Autocomplete: "name", Required: true, Max: 200},
	{Name: "nip", Type: "text", InputMode: "numeric", Pattern: "[0-9]{18}", Required: true, Hint: true, Max: 18},
	{Name: "email", Type: "email", Autocomplete: "email", Required: true, Max: 254},
	{Name: "phone", Type: "tel", Autocomplete: "tel", Hint: true, Max: 20},
	{Name: "birth_date", Type: "date", Autocomplete: "bday", Required: true, Hint: true},
	{Name: "education_level", Select: "education", Required: true},
	{Name: "education_major", Type: "text", Max: 200},
	{Name: "years_of_experience", Type: "number", InputMode: "numeric", Hint: true, Min: "0", MaxNum: "50"},
	{Name: "years_in_administrator_post", Type: "number", InputMode: "numeric", Hint: true, Min: "0", MaxNum: "50"},
	{Name: "current_post", Type: "text", Autocomplete: "organization-title", Required: true, Max: 200},
	{Name: "current_post_level", Select: "post_level"},
	{Name: "current_agency", Type: "text", Autocomplete: "organization", Required: true, Max: 200},
	{Name: "statement", Textarea: true, Hint: true, Max: 8000},
}

// inputField is one input of a form the template draws: a label, an optional hint, the
// input with its constraints (checked again by the API), and its error.
type inputField struct {
	Name, Type, Autocomplete, InputMode, Pattern, Min, MaxNum string
	// Select names the enum whose values the select offers ("education", "post_level").
	Select   string
	Textarea bool
	Required bool
	Hint     bool
	Max      int
}

// option is one choice of a select.
type option struct{ Value, Code string }

var selectOptions = map[string][]option{
	"education": {
		{"EDUCATION_LEVEL_DIPLOMA_3", "education.EDUCATION_LEVEL_DIPLOMA_3"}, {"EDUCATION_LEVEL_DIPLOMA_4", "education.EDUCATION_LEVEL_DIPLOMA_4"},
		{"EDUCATION_LEVEL_BACHELOR", "education.EDUCATION_LEVEL_BACHELOR"}, {"EDUCATION_LEVEL_MASTER", "education.EDUCATION_LEVEL_MASTER"},
		{"EDUCATION_LEVEL_DOCTORATE", "education.EDUCATION_LEVEL_DOCTORATE"},
	},
	"post_level": {
		{"POST_LEVEL_ADMINISTRATOR", "candidate.post_level.POST_LEVEL_ADMINISTRATOR"}, {"POST_LEVEL_JPT_PRATAMA", "candidate.post_level.POST_LEVEL_JPT_PRATAMA"},
		{"POST_LEVEL_JPT_MADYA", "candidate.post_level.POST_LEVEL_JPT_MADYA"}, {"POST_LEVEL_JPT_UTAMA", "candidate.post_level.POST_LEVEL_JPT_UTAMA"},
	},
}

// Options are the choices of a select field.
func (f inputField) Options() []option { return selectOptions[f.Select] }

// draftKey is the session key of the draft of an application to sel.
func draftKey(sel string) string { return "candidate.draft." + sel }

func (s *Server) draft(r *http.Request, sel string) url.Values {
	v := url.Values{}
	if raw := s.sessions.GetString(r.Context(), draftKey(sel)); raw != "" {
		_ = json.Unmarshal([]byte(raw), &v)
	}
	return v
}

// applyPage is what every step of applying shows.
type applyPage struct {
	ID        string
	Selection *seleksiv1.Selection
	Step      int
	Fields    []inputField
	Docs      []docSlot
	Profile   []profileLine
	RequestID string
	// MaxSize and Types describe the selection's document policy; Accept is the file
	// inputs' accept attribute.
	MaxSize, Types, Accept string
	Back                   string
}

// docSlot is one required document and the file chosen for it, if any.
type docSlot struct {
	Req     *seleksiv1.RequiredDocument
	Current *docView
	// Input is the file input's id (and the error's key).
	Input string
}

// profileLine is one answer on the review page.
type profileLine struct{ Field, Value string }

// openSelection reads the selection a candidate applies to; a selection whose announcement
// is not open gets the page saying so.
func (s *Server) openSelection(w http.ResponseWriter, r *http.Request) (*seleksiv1.Selection, bool) {
	ctx, resp, ok := s.loadSelection(w, r, r.PathValue("sel"))
	if !ok {
		return nil, false
	}
	sel := resp
	if sel.GetStage() != seleksiv1.Stage_STAGE_ANNOUNCEMENT {
		s.render(w, r, http.StatusConflict, "candidate/closed", applyPage{ID: r.PathValue("sel"), Selection: sel})
		return nil, false
	}
	// One application per candidate per selection: someone who applied is shown theirs.
	apps, err := s.api.applications.ListApplications(ctx, &seleksiv1.ListApplicationsRequest{Parent: sel.GetName(), PageSize: 10})
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, false
	}
	for _, a := range apps.GetApplications() {
		if a.GetState() != seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN {
			s.flash(r.Context(), "candidate.flash.already_applied")
			http.Redirect(w, r, refOfName(a.GetName()).path(), http.StatusSeeOther)
			return nil, false
		}
	}
	return sel, true
}

// applyProfile is step 1: who the candidate is, and their statement.
func (s *Server) applyProfile(w http.ResponseWriter, r *http.Request) {
	sel, ok := s.openSelection(w, r)
	if !ok {
		return
	}
	form := s.draft(r, r.PathValue("sel"))
	if form.Get("full_name") == "" {
		if u, ok := s.user(r); ok {
			form.Set("full_name", u.Name)
		}
	}
	s.renderForm(w, r, http.StatusOK, "candidate/apply_profile", applyPage{ID: r.PathValue("sel"), Selection: sel, Step: 1, Fields: profileFields}, form, nil)
}

// applyProfilePost keeps the profile in the session and goes on to the documents. The API
// checks every field when the application is submitted; the browser checks the simple ones
// (required, patterns) before.
func (s *Server) applyProfilePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	v := url.Values{}
	for _, f := range profileFields {
		v.Set(f.Name, strings.TrimSpace(r.PostForm.Get(f.Name)))
	}
	b, _ := json.Marshal(v)
	s.sessions.Put(r.Context(), draftKey(r.PathValue("sel")), string(b))
	http.Redirect(w, r, "/lamaran/baru/"+r.PathValue("sel")+"/dokumen", http.StatusSeeOther)
}

// policyOf describes a selection's document policy: the largest file and the types.
func policyOf(sel *seleksiv1.Selection, p applyPage, lang i18n.Lang) applyPage {
	dp := sel.GetDocumentPolicy()
	maxBytes := dp.GetMaxDocumentBytes()
	if maxBytes <= 0 {
		maxBytes = 5 << 20
	}
	types := dp.GetDocumentMediaTypes()
	if len(types) == 0 {
		types = []string{"application/pdf", "image/jpeg", "image/png"}
	}
	names := make([]string, 0, len(types))
	for _, t := range types {
		names = append(names, strings.ToUpper(strings.TrimPrefix(t, "application/")))
	}
	p.MaxSize = humanSize(maxBytes, lang)
	p.Types = strings.Join(names, ", ")
	p.Accept = strings.Join(types, ",")
	return p
}

// chosenDocuments are the documents the candidate chose for each kind of sel: each kind's
// latest upload not yet attached to an application.
func (s *Server) chosenDocuments(r *http.Request, sel *seleksiv1.Selection) (map[string]*docView, error) {
	ctx, err := s.call(r)
	if err != nil {
		return nil, err
	}
	resp, err := s.api.documents.ListDocuments(ctx, &seleksiv1.ListDocumentsRequest{Selection: sel.GetName(), PageSize: 200,
		Filter: "state = uploaded", OrderBy: "create_time desc"})
	if err != nil {
		return nil, err
	}
	titles := requiredTitles(sel)
	out := map[string]*docView{}
	for _, d := range resp.GetDocuments() {
		if _, seen := out[d.GetKind()]; seen || titles[d.GetKind()] == "" {
			continue
		}
		out[d.GetKind()] = &docView{Kind: d.GetKind(), Title: titles[d.GetKind()], Name: d.GetName(), FileName: d.GetFileName(),
			MediaType: d.GetMediaType(), Size: humanSize(d.GetSizeBytes(), s.lang(r)), Bytes: d.GetSizeBytes(), SHA256: d.GetSha256()}
	}
	return out, nil
}

// documentsPage builds step 2's data.
func (s *Server) documentsPage(r *http.Request, sel *seleksiv1.Selection) (applyPage, error) {
	chosen, err := s.chosenDocuments(r, sel)
	if err != nil {
		return applyPage{}, err
	}
	p := applyPage{ID: r.PathValue("sel"), Selection: sel, Step: 2}
	for _, d := range sel.GetRequirements().GetRequiredDocuments() {
		p.Docs = append(p.Docs, docSlot{Req: d, Current: chosen[d.GetId()], Input: "berkas-" + d.GetId()})
	}
	return policyOf(sel, p, s.lang(r)), nil
}

// applyDocuments is step 2: one upload per required document.
func (s *Server) applyDocuments(w http.ResponseWriter, r *http.Request) {
	sel, ok := s.openSelection(w, r)
	if !ok {
		return
	}
	p, err := s.documentsPage(r, sel)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "candidate/apply_documents", p)
}

// uploadDocumentForm takes one document posted without JavaScript, relays it to the upload
// handler, and goes back to the documents (303); a refused file is shown beside its input,
// the other documents untouched.
func (s *Server) uploadDocumentForm(w http.ResponseWriter, r *http.Request) {
	cleanup, err := parseUploadForm(r)
	defer cleanup()
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	selID, kind := r.FormValue("selection"), r.FormValue("kind")
	r.SetPathValue("sel", selID)
	u, _ := s.user(r)
	input := "berkas-" + kind
	_, sent, err := s.formUpload(r, u, "selections/"+selID, kind)
	if err == nil && !sent {
		err = &uploadRefused{Status: http.StatusUnprocessableEntity}
	}
	if err == nil {
		s.flash(r.Context(), "candidate.flash.uploaded")
		http.Redirect(w, r, "/lamaran/baru/"+url.PathEscape(selID)+"/dokumen#dok-"+url.PathEscape(kind), http.StatusSeeOther)
		return
	}
	var refused *uploadRefused
	if !errors.As(err, &refused) {
		s.logger.ErrorContext(r.Context(), "web: relay an upload", "error", err)
		s.renderError(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	sel, ok := s.openSelection(w, r)
	if !ok {
		return
	}
	p, perr := s.documentsPage(r, sel)
	if perr != nil {
		s.apiFailed(w, r, perr)
		return
	}
	msg := refused.Message
	if msg == "" {
		msg = view{p: s.pages, Lang: s.lang(r)}.T("candidate.upload.no_file")
	}
	code := refused.Status
	if code < 400 || code >= 500 {
		code = http.StatusUnprocessableEntity
	}
	s.renderForm(w, r, code, "candidate/apply_documents", p, nil, map[string]string{input: msg})
}

// applyReview is step 3: everything once more, with what is missing.
func (s *Server) applyReview(w http.ResponseWriter, r *http.Request) {
	sel, ok := s.openSelection(w, r)
	if !ok {
		return
	}
	p, errs, err := s.reviewPage(r, sel)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.renderForm(w, r, http.StatusOK, "candidate/apply_review", p, nil, errs)
}

// reviewPage builds step 3's data; errs names the required documents not uploaded yet and
// the missing required answers.
func (s *Server) reviewPage(r *http.Request, sel *seleksiv1.Selection) (applyPage, map[string]string, error) {
	p, err := s.documentsPage(r, sel)
	if err != nil {
		return p, nil, err
	}
	p.Step, p.RequestID = 3, requestID()
	draft := s.draft(r, r.PathValue("sel"))
	view := view{p: s.pages, Lang: s.lang(r)}
	errs := map[string]string{}
	for _, f := range profileFields {
		val := draft.Get(f.Name)
		if f.Select != "" && val != "" {
			for _, o := range f.Options() {
				if o.Value == val {
					val = view.T(o.Code)
				}
			}
		}
		p.Profile = append(p.Profile, profileLine{Field: f.Name, Value: val})
		if f.Required && val == "" {
			errs["jawaban-"+f.Name] = view.T("candidate.review.answer_missing", "field", view.T("candidate.field."+f.Name))
		}
	}
	for _, d := range p.Docs {
		if d.Current == nil {
			errs["dok-"+d.Req.GetId()] = view.T("candidate.review.document_missing", "title", d.Req.GetTitle())
		}
	}
	return p, errs, nil
}

// applySubmit submits the application: the draft's profile and statement, and the document
// chosen for each kind. Field errors send the candidate back to the step they belong to.
func (s *Server) applySubmit(w http.ResponseWriter, r *http.Request) {
	sel, ok := s.openSelection(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	p, errs, err := s.reviewPage(r, sel)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "candidate/apply_review", p, nil, errs)
		return
	}
	draft := s.draft(r, r.PathValue("sel"))
	app := &seleksiv1.Application{Candidate: profileOf(draft), Statement: draft.Get("statement")}
	for _, d := range p.Docs {
		app.Documents = append(app.Documents, &seleksiv1.DocumentRef{Kind: d.Req.GetId(), Document: d.Current.Name})
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
	resp, err := s.api.applications.SubmitApplication(ctx, &seleksiv1.SubmitApplicationRequest{Parent: sel.GetName(), RequestId: reqID, Application: app})
	if err != nil {
		fe := fieldErrors(err)
		if len(fe) == 0 {
			s.apiFailed(w, r, err)
			return
		}
		profileErrs, otherErrs := map[string]string{}, map[string]string{}
		for field, msg := range fe {
			if name, ok := profileField(field); ok {
				profileErrs[name] = msg
			} else {
				otherErrs["dokumen"] = msg
			}
		}
		if len(profileErrs) > 0 {
			s.renderForm(w, r, http.StatusUnprocessableEntity, "candidate/apply_profile",
				applyPage{ID: r.PathValue("sel"), Selection: sel, Step: 1, Fields: profileFields}, draft, profileErrs)
			return
		}
		s.renderForm(w, r, http.StatusUnprocessableEntity, "candidate/apply_review", p, nil, otherErrs)
		return
	}
	s.sessions.Remove(r.Context(), draftKey(r.PathValue("sel")))
	s.flash(r.Context(), "candidate.flash.submitted")
	http.Redirect(w, r, refOfName(resp.GetApplication().GetName()).path()+"/tanda-terima", http.StatusSeeOther)
}

// profileField is the form field an API field path names ("application.candidate.nip",
// "application.statement").
func profileField(path string) (string, bool) {
	name := strings.TrimPrefix(strings.TrimPrefix(path, "application."), "candidate.")
	for _, f := range profileFields {
		if f.Name == name {
			return name, true
		}
	}
	return "", false
}

// profileOf is the CandidateProfile of a draft.
func profileOf(v url.Values) *seleksiv1.CandidateProfile {
	num := func(name string) uint32 {
		n, _ := strconv.ParseUint(v.Get(name), 10, 32)
		return uint32(n)
	}
	return &seleksiv1.CandidateProfile{
		FullName: v.Get("full_name"), Nip: v.Get("nip"), Email: v.Get("email"), Phone: v.Get("phone"), BirthDate: v.Get("birth_date"),
		EducationLevel:           seleksiv1.EducationLevel(seleksiv1.EducationLevel_value[v.Get("education_level")]),
		EducationMajor:           v.Get("education_major"),
		YearsOfExperience:        num("years_of_experience"),
		YearsInAdministratorPost: num("years_in_administrator_post"),
		CurrentPost:              v.Get("current_post"),
		CurrentPostLevel:         seleksiv1.PostLevel(seleksiv1.PostLevel_value[v.Get("current_post_level")]),
		CurrentAgency:            v.Get("current_agency"),
	}
}

// receiptPage is the receipt of a submitted application.
type receiptPage struct {
	Ref         appRef
	Selection   *seleksiv1.Selection
	Application *seleksiv1.Application
	Docs        []docView
}

// applicationReceipt is the receipt: the application's ID, when it was received (in the
// selection's zone), and each document with its size and SHA-256.
func (s *Server) applicationReceipt(w http.ResponseWriter, r *http.Request) {
	ref := refOf(r)
	sel, app, ok := s.loadApplication(w, r, ref)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "candidate/receipt", receiptPage{Ref: ref, Selection: sel, Application: app, Docs: refDocs(app, sel, s.lang(r))})
}

// loadApplication reads an application and its selection; someone else's application is
// the same 404 as a missing one (the API says NotFound for both).
func (s *Server) loadApplication(w http.ResponseWriter, r *http.Request, ref appRef) (*seleksiv1.Selection, *seleksiv1.Application, bool) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, false
	}
	a, err := s.api.applications.GetApplication(ctx, &seleksiv1.GetApplicationRequest{Name: ref.name()})
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, false
	}
	sel, err := s.getSelection(ctx, ref.Sel)
	if err != nil {
		s.apiFailed(w, r, err)
		return nil, nil, false
	}
	return sel, a.GetApplication(), true
}
