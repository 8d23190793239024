package workflows

import (
	"regexp"

	"go.temporal.io/sdk/workflow"

	"slices"
	"strconv"
	"strings"
	"time"
)

// The requirement checklist of administrative screening. A selection's administrative
// requirements are items with stable IDs: education, experience, administrator_post, age,
// one "document:<id>" per required document, and the items the agency adds. When the
// announcement closes, the workflow pre-fills each application's items from the snapshot's
// facts (met, unmet, or unknown, with a finding that says why); the committee confirms or
// overrides each item in recordResults, with a note for every override; accepted objections
// naming items flip them to met. The screening outcome follows from the items: all met
// passes, any unmet fails with the unmet items as the reason, and an item still unknown
// blocks publication.
//
// Selections started before the checklist (ChangeIDChecklist) keep the whole-application
// verdict and the automatic eligibility check they always had.

// EvtChecklistsProposed is the record that sends the checklists the close pre-filled to the
// store, a chunk of applications at a time (see proposeChecklists).
const EvtChecklistsProposed = "ChecklistsProposed"

// StepProposeChecklists names the step of proposeChecklists for Blocked.Step.
const StepProposeChecklists = "ProposeChecklists"

// checklistChunk is how many applications' checklists one record carries: about 1 kB each,
// so a record stays far below Temporal's 2 MB payload limit whatever the number of
// applicants.
const checklistChunk = 250

// ChangeIDChecklist marks selections that screen item by item. It is recorded once, when a
// selection starts, and held in SelectionState.Checklist for the selection's whole life.
const ChangeIDChecklist = "requirement-checklist"

// Fixed item IDs; documents are "document:<id>" and agency items their own IDs.
const (
	ItemEducation         = "education"
	ItemExperience        = "experience"
	ItemAdministratorPost = "administrator_post"
	ItemAge               = "age"
	// ItemDocumentPrefix prefixes the ID of the item of a required document.
	ItemDocumentPrefix = "document:"
)

// ItemStatus is where one requirement item of one application stands. The values are the
// names of the API's RequirementStatus enum.
type ItemStatus string

// Item statuses.
const (
	ItemMet     ItemStatus = "REQUIREMENT_STATUS_MET"
	ItemUnmet   ItemStatus = "REQUIREMENT_STATUS_UNMET"
	ItemUnknown ItemStatus = "REQUIREMENT_STATUS_UNKNOWN"
)

// Message codes of the checklist's findings and reasons.
const (
	CodeItemEducationMet     = "item.education_met"
	CodeItemExperienceMet    = "item.experience_met"
	CodeItemAdministratorMet = "item.administrator_met"
	CodeItemAgeMet           = "item.age_met"
	CodeItemDocumentPresent  = "item.document_present"
	CodeItemDocumentMissing  = "item.document_missing"
	CodeItemDocumentsUnknown = "item.documents_unknown"
	CodeItemAgencyItem       = "item.agency_item"
	// CodeReasonItemsUnmet is the reason of a screening failure: the unmet items.
	CodeReasonItemsUnmet = "reason.requirements_unmet"
)

// RequirementItem is a requirement the agency adds to the legal ones (an integrity pact, a
// statement of no disciplinary sanction...). No data decides it: the committee does.
type RequirementItem struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ChecklistItem is one requirement item of one application.
type ChecklistItem struct {
	Item string `json:"item"`
	// Proposed is the automatic pre-fill at the close, Finding why.
	Proposed ItemStatus `json:"proposed"`
	Finding  *Message   `json:"finding,omitempty"`
	// Status is the item's standing: the proposal until the committee decides it.
	Status ItemStatus `json:"status"`
	// Note is the committee's note (required to override a proposal) or the answer of the
	// objection item that flipped it.
	Note string `json:"note,omitempty"`
	// By and At say who decided the item and when; empty while only proposed.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at,omitzero"`
	// Objection is the objection whose accepted item flipped it to met.
	Objection string `json:"objection,omitempty"`
}

// confirmed reports whether the committee has decided the item.
func (c ChecklistItem) confirmed() bool { return c.By != "" }

