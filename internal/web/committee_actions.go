package web

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// The committee's commands on a whole selection: conflict declarations, answers to
// objections, advancing a stage and the decision. Consequential ones (advance, decide) go
// through a confirmation page that shows what will be published.

// conflictsData is the conflict declarations page.
type conflictsData struct {
	ID        string
	Selection *seleksiv1.Selection
	Apps      []*seleksiv1.Application
	Names     map[string]string
	RequestID string
}

func (s *Server) loadConflicts(w http.ResponseWriter, r *http.Request) (conflictsData, bool) {
	id := r.PathValue("sel")
	_, sel, apps, ok := s.committeeLoad(w, r, id, "candidate.full_name")
	if !ok {
		return conflictsData{}, false
	}
	d := conflictsData{ID: id, Selection: sel, Names: map[string]string{}}
	for _, a := range apps {
		d.Names[a.GetName()] = a.GetCandidate().GetFullName()
		if a.GetState() != seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN {
			d.Apps = append(d.Apps, a)
		}
	}
	return d, true
}

// committeeConflicts lists the declared conflicts of interest and the form to declare one.
func (s *Server) committeeConflicts(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadConflicts(w, r)
	if !ok {
		return
	}
	d.RequestID = commandRequestID()
	s.render(w, r, http.StatusOK, "committee/conflicts", d)
}

