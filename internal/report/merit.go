package report

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Status is how one merit-compliance item stands.
type Status string

// Statuses of an item, with the API's enum names.
const (
	StatusMet           Status = "COMPLIANCE_STATUS_MET"
	StatusNotMet        Status = "COMPLIANCE_STATUS_NOT_MET"
	StatusNotApplicable Status = "COMPLIANCE_STATUS_NOT_APPLICABLE"
)

// Item codes of the merit-compliance report, in the order the report lists them.
const (
	ItemAnnouncementWindow   = "announcement_window"
	ItemCommitteeComposition = "committee_composition"
	ItemConflictsRecusals    = "conflicts_recusals"
	ItemStagesPublished      = "stages_published"
	ItemObjectionsOnTime     = "objections_on_time"
	ItemChoiceJustified      = "choice_justified"
)

// Item is one rule of the merit system and how the selection stands against it: the status,
// the findings that explain it (message codes "report.<item>.<finding>") and the sequence
// numbers of the audit events that prove them.
type Item struct {
	Code     string
	Status   Status
	Findings []i18n.Msg
	Evidence []int64
}

// Compliance is the merit-compliance report of one selection at one moment.
type Compliance struct {
	SelectionID   string
	PositionTitle string
	Agency        string
	Stage         string
	// AuditSeq and AuditHead name the audit chain the report was computed from, so that a
	// reader can check it was not computed from a shortened chain.
	AuditSeq     int64
	AuditHead    string
	GenerateTime time.Time
	Items        []Item
}

// NotMet counts the items not met.
func (c Compliance) NotMet() int {
	n := 0
	for _, it := range c.Items {
		if it.Status == StatusNotMet {
			n++
		}
	}
	return n
}

// Item returns the item with code, if the report has it.
func (c Compliance) Item(code string) (Item, bool) {
	i := slices.IndexFunc(c.Items, func(it Item) bool { return it.Code == code })
	if i < 0 {
		return Item{}, false
	}
	return c.Items[i], true
}

func finding(item, code string, kv ...string) i18n.Msg {
	m := i18n.Msg{Code: "report." + item + "." + code}
	if len(kv) > 0 {
		m.Params = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Params[kv[i]] = kv[i+1]
		}
	}
	return m
}

// MeritCompliance computes the merit-compliance report of f at now.
func MeritCompliance(f Facts, now time.Time) Compliance {
	c := Compliance{
		SelectionID: f.Selection.ID, PositionTitle: f.Selection.PositionTitle, Agency: f.Selection.Agency,
		Stage: f.Selection.Stage, AuditSeq: f.Selection.AuditSeq, AuditHead: f.Selection.AuditHead, GenerateTime: now.UTC(),
	}
	c.Items = []Item{
		announcementWindow(f),
		withEvidence(Composition(f.Selection.Committee, f.Definition.PositionLevel), seqs(f.Events, func(e store.AuditEvent) bool {
			return e.Action == store.ActionCreateSelection
		})),
		conflictsRecusals(f),
		stagesPublished(f),
		objectionsOnTime(f, now),
		choiceJustified(f),
	}
	return c
}

func withEvidence(it Item, ev []int64) Item {
	it.Evidence = ev
	return it
}

func seqs(events []store.AuditEvent, keep func(store.AuditEvent) bool) []int64 {
	var out []int64
	for _, e := range events {
		if keep(e) {
			out = append(out, e.Seq)
		}
	}
	return out
}