// ItemVerdict is the committee's verdict on one item of one application.
type ItemVerdict struct {
	Item string `json:"item"`
	Met  bool   `json:"met"`
	Note string `json:"note,omitempty"`
}

// ItemAnswer is the committee's answer to one contested item of an objection.
type ItemAnswer struct {
	Item     string `json:"item"`
	Accepted bool   `json:"accepted"`
	Answer   string `json:"answer"`
}

// UnmetItem is an unmet item as a published result lists it: the item, the finding of the
// automatic check and the committee's note.
type UnmetItem struct {
	Item    string   `json:"item"`
	Finding *Message `json:"finding,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// ApplicationChecklist is the checklist of one application, as a record sends it to the store.
type ApplicationChecklist struct {
	ApplicationID string          `json:"applicationId"`
	Items         []ChecklistItem `json:"items"`
}

var itemIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,62}$`)

// ItemIDs lists the checklist's item IDs for r, in checklist order.
func ItemIDs(r Requirements) []string {
	ids := []string{ItemEducation, ItemExperience, ItemAdministratorPost, ItemAge}
	for _, d := range r.RequiredDocuments {
		ids = append(ids, ItemDocumentPrefix+d)
	}
	for _, it := range r.AdditionalItems {
		ids = append(ids, it.ID)
	}
	return ids
}

func validateAdditionalItems(items []RequirementItem) []Message {
	var ps []Message
	fixed := []string{ItemEducation, ItemExperience, ItemAdministratorPost, ItemAge}
	for i, it := range items {
		n := strconv.Itoa(i + 1)
		switch {
		case !itemIDPattern.MatchString(it.ID) || slices.Contains(fixed, it.ID):
			ps = append(ps, code("input.requirement_item_id", "number", n))
		case slices.ContainsFunc(items[:i], func(o RequirementItem) bool { return o.ID == it.ID }):
			ps = append(ps, code("input.requirement_item_duplicate", "item", it.ID))
		}
		if blank(it.Title) || len(it.Title) > 200 || len(it.Description) > 2000 {
			ps = append(ps, code("input.requirement_item_title", "number", n))
		}
	}
	return ps
}

// prefill is the automatic proposal for each item of an application at the close.
func prefill(r Requirements, f EligibilityFacts) []ChecklistItem {
	items := make([]ChecklistItem, 0, 4+len(r.RequiredDocuments)+len(r.AdditionalItems))
	add := func(id string, st ItemStatus, m Message) {
		items = append(items, ChecklistItem{Item: id, Proposed: st, Status: st, Finding: &m})
	}
	switch {
	case f.Education == "":
		add(ItemEducation, ItemUnknown, code(CodeEligEducationUnknown))
	case f.Education.rank() == 0:
		add(ItemEducation, ItemUnknown, code(CodeEligEducationUnrecognised, "level", string(f.Education)))
	case f.Education.rank() < r.MinEducation.rank():
		add(ItemEducation, ItemUnmet, code(CodeEligEducation, "required", string(r.MinEducation)))
	default:
		add(ItemEducation, ItemMet, code(CodeItemEducationMet, "level", string(f.Education), "required", string(r.MinEducation)))
	}
	months := func(id string, v *int, req int, unknown, unmet, met string) {
		switch {
		case v == nil:
			add(id, ItemUnknown, code(unknown))
		case *v < req:
			add(id, ItemUnmet, code(unmet, "months", strconv.Itoa(*v), "required", strconv.Itoa(req)))
		default:
			add(id, ItemMet, code(met, "months", strconv.Itoa(*v), "required", strconv.Itoa(req)))
		}
	}
	months(ItemExperience, f.ExperienceMonths, r.MinExperienceMonths, CodeEligExperienceUnknown, CodeEligExperience, CodeItemExperienceMet)
	months(ItemAdministratorPost, f.AdministratorMonths, r.MinAdministratorMonths, CodeEligAdministratorUnknown, CodeEligAdministrator, CodeItemAdministratorMet)
	switch {
	case f.AgeAtClose <= 0:
		add(ItemAge, ItemUnknown, code(CodeEligAgeUnknown))
	case f.AgeAtClose > r.MaxAge:
		add(ItemAge, ItemUnmet, code(CodeEligAge, "age", strconv.Itoa(f.AgeAtClose), "max", strconv.Itoa(r.MaxAge)))
	default:
		add(ItemAge, ItemMet, code(CodeItemAgeMet, "age", strconv.Itoa(f.AgeAtClose), "max", strconv.Itoa(r.MaxAge)))
	}
	for _, d := range r.RequiredDocuments {
		switch {
		case f.Documents == nil:
			add(ItemDocumentPrefix+d, ItemUnknown, code(CodeItemDocumentsUnknown, "document", d))
		case slices.Contains(f.Documents, d):
			add(ItemDocumentPrefix+d, ItemMet, code(CodeItemDocumentPresent, "document", d))
		default:
			add(ItemDocumentPrefix+d, ItemUnmet, code(CodeItemDocumentMissing, "document", d))
		}
	}
	for _, it := range r.AdditionalItems {
		add(it.ID, ItemUnknown, code(CodeItemAgencyItem, "item", it.ID))
	}
	return items
}