// committeeDeclareConflict declares the signed-in member's conflict with an application.
func (s *Server) committeeDeclareConflict(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadConflicts(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm() // nosurf has parsed it already
	f := r.PostForm
	d.RequestID = f.Get("request_id")
	errs := map[string]string{}
	if d.Names[f.Get("application")] == "" {
		errs["application"] = s.committeeText(r, "committee.error.application_required")
	}
	if strings.TrimSpace(f.Get("relationship")) == "" {
		errs["relationship"] = s.committeeText(r, "committee.error.relationship_required")
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/conflicts", d, f, errs)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	u, _ := s.user(r)
	_, err = s.api.selections.DeclareConflict(ctx, &seleksiv1.DeclareConflictRequest{Name: "selections/" + d.ID, RequestId: d.RequestID,
		MemberId: u.Subject, Application: f.Get("application"), Relationship: strings.TrimSpace(f.Get("relationship")),
		Reason: strings.TrimSpace(f.Get("reason"))})
	if err != nil {
		if errs, ok := committeeFormErrors(err, func(p string) string {
			if p == "application" || p == "relationship" || p == "reason" {
				return p
			}
			return ""
		}); ok {
			s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/conflicts", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "committee.flash.conflict_declared")
	http.Redirect(w, r, "/panitia/"+d.ID+"/konflik", http.StatusSeeOther)
}

// objectionsData is the objections inbox.
type objectionsData struct {
	ID        string
	Selection *seleksiv1.Selection
	Pending   []objectionRow
	Answered  []objectionRow
}

// committeeObjections lists the selection's objections: those waiting for an answer first,
// each with the deadline of the window it was filed in.
func (s *Server) committeeObjections(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sel")
	ctx, sel, apps, ok := s.committeeLoad(w, r, id, "")
	if !ok {
		return
	}
	objs, err := s.allObjections(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	names := map[string]string{}
	for _, a := range apps {
		names[a.GetName()] = a.GetCandidate().GetFullName()
	}
	d := objectionsData{ID: id, Selection: sel}
	for _, row := range s.objectionRows(ctx, id, objs, names, false) {
		if row.Objection.GetState() == seleksiv1.ObjectionState_OBJECTION_STATE_PENDING {
			d.Pending = append(d.Pending, row)
		} else {
			d.Answered = append(d.Answered, row)
		}
	}
	s.render(w, r, http.StatusOK, "committee/objections", d)
}

// objectionData is one objection with its answer form.
type objectionData struct {
	ID         string
	Selection  *seleksiv1.Selection
	Row        objectionRow
	App        *seleksiv1.Application
	Items      []*seleksiv1.ChecklistItem // the contested items, in the objection's order
	Components []seleksiv1.ScoreComponent
	Categories []seleksiv1.CompetencyCategory
	Competency bool
	RequestID  string
	// DocID is the objection's clarifying document, if any.
	DocID string
}

func (s *Server) loadObjection(w http.ResponseWriter, r *http.Request) (objectionData, bool) {
	id, appID, objID := r.PathValue("sel"), r.PathValue("app"), r.PathValue("obj")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return objectionData{}, false
	}
	sel, err := s.getSelection(ctx, id)
	if err != nil {
		s.apiFailed(w, r, err)
		return objectionData{}, false
	}
	appName := "selections/" + id + "/applications/" + appID
	resp, err := s.api.applications.GetApplication(ctx, &seleksiv1.GetApplicationRequest{Name: appName})
	if err != nil {
		s.apiFailed(w, r, err)
		return objectionData{}, false
	}
	list, err := s.api.applications.ListObjections(ctx, &seleksiv1.ListObjectionsRequest{Parent: appName, PageSize: 1000})
	if err != nil {
		s.apiFailed(w, r, err)
		return objectionData{}, false
	}
	var obj *seleksiv1.Objection
	for _, o := range list.GetObjections() {
		if o.GetName() == appName+"/objections/"+objID {
			obj = o
		}
	}
	if obj == nil {
		s.renderError(w, r, http.StatusNotFound, "error.not_found")
		return objectionData{}, false
	}
	app := resp.GetApplication()
	rows := s.objectionRows(ctx, id, []*seleksiv1.Objection{obj}, map[string]string{app.GetName(): app.GetCandidate().GetFullName()}, false)
	d := objectionData{ID: id, Selection: sel, Row: rows[0], App: app, Categories: competencyCategories,
		Components: stageComponents(sel, obj.GetStage()), Competency: obj.GetStage() == seleksiv1.Stage_STAGE_COMPETENCY_TEST}
	if doc := obj.GetDocument(); doc != "" {
		d.DocID = lastSegment(doc)
	}
	for _, item := range obj.GetItems() {
		it := &seleksiv1.ChecklistItem{Item: item}
		for _, c := range app.GetChecklist() {
			if c.GetItem() == item {
				it = c
			}
		}
		d.Items = append(d.Items, it)
	}
	return d, true
}

// committeeObjection shows one objection and the form to answer it.
func (s *Server) committeeObjection(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadObjection(w, r)
	if !ok {
		return
	}
	d.RequestID = commandRequestID()
	s.render(w, r, http.StatusOK, "committee/objection", d)
}

var answerPath = regexp.MustCompile(`^(item_answers\[(\d+)\]\.(\w+)|corrected_result\.scores\[(\d+)\]\.\w+|corrected_result\.(\w+)|(\w+))$`)

// committeeAnswerObjection answers an objection: per contested item when it names items,
// else as a whole, with the corrected result when it is accepted.
func (s *Server) committeeAnswerObjection(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadObjection(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm() // nosurf has parsed it already
	f := r.PostForm
	d.RequestID = f.Get("request_id")
	t := func(code string) string { return s.committeeText(r, code) }
	errs := map[string]string{}
	req := &seleksiv1.AnswerObjectionRequest{Name: d.Row.Objection.GetName(), RequestId: d.RequestID, Answer: strings.TrimSpace(f.Get("answer"))}
	if req.Answer == "" {
		errs["answer"] = t("committee.error.answer_required")
	}
	var scores []seleksiv1.ScoreComponent
	if len(d.Items) > 0 {
		for i, it := range d.Items {
			acc, ans := f.Get(itemField("item_accept", i)), strings.TrimSpace(f.Get(itemField("item_answer", i)))
			if acc != "ya" && acc != "tidak" {
				errs[itemField("item_accept", i)] = t("committee.error.verdict_required")
			}
			if ans == "" {
				errs[itemField("item_answer", i)] = t("committee.error.answer_required")
			}
			req.ItemAnswers = append(req.ItemAnswers, &seleksiv1.ItemAnswer{Item: it.GetItem(), Accepted: acc == "ya", Answer: ans})
			req.Accepted = req.Accepted || acc == "ya"
		}
	} else {
		switch f.Get("accepted") {
		case "ya":
			req.Accepted = true
		case "tidak":
		default:
			errs["accepted"] = t("committee.error.verdict_required")
		}
		if req.Accepted {
			c := &seleksiv1.ApplicationResult{Application: d.App.GetName(), Reason: strings.TrimSpace(f.Get("reason"))}
			switch f.Get("outcome") {
			case seleksiv1.Outcome_OUTCOME_PASS.String():
				c.Outcome = seleksiv1.Outcome_OUTCOME_PASS
			case seleksiv1.Outcome_OUTCOME_FAIL.String():
				c.Outcome = seleksiv1.Outcome_OUTCOME_FAIL
			case seleksiv1.Outcome_OUTCOME_NONE.String():
				c.Outcome = seleksiv1.Outcome_OUTCOME_NONE
			default:
				errs["outcome"] = t("committee.error.outcome_required")
			}
			if c.Outcome == seleksiv1.Outcome_OUTCOME_FAIL && c.Reason == "" {
				errs["reason"] = t("committee.error.reason_required")
			}
			for _, comp := range d.Components {
				name := "score_" + comp.String()
				if strings.TrimSpace(f.Get(name)) == "" {
					continue
				}
				v, ok := parseScore(f.Get(name))
				if !ok {
					errs[name] = t("committee.error.score")
					continue
				}
				c.Scores = append(c.Scores, &seleksiv1.ComponentScore{Component: comp, Score: v})
				scores = append(scores, comp)
			}
			if d.Competency {
				if v, ok := seleksiv1.CompetencyCategory_value[f.Get("category")]; ok {
					c.CompetencyCategory = seleksiv1.CompetencyCategory(v)
				}
			}
			req.CorrectedResult = c
		}
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/objection", d, f, errs)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if _, err := s.api.applications.AnswerObjection(ctx, req); err != nil {
		fields := func(p string) string {
			m := answerPath.FindStringSubmatch(p)
			switch {
			case m == nil:
				return ""
			case m[2] != "":
				k, _ := strconv.Atoi(m[2])
				if m[3] == "answer" {
					return itemField("item_answer", k)
				}
				return itemField("item_accept", k)
			case m[4] != "":
				k, _ := strconv.Atoi(m[4])
				if k < len(scores) {
					return "score_" + scores[k].String()
				}
			case m[5] == "competency_category":
				return "category"
			case m[5] != "":
				return m[5]
			case m[6] == "corrected_result":
				return "outcome"
			case m[6] != "":
				return m[6]
			}
			return ""
		}
		if errs, ok := committeeFormErrors(err, fields); ok {
			s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/objection", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "committee.flash.objection_answered")
	http.Redirect(w, r, "/panitia/"+d.ID+"/sanggah", http.StatusSeeOther)
}

// advanceData is the confirmation page of an advance: what the result will say.
type advanceData struct {
	ID         string
	Selection  *seleksiv1.Selection
	Stage      seleksiv1.Stage
	CanAdvance bool
	// Screening: the outcome each application's checklist gives; other stages: the
	// applications whose results will be published.
	Pass, Fail, Undecided []appRow
	Participants          []*seleksiv1.Application
	Screening             bool
	RequestID             string
}

func (s *Server) loadAdvance(w http.ResponseWriter, r *http.Request) (advanceData, bool) {
	id := r.PathValue("sel")
	_, sel, apps, ok := s.committeeLoad(w, r, id, "candidate.full_name")
	if !ok {
		return advanceData{}, false
	}
	st := sel.GetStage()
	d := advanceData{ID: id, Selection: sel, Stage: st, CanAdvance: recordStage(st), Screening: st == seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING}
	for _, a := range apps {
		if !participates(st, a) {
			continue
		}
		d.Participants = append(d.Participants, a)
		if !d.Screening {
			continue
		}
		row := appRow{App: a, ID: lastSegment(a.GetName())}
		switch checklistOutcome(a) {
		case seleksiv1.Outcome_OUTCOME_PASS:
			d.Pass = append(d.Pass, row)
		case seleksiv1.Outcome_OUTCOME_FAIL:
			d.Fail = append(d.Fail, row)
		default:
			d.Undecided = append(d.Undecided, row)
		}
	}
	return d, true
}

// checklistOutcome is the screening outcome an application's checklist gives: fail when an
// item is not met, pass when all are met, unspecified while an item is undecided or there is
// no checklist.
func checklistOutcome(a *seleksiv1.Application) seleksiv1.Outcome {
	items := a.GetChecklist()
	if len(items) == 0 {
		return seleksiv1.Outcome_OUTCOME_UNSPECIFIED
	}
	out := seleksiv1.Outcome_OUTCOME_PASS
	for _, it := range items {
		switch it.GetStatus() {
		case seleksiv1.RequirementStatus_REQUIREMENT_STATUS_UNMET:
			if it.GetVerifiedBy() != "" {
				return seleksiv1.Outcome_OUTCOME_FAIL
			}
			out = seleksiv1.Outcome_OUTCOME_UNSPECIFIED
		case seleksiv1.RequirementStatus_REQUIREMENT_STATUS_MET:
			if it.GetVerifiedBy() == "" {
				out = seleksiv1.Outcome_OUTCOME_UNSPECIFIED
			}
		default:
			out = seleksiv1.Outcome_OUTCOME_UNSPECIFIED
		}
	}
	return out
}

// committeeAdvance shows what advancing the stage will publish, and asks to confirm.
func (s *Server) committeeAdvance(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadAdvance(w, r)
	if !ok {
		return
	}
	d.RequestID = commandRequestID()
	s.render(w, r, http.StatusOK, "committee/advance", d)
}

// committeeAdvancePost closes the stage the member saw on the confirmation page.
func (s *Server) committeeAdvancePost(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadAdvance(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm() // nosurf has parsed it already
	f := r.PostForm
	d.RequestID = f.Get("request_id")
	expected, ok := seleksiv1.Stage_value[f.Get("expected_stage")]
	if !ok {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/advance", d, f, map[string]string{"request": s.committeeText(r, "committee.error.stage_moved")})
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	_, err = s.api.selections.AdvanceSelection(ctx, &seleksiv1.AdvanceSelectionRequest{Name: "selections/" + d.ID, RequestId: d.RequestID,
		ExpectedStage: seleksiv1.Stage(expected), Reason: strings.TrimSpace(f.Get("reason"))})
	if err != nil {
		if errs, ok := committeeFormErrors(err, func(p string) string {
			if p == "reason" {
				return p
			}
			return ""
		}); ok {
			s.renderForm(w, r, http.StatusConflict, "committee/advance", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "committee.flash.advanced")
	http.Redirect(w, r, "/panitia/"+d.ID, http.StatusSeeOther)
}

// rankedApp is one line of the computed ranking.
type rankedApp struct {
	Place int
	// Rank is the place on the shortlist (1 to 3), for the shortlisted.
	Rank      int
	App       *seleksiv1.Application
	Final     float64
	Scores    map[seleksiv1.ScoreComponent]float64
	Qualifies bool
	// Tied: the final score equals a neighbour's, so the tie-break rule decided the order.
	Tied bool
}

// Score is one component's score, for the template.
func (r rankedApp) Score(c seleksiv1.ScoreComponent) string {
	v, ok := r.Scores[c]
	if !ok {
		return "—"
	}
	return formatScore(v)
}

// decisionData is the decision page and its confirmation.
type decisionData struct {
	ID         string
	Selection  *seleksiv1.Selection
	Deciding   bool
	Ranking    []rankedApp
	Shortlist  []rankedApp
	Components []seleksiv1.ScoreComponent
	TieBreak   []seleksiv1.ScoreComponent
	RequestID  string
	// Confirm: the second step, showing the decision before it is recorded.
	Confirm bool
}

// tieBreakOrder lists the components compared when final scores are equal, as the
// selection's tie-break rule says (the workflow's documented rule).
func tieBreakOrder(sel *seleksiv1.Selection) []seleksiv1.ScoreComponent {
	switch sel.GetTieBreakRule() {
	case seleksiv1.TieBreakRule_TIE_BREAK_RULE_COMPETENCY_TEST_FIRST:
		return []seleksiv1.ScoreComponent{seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW}
	case seleksiv1.TieBreakRule_TIE_BREAK_RULE_INTERVIEW_FIRST:
		return []seleksiv1.ScoreComponent{seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST}
	}
	w := sel.GetScoreWeights()
	type cw struct {
		c seleksiv1.ScoreComponent
		w uint32
	}
	ws := []cw{
		{seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST, w.GetWrittenTest()},
		{seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, w.GetCompetencyTest()},
		{seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, w.GetPaper()},
		{seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, w.GetInterview()},
		{seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD, w.GetTrackRecord()},
	}
	// Heaviest first; equal weights in the enum's order (the stable sort keeps it).
	slices.SortStableFunc(ws, func(a, b cw) int { return cmp.Compare(b.w, a.w) })
	out := make([]seleksiv1.ScoreComponent, len(ws))
	for i, x := range ws {
		out[i] = x.c
	}
	return out
}

// rankApplications orders the candidates still in the running by the documented rule:
// final score, then the tie-break components, then the earlier submission, then the ID.
func rankApplications(sel *seleksiv1.Selection, apps []*seleksiv1.Application) []rankedApp {
	var out []rankedApp
	for _, a := range apps {
		switch a.GetState() {
		case seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS, seleksiv1.ApplicationState_APPLICATION_STATE_SHORTLISTED,
			seleksiv1.ApplicationState_APPLICATION_STATE_NOT_SELECTED:
		default:
			continue
		}
		ra := rankedApp{App: a, Final: a.GetFinalScore(), Scores: map[seleksiv1.ScoreComponent]float64{}}
		for _, r := range a.GetStageResults() {
			for _, sc := range r.GetScores() {
				ra.Scores[sc.GetComponent()] = sc.GetScore()
			}
		}
		ra.Qualifies = ra.Final >= sel.GetMinFinalScore()
		out = append(out, ra)
	}
	order := tieBreakOrder(sel)
	slices.SortStableFunc(out, func(x, y rankedApp) int {
		if c := cmp.Compare(y.Final, x.Final); c != 0 {
			return c
		}
		for _, comp := range order {
			if c := cmp.Compare(y.Scores[comp], x.Scores[comp]); c != 0 {
				return c
			}
		}
		if c := x.App.GetSubmitTime().AsTime().Compare(y.App.GetSubmitTime().AsTime()); c != 0 {
			return c
		}
		return strings.Compare(lastSegment(x.App.GetName()), lastSegment(y.App.GetName()))
	})
	for i := range out {
		out[i].Place = i + 1
		out[i].Tied = (i > 0 && out[i-1].Final == out[i].Final) || (i+1 < len(out) && out[i+1].Final == out[i].Final)
	}
	return out
}

func (s *Server) loadDecision(w http.ResponseWriter, r *http.Request) (decisionData, bool) {
	id := r.PathValue("sel")
	_, sel, apps, ok := s.committeeLoad(w, r, id, "final_score desc")
	if !ok {
		return decisionData{}, false
	}
	d := decisionData{ID: id, Selection: sel, Deciding: sel.GetStage() == seleksiv1.Stage_STAGE_COMMITTEE_DECISION,
		Ranking: rankApplications(sel, apps), TieBreak: tieBreakOrder(sel)}
	d.Components = []seleksiv1.ScoreComponent{seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST, seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST,
		seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD}
	for _, ra := range d.Ranking {
		if len(d.Shortlist) < 3 && ra.Qualifies {
			ra.Rank = len(d.Shortlist) + 1
			d.Shortlist = append(d.Shortlist, ra)
		}
	}
	return d, true
}

// committeeDecision shows the computed ranking and the form for the shortlist's reasons.
func (s *Server) committeeDecision(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadDecision(w, r)
	if !ok {
		return
	}
	d.RequestID = commandRequestID()
	s.render(w, r, http.StatusOK, "committee/decision", d)
}

var rankedPath = regexp.MustCompile(`^ranked\[(\d+)\]\.\w+$`)

// committeeDecisionPost checks the reasons and shows the decision for confirmation
// (langkah=tinjau); once confirmed (langkah=kirim) it records the decision.
func (s *Server) committeeDecisionPost(w http.ResponseWriter, r *http.Request) {
	d, ok := s.loadDecision(w, r)
	if !ok {
		return
	}
	_ = r.ParseForm() // nosurf has parsed it already
	f := r.PostForm
	d.RequestID = f.Get("request_id")
	errs := map[string]string{}
	req := &seleksiv1.DecideSelectionRequest{Name: "selections/" + d.ID, RequestId: d.RequestID, ShortfallStatement: strings.TrimSpace(f.Get("shortfall_statement"))}
	for i, ra := range d.Shortlist {
		rank := strconv.Itoa(i + 1)
		if f.Get("application_"+rank) != ra.App.GetName() {
			// The ranking changed since the page was shown (an objection was answered).
			errs["request"] = s.committeeText(r, "committee.error.ranking_changed")
			continue
		}
		reason := strings.TrimSpace(f.Get("reason_" + rank))
		if reason == "" {
			errs["reason_"+rank] = s.committeeText(r, "committee.error.reason_required")
		}
		req.Ranked = append(req.Ranked, &seleksiv1.RankedCandidate{Application: ra.App.GetName(), Rank: uint32(i + 1), Reason: reason})
	}
	if len(d.Shortlist) < 3 && req.ShortfallStatement == "" {
		errs["shortfall_statement"] = s.committeeText(r, "committee.error.shortfall_required")
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/decision", d, f, errs)
		return
	}
	if f.Get("langkah") != "kirim" {
		d.Confirm = true
		s.renderForm(w, r, http.StatusOK, "committee/decision", d, f, nil)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	if _, err := s.api.selections.DecideSelection(ctx, req); err != nil {
		if errs, ok := committeeFormErrors(err, func(p string) string {
			if m := rankedPath.FindStringSubmatch(p); m != nil {
				k, _ := strconv.Atoi(m[1])
				return "reason_" + strconv.Itoa(k+1)
			}
			if p == "shortfall_statement" {
				return p
			}
			return ""
		}); ok {
			s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/decision", d, f, errs)
			return
		}
		s.apiFailed(w, r, err)
		return
	}
	s.flash(r.Context(), "committee.flash.decided")
	http.Redirect(w, r, "/panitia/"+d.ID, http.StatusSeeOther)
}