// announcementWindow: the announcement stayed open for the configured working days plus
// each extension's, and was extended no more often than the rules allow.
func announcementWindow(f Facts) Item {
	it := Item{Code: ItemAnnouncementWindow, Status: StatusMet}
	it.Evidence = seqs(f.Events, func(e store.AuditEvent) bool {
		return e.Action == workflows.EvtOpened || e.Action == workflows.EvtExtended || e.Action == workflows.EvtClosed
	})
	w := f.Selection.Window
	if w.Opens.IsZero() || w.Closes.IsZero() {
		it.Status = StatusNotApplicable
		it.Findings = append(it.Findings, finding(ItemAnnouncementWindow, "not_opened"))
		return it
	}
	cal := f.Definition.Calendar
	win := f.Definition.Windows
	required := win.AnnouncementDays + w.Extension*win.ExtensionDays
	first, err1 := cal.LocalDate(w.Opens)
	last, err2 := lastDay(cal, w.Closes)
	var open int
	var err3 error
	if err1 == nil && err2 == nil {
		open, err3 = cal.CountWorkingDays(first, last)
	}
	if err := cmpErr(err1, err2, err3); err != nil {
		it.Status = StatusNotMet
		it.Findings = append(it.Findings, finding(ItemAnnouncementWindow, "uncountable"))
		return it
	}
	params := []string{"days", strconv.Itoa(open), "required", strconv.Itoa(required), "extensions", strconv.Itoa(w.Extension),
		"opens", w.Opens.Format(time.RFC3339), "closes", w.Closes.Format(time.RFC3339), "zone", string(cal.Zone)}
	if open < required {
		it.Status = StatusNotMet
		it.Findings = append(it.Findings, finding(ItemAnnouncementWindow, "too_short", params...))
	} else {
		it.Findings = append(it.Findings, finding(ItemAnnouncementWindow, "open", params...))
	}
	if w.Extension > win.MaxExtensions {
		it.Status = StatusNotMet
		it.Findings = append(it.Findings, finding(ItemAnnouncementWindow, "too_many_extensions",
			"extensions", strconv.Itoa(w.Extension), "max", strconv.Itoa(win.MaxExtensions)))
	}
	return it
}