func (a *Application) item(id string) int {
	for i := range a.Checklist {
		if a.Checklist[i].Item == id {
			return i
		}
	}
	return -1
}

// undecided lists the application's items still unknown, in checklist order.
func (a *Application) undecided() []string {
	var ids []string
	for _, it := range a.Checklist {
		if it.Status == ItemUnknown {
			ids = append(ids, it.Item)
		}
	}
	return ids
}

// unmetItems lists the application's unmet items as a published result shows them.
func (a *Application) unmetItems() []UnmetItem {
	var out []UnmetItem
	for _, it := range a.Checklist {
		if it.Status == ItemUnmet {
			out = append(out, UnmetItem{Item: it.Item, Finding: cloneMessage(it.Finding), Note: it.Note})
		}
	}
	return out
}

// checklistOutcome is the screening outcome the items give: pass when all are met, fail with
// the unmet items as the reason otherwise. ok is false while an item is unknown.
func checklistOutcome(a *Application) (Outcome, *Message, bool) {
	if len(a.undecided()) > 0 {
		return "", nil, false
	}
	var unmet []string
	for _, it := range a.Checklist {
		if it.Status == ItemUnmet {
			unmet = append(unmet, it.Item)
		}
	}
	if len(unmet) == 0 {
		return OutcomePass, nil, true
	}
	m := code(CodeReasonItemsUnmet, "items", strings.Join(unmet, ", "), "count", strconv.Itoa(len(unmet)))
	return OutcomeFail, &m, true
}

// checkItemVerdicts checks the per-item verdicts of one screening entry against the
// application's checklist. correct allows deciding again an item already decided.
func checkItemVerdicts(a *Application, e ResultInput, correct bool) *Message {
	for i, v := range e.Items {
		j := a.item(v.Item)
		if j < 0 {
			m := code("reject.not_found.requirement_item", "application", a.ID, "item", v.Item)
			return &m
		}
		if slices.ContainsFunc(e.Items[:i], func(o ItemVerdict) bool { return o.Item == v.Item }) {
			m := code("reject.duplicate.requirement_item_twice", "application", a.ID, "item", v.Item)
			return &m
		}
		it := a.Checklist[j]
		if it.confirmed() && !correct {
			m := code("reject.duplicate.requirement_item_decided", "application", a.ID, "item", v.Item)
			return &m
		}
		overrides := (it.Proposed == ItemMet && !v.Met) || (it.Proposed == ItemUnmet && v.Met)
		if m := checkText("note", v.Note, overrides); m != nil {
			m.Params.Set("application", a.ID)
			m.Params.Set("item", v.Item)
			return m
		}
	}
	if len(e.Scores) > 0 || e.Category != "" {
		m := code("reject.invalid_argument.screening_scores", "application", a.ID)
		return &m
	}
	if e.Outcome == "" || e.Outcome == OutcomeNone {
		return nil
	}
	// An outcome sent with the items must be the one the items give.
	next := a.clone()
	applyItemVerdicts(&next, e.Items, "", time.Time{})
	if o, _, ok := checklistOutcome(&next); !ok || o != e.Outcome {
		m := code("reject.invalid_argument.outcome_disagrees_with_items", "application", a.ID, "outcome", string(e.Outcome))
		return &m
	}
	return nil
}