// localDay is t's calendar day in the agency's zone (YYYY-MM-DD), or its UTC day.
func localDay(f Facts, t time.Time) string {
	if d, err := f.Definition.Calendar.LocalDate(t); err == nil {
		return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	return t.UTC().Format(time.DateOnly)
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// postRank orders post levels, lowest first; unknown levels rank below all.
func postRank(p string) int {
	return slices.Index([]string{string(workflows.PostAdministrator), string(workflows.PostJPTPratama),
		string(workflows.PostJPTMadya), string(workflows.PostJPTUtama)}, p) + 1
}

// Composition checks a committee against the rules for a JPT selection committee: an odd
// size of 5 to 9, at most 45% internal members, internal members holding a post at least
// level, and exactly one chair.
func Composition(members []store.CommitteeMember, level workflows.PostLevel) Item {
	it := Item{Code: ItemCommitteeComposition, Status: StatusMet}
	fail := func(code string, kv ...string) {
		it.Status = StatusNotMet
		it.Findings = append(it.Findings, finding(ItemCommitteeComposition, code, kv...))
	}
	n := len(members)
	internal, chairs := 0, 0
	var below []string
	for _, m := range members {
		if m.Kind == string(workflows.MemberInternal) {
			internal++
			if postRank(m.PostLevel) < postRank(string(level)) {
				below = append(below, m.DisplayName)
			}
		}
		if m.Role == string(workflows.CommitteeChair) {
			chairs++
		}
	}
	if n < 5 || n > 9 || n%2 == 0 {
		fail("size", "count", strconv.Itoa(n))
	}
	if n > 0 && internal*100 > 45*n {
		fail("internal_share", "internal", strconv.Itoa(internal), "count", strconv.Itoa(n))
	}
	if len(below) > 0 {
		fail("internal_level", "names", strings.Join(below, ", "))
	}
	if chairs != 1 {
		fail("chairs", "count", strconv.Itoa(chairs))
	}
	if it.Status == StatusMet {
		it.Findings = append(it.Findings, finding(ItemCommitteeComposition, "ok", "count", strconv.Itoa(n),
			"internal", strconv.Itoa(internal), "external", strconv.Itoa(n-internal)))
	}
	return it
}

// scoredApplications are the applications a RecordResults (or CorrectResult) payload
// scores, with the stage it names.
func scoredApplications(e store.AuditEvent) (string, []recorded) {
	var p struct {
		Stage   string     `json:"stage"`
		Results []recorded `json:"results"`
	}
	if e.Action != workflows.CmdRecordResults && e.Action != workflows.CmdCorrectResult {
		return "", nil
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return "", nil
	}
	return p.Stage, p.Results
}

// recorded is one result line of a RecordResults payload (workflows.ResultInput's JSON).
type recorded struct {
	ApplicationID string                     `json:"applicationId"`
	Outcome       string                     `json:"outcome"`
	Reason        string                     `json:"reason"`
	Scores        []workflows.ComponentScore `json:"scores"`
	Category      string                     `json:"category"`
}

// conflictsRecusals: every declared conflict is listed, and no member recorded a score for
// an application after declaring a conflict with it.
func conflictsRecusals(f Facts) Item {
	it := Item{Code: ItemConflictsRecusals, Status: StatusMet}
	declared := map[[2]string]int64{}
	for _, e := range f.Events {
		if e.Action == workflows.CmdDeclareConflict {
			it.Evidence = append(it.Evidence, e.Seq)
			var p struct {
				ApplicationIDs []string `json:"applicationIds"`
			}
			if json.Unmarshal(e.Payload, &p) == nil {
				for _, app := range p.ApplicationIDs {
					if _, ok := declared[[2]string{e.ActorSubject, app}]; !ok {
						declared[[2]string{e.ActorSubject, app}] = e.Seq
					}
				}
			}
		}
	}
	// The projected conflicts count as declared from the start when their event is not
	// found (a chain that predates the payload).
	for _, c := range f.Selection.Conflicts {
		if _, ok := declared[[2]string{c.MemberID, c.ApplicationID}]; !ok {
			declared[[2]string{c.MemberID, c.ApplicationID}] = 0
		}
	}
	for _, e := range f.Events {
		_, lines := scoredApplications(e)
		for _, l := range lines {
			since, ok := declared[[2]string{e.ActorSubject, l.ApplicationID}]
			if ok && e.Seq > since {
				it.Status = StatusNotMet
				it.Evidence = append(it.Evidence, e.Seq)
				it.Findings = append(it.Findings, finding(ItemConflictsRecusals, "scored_while_recused",
					"application", l.ApplicationID, "seq", strconv.FormatInt(e.Seq, 10)))
			}
		}
	}
	if it.Status == StatusMet {
		it.Findings = append(it.Findings, finding(ItemConflictsRecusals, "honoured", "count", strconv.Itoa(len(f.Selection.Conflicts))))
	}
	slices.Sort(it.Evidence)
	it.Evidence = slices.Compact(it.Evidence)
	return it
}

// stagesPublished: every stage the selection has passed has a published result. A stage is
// passed when a later one is current, or the selection closed; a cancelled selection passed
// the stages up to the last it published.
func stagesPublished(f Facts) Item {
	it := Item{Code: ItemStagesPublished, Status: StatusMet}
	passed := stageIndex(f.Selection.Stage)
	switch f.Selection.Stage {
	case string(workflows.StageClosed):
		passed = len(publishedStages)
	case string(workflows.StageCancelled):
		passed = 0
		for _, r := range f.Results {
			passed = max(passed, stageIndex(r.Stage)+1)
		}
	}
	if passed <= 0 {
		it.Status = StatusNotApplicable
		it.Findings = append(it.Findings, finding(ItemStagesPublished, "none_passed"))
		return it
	}
	for _, stage := range publishedStages[:passed] {
		r := f.latestResult(stage)
		if r == nil {
			it.Status = StatusNotMet
			it.Findings = append(it.Findings, finding(ItemStagesPublished, "missing", "stage", stage))
			continue
		}
		it.Findings = append(it.Findings, finding(ItemStagesPublished, "published", "stage", stage,
			"revision", strconv.Itoa(r.Revision), "at", localDay(f, r.PublishedAt)))
	}
	target := map[string]bool{}
	for _, stage := range publishedStages[:passed] {
		target["selections/"+f.Selection.ID+"/results/"+stage] = true
	}
	it.Evidence = seqs(f.Events, func(e store.AuditEvent) bool { return target[e.Target] })
	return it
}

// ObjectionTiming is how one objection's answer stands against its deadline.
type ObjectionTiming struct {
	Objection store.Objection
	Due       time.Time
	// Late: answered after Due; Overdue: unanswered and Due has passed.
	Late, Overdue bool
}

// ObjectionTimings checks each objection against Deadlines.ObjectionAnswerDue. An objection
// whose deadline cannot be computed (its year has no holiday list) is left out.
func ObjectionTimings(f Facts, now time.Time) []ObjectionTiming {
	var out []ObjectionTiming
	for _, o := range f.Objections {
		due, err := f.Definition.Deadlines.ObjectionAnswerDue(f.Definition.Calendar, o.FileTime)
		if err != nil {
			continue
		}
		t := ObjectionTiming{Objection: o, Due: due}
		if !o.AnswerTime.IsZero() {
			t.Late = !o.AnswerTime.Before(due)
		} else {
			t.Overdue = !now.Before(due)
		}
		out = append(out, t)
	}
	return out
}

// objectionsOnTime: every objection was answered by its deadline, and none is overdue.
func objectionsOnTime(f Facts, now time.Time) Item {
	it := Item{Code: ItemObjectionsOnTime, Status: StatusMet}
	if len(f.Objections) == 0 {
		it.Status = StatusNotApplicable
		it.Findings = append(it.Findings, finding(ItemObjectionsOnTime, "none"))
		return it
	}
	targets := map[string]bool{}
	onTime := 0
	for _, t := range ObjectionTimings(f, now) {
		o := t.Objection
		targets["selections/"+f.Selection.ID+"/applications/"+o.ApplicationID+"/objections/"+o.ID] = true
		switch {
		case t.Late:
			it.Status = StatusNotMet
			it.Findings = append(it.Findings, finding(ItemObjectionsOnTime, "late", "objection", o.ID,
				"due", t.Due.Format(time.RFC3339), "answered", o.AnswerTime.Format(time.RFC3339), "zone", string(f.Definition.Calendar.Zone)))
		case t.Overdue:
			it.Status = StatusNotMet
			it.Findings = append(it.Findings, finding(ItemObjectionsOnTime, "overdue", "objection", o.ID, "due", t.Due.Format(time.RFC3339),
				"zone", string(f.Definition.Calendar.Zone)))
		default:
			onTime++
		}
	}
	if it.Status == StatusMet {
		it.Findings = append(it.Findings, finding(ItemObjectionsOnTime, "answered", "count", strconv.Itoa(onTime)))
	}
	it.Evidence = seqs(f.Events, func(e store.AuditEvent) bool { return targets[e.Target] })
	return it
}

// choiceJustified: when the PPK appointed a candidate other than rank 1, the choice carries a
// written justification.
func choiceJustified(f Facts) Item {
	it := Item{Code: ItemChoiceJustified, Status: StatusNotApplicable}
	appointed := f.Selection.AppointedApplication
	if appointed == "" {
		it.Findings = append(it.Findings, finding(ItemChoiceJustified, "not_appointed"))
		return it
	}
	var event *store.AuditEvent
	for i := range f.Events {
		if f.Events[i].Action == workflows.CmdAppoint {
			event = &f.Events[i]
			it.Evidence = append(it.Evidence, f.Events[i].Seq)
		}
	}
	rank := 0
	if r := f.latestResult(string(workflows.StageCommitteeDecision)); r != nil {
		for _, e := range r.Entries {
			if e.ApplicationID == appointed {
				rank = e.Rank
			}
		}
		it.Evidence = append(seqs(f.Events, func(e store.AuditEvent) bool {
			return e.Target == "selections/"+f.Selection.ID+"/results/"+string(workflows.StageCommitteeDecision)
		}), it.Evidence...)
	}
	if rank == 1 {
		it.Findings = append(it.Findings, finding(ItemChoiceJustified, "rank_one"))
		return it
	}
	justification := ""
	if event != nil {
		var p struct {
			Justification string `json:"justification"`
			Reason        string `json:"reason"`
		}
		_ = json.Unmarshal(event.Payload, &p)
		justification = strings.TrimSpace(p.Justification)
		if justification == "" {
			justification = strings.TrimSpace(p.Reason)
		}
		if justification == "" {
			justification = strings.TrimSpace(event.Reason)
		}
	}
	if justification == "" {
		it.Status = StatusNotMet
		it.Findings = append(it.Findings, finding(ItemChoiceJustified, "not_recorded", "rank", strconv.Itoa(rank)))
		return it
	}
	it.Status = StatusMet
	it.Findings = append(it.Findings, finding(ItemChoiceJustified, "justified", "rank", strconv.Itoa(rank), "justification", justification))
	return it
}