// applyItemVerdicts records the committee's verdicts on items.
func applyItemVerdicts(a *Application, vs []ItemVerdict, by string, at time.Time) {
	for _, v := range vs {
		it := &a.Checklist[a.item(v.Item)]
		it.Status = ItemUnmet
		if v.Met {
			it.Status = ItemMet
		}
		it.Note, it.By, it.At, it.Objection = v.Note, by, at, ""
	}
}

// wholeVerdictItems is what a whole-application verdict (an entry without items, the form
// clients used before the checklist) says of the items: a pass confirms every item met; a
// fail confirms the proposals and finds every unknown item unmet. The verdict's reason
// (required for a pass against an unmet proposal) stays the application's, once: copied into
// each item it overrides, a batch of long reasons grew the command's record past Temporal's
// 2 MB limit.
func wholeVerdictItems(a *Application, e ResultInput) []ItemVerdict {
	vs := make([]ItemVerdict, 0, len(a.Checklist))
	for _, it := range a.Checklist {
		v := ItemVerdict{Item: it.Item, Met: e.Outcome == OutcomePass}
		if e.Outcome == OutcomeFail && it.Proposed == ItemMet {
			v.Met = true
		}
		vs = append(vs, v)
	}
	return vs
}

// checklistChange is the record's copy of an application's checklist.
func checklistChange(a *Application) ApplicationChecklist {
	return ApplicationChecklist{ApplicationID: a.ID, Items: cloneItems(a.Checklist)}
}

func cloneItems(items []ChecklistItem) []ChecklistItem {
	if items == nil {
		return nil
	}
	out := make([]ChecklistItem, len(items))
	for i, it := range items {
		it.Finding = cloneMessage(it.Finding)
		out[i] = it
	}
	return out
}

// checkObjectionItems checks the items an objection to the screening result contests: each
// an unmet item of the application, once.
func checkObjectionItems(a *Application, items []string) *Message {
	for i, id := range items {
		j := a.item(id)
		if j < 0 {
			m := code("reject.not_found.requirement_item", "application", a.ID, "item", id)
			return &m
		}
		if slices.Contains(items[:i], id) {
			m := code("reject.duplicate.requirement_item_twice", "application", a.ID, "item", id)
			return &m
		}
		if a.Checklist[j].Status != ItemUnmet {
			m := code("reject.invalid_argument.objection_item_not_unmet", "item", id)
			return &m
		}
	}
	return nil
}

// checkItemAnswers checks that the answer to an objection answers every contested item once
// and nothing else.
func checkItemAnswers(o Objection, a AnswerObjectionArgs) *Message {
	if len(o.Items) == 0 {
		if len(a.Items) > 0 {
			m := code("reject.invalid_argument.objection_names_no_item")
			return &m
		}
		return nil
	}
	if a.Correction != nil {
		m := code("reject.invalid_argument.item_answers_not_correction")
		return &m
	}
	accepted := false
	for i, ans := range a.Items {
		if !slices.Contains(o.Items, ans.Item) {
			m := code("reject.invalid_argument.item_not_contested", "item", ans.Item)
			return &m
		}
		if slices.ContainsFunc(a.Items[:i], func(x ItemAnswer) bool { return x.Item == ans.Item }) {
			m := code("reject.duplicate.requirement_item_twice", "application", o.ApplicationID, "item", ans.Item)
			return &m
		}
		if m := checkText("item_answer", ans.Answer, true); m != nil {
			m.Params.Set("item", ans.Item)
			return m
		}
		accepted = accepted || ans.Accepted
	}
	for _, id := range o.Items {
		if !slices.ContainsFunc(a.Items, func(x ItemAnswer) bool { return x.Item == id }) {
			m := code("reject.incomplete.item_unanswered", "item", id)
			return &m
		}
	}
	if accepted != a.Accept {
		m := code("reject.invalid_argument.accepted_disagrees_with_items")
		return &m
	}
	return nil
}

// checklistsPending reports whether checklists pre-filled at the close have not all been sent
// to the store yet.
func (st *SelectionState) checklistsPending() bool {
	return st.Checklist && st.Stage == StageAdministrativeScreening && st.ChecklistsSent < len(st.Applications)
}

// proposeChecklists sends the next chunk of the checklists the close pre-filled to the store,
// with their current state (a verdict recorded meanwhile included). The close itself sends
// none, so that neither its record nor any other grows with the number of applicants; the
// main loop calls this step until every application's checklist is in the store. It holds
// the lock.
func (s *selection) proposeChecklists(ctx workflow.Context) error {
	next := s.st.clone()
	from := next.ChecklistsSent
	to := min(from+checklistChunk, len(next.Applications))
	var cls []ApplicationChecklist
	for i := from; i < to; i++ {
		if next.Applications[i].Checklist != nil {
			cls = append(cls, checklistChange(&next.Applications[i]))
		}
	}
	next.ChecklistsSent = to
	return s.commit(ctx, next, CommandRecord{Kind: EvtChecklistsProposed, Actor: systemActor(), Checklists: cls})
}

// DecidedItem is one decided item of a checklist in a continued run's input, under short
// names: a selection of thousands of applications carries one per item decided.
type DecidedItem struct {
	Item      string     `json:"i"`
	Status    ItemStatus `json:"s"`
	Note      string     `json:"n,omitempty"`
	By        string     `json:"b"`
	At        time.Time  `json:"t"`
	Objection string     `json:"o,omitempty"`
}

// compactChecklists is the state as a continued run's input carries it: each checklist
// reduced to the items decided, since the proposal and finding of every item are the
// close's pre-fill, which restoreChecklists recomputes from the facts the state keeps. Without
// it the input grows by about a kilobyte per application and a large selection could not
// continue as new (Temporal refuses payloads over 2 MB). The live state is left as it is.
func (st *SelectionState) compactChecklists(r Requirements) *SelectionState {
	out := *st
	out.Applications = make([]Application, len(st.Applications))
	for i, a := range st.Applications {
		if a.Checklist != nil && prefillRestores(r, a) {
			a.Decided = []DecidedItem{}
			for _, it := range a.Checklist {
				if it.confirmed() || it.Status != it.Proposed {
					a.Decided = append(a.Decided, DecidedItem{Item: it.Item, Status: it.Status, Note: it.Note, By: it.By, At: it.At, Objection: it.Objection})
				}
			}
			a.Checklist, a.Compacted = nil, true
		}
		out.Applications[i] = a
	}
	return &out
}

// prefillRestores reports whether the pre-fill of the application's facts, as the next run
// reads them back, gives its items' proposals and findings: only then may its checklist
// travel compacted. (An empty list of documents reads back as unknown, for one.)
func prefillRestores(r Requirements, a Application) bool {
	f := a.Facts
	if len(f.Documents) == 0 {
		f.Documents = nil
	}
	again := prefill(r, f)
	if len(again) != len(a.Checklist) {
		return false
	}
	for i, it := range a.Checklist {
		p := again[i]
		if p.Item != it.Item || p.Proposed != it.Proposed || !sameMessage(p.Finding, it.Finding) {
			return false
		}
	}
	return true
}

func sameMessage(a, b *Message) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Code == b.Code && a.ID == b.ID && a.EN == b.EN && slices.Equal(a.Params, b.Params) && a.Detail == nil && b.Detail == nil
}

// restoreChecklists rebuilds the checklists a continued run's input carries compacted: the
// pre-fill of the facts, with the decided items over it.
func (st *SelectionState) restoreChecklists(r Requirements) {
	for i := range st.Applications {
		a := &st.Applications[i]
		if !a.Compacted {
			continue
		}
		a.Checklist = prefill(r, a.Facts)
		for _, d := range a.Decided {
			if j := a.item(d.Item); j >= 0 {
				it := &a.Checklist[j]
				it.Status, it.Note, it.By, it.At, it.Objection = d.Status, d.Note, d.By, d.At, d.Objection
			}
		}
		a.Decided, a.Compacted = nil, false
	}
}
