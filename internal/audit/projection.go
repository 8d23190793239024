package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/auditchain"
	"github.com/bkpsdm/seleksi/workflows"
)

// The projection check: the store's rows for a selection (its stage and windows, each
// application's state and final score, every revision of every published stage result
// with its entries, each application's result lines, the objections and their answers, the
// declared conflicts, the appointment) are rebuilt from the histories alone and compared
// column by column with what the store serves. The history holds every input the store
// was given (the ProjectWindow, SnapshotApplications and ApplyCommand activities), so the
// rebuild does not depend on the workflow's state, which drops eliminated applications'
// records once their stage is settled.
//
// The rebuild applies those inputs in the order the history completed them, following the
// store's rules for each (internal/store commands.go): the two must agree, and the tests
// that build a store from the recorded histories check that they do. It compares codes,
// identifiers, numbers, instants and the text the records carry; it renders nothing.

// KindProjectionMismatch: a row of the store's projection differs from the one the history
// determines (a changed column, a row the history does not account for, or a row missing).
const KindProjectionMismatch = "projection_mismatch"

// The projected tables, as the store names them (store.ProjectedTables).
const (
	tableSelections         = "selections"
	tableApplications       = "applications"
	tableStageResults       = "stage_results"
	tableApplicationResults = "application_results"
	tableObjections         = "objections"
	tableConflicts          = "conflicts"
)

// ProjectionRow is one row of a projected table as text: the store's ReadProjection gives
// the stored rows, ExpectedProjection the rows the history determines.
type ProjectionRow struct {
	Table string `json:"table"`
	// Key is the key columns' values within the selection, joined by "/".
	Key     string            `json:"key"`
	Columns map[string]string `json:"columns"`
	// StoreOnly marks a row the history cannot account for by design (an application
	// withdrawn during the announcement, before the workflow's snapshot).
	StoreOnly bool `json:"storeOnly,omitempty"`
}

// notDetermined is the rebuilt value of a column the history has not set (yet): whatever
// the store holds there came from outside the workflow, and is not compared.
const notDetermined = "\x00not determined by the history"

// projector holds the rows being rebuilt.
type projector struct {
	rows  map[string]*ProjectionRow // table + "\x00" + key
	order []string
	// submitted are the applications known only from snapshots, not yet changed by a record.
	submitted map[string]bool
}

// drop removes a row.
func (p *projector) drop(table, key string) {
	id := table + "\x00" + key
	delete(p.rows, id)
	p.order = slices.DeleteFunc(p.order, func(o string) bool { return o == id })
}

func (p *projector) row(table, key string, defaults map[string]string) *ProjectionRow {
	id := table + "\x00" + key
	if r, ok := p.rows[id]; ok {
		return r
	}
	cols := make(map[string]string, len(defaults))
	for k, v := range defaults {
		cols[k] = v
	}
	r := &ProjectionRow{Table: table, Key: key, Columns: cols}
	p.rows[id] = r
	p.order = append(p.order, id)
	return r
}

func (p *projector) has(table, key string) bool {
	_, ok := p.rows[table+"\x00"+key]
	return ok
}

func instantText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return auditchain.FormatInstant(t)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	c, err := CanonicalJSON(b)
	if err != nil {
		return string(b)
	}
	return string(c)
}

// storedMessage is a message as the store keeps it in a *_message column (store.Text): the
// code, its parameters as an object, an embedded message, and the texts of a message from
// before codes.
type storedMessage struct {
	Code   string            `json:"code,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Detail *storedMessage    `json:"detail,omitempty"`
	EN     string            `json:"en,omitempty"`
	ID     string            `json:"id,omitempty"`
}

func toStored(m *workflows.Message) *storedMessage {
	if m == nil {
		return nil
	}
	out := &storedMessage{Code: m.Code, EN: m.EN, ID: m.ID, Detail: toStored(m.Detail)}
	if len(m.Params) > 0 {
		out.Params = m.Params.Map()
	}
	return out
}

// messageText is the projected text of a *_message column holding m: "" for none.
func messageText(m *workflows.Message) string {
	if m == nil {
		return ""
	}
	return jsonText(toStored(m))
}

// storeActive reports whether the store moves an application in this state along with the
// selection's stage.
func storeActive(state string) bool {
	return state == string(workflows.AppSubmitted) || state == string(workflows.AppInProgress) || state == string(workflows.AppShortlisted)
}

// ExpectedProjection rebuilds the projected rows of the selection from the facts of its
// histories: the applied windows, snapshots and command records, in the order the history
// completed them.
func ExpectedProjection(facts HistoryFacts) []ProjectionRow {
	return expectedProjection(facts, 0, 0, false)
}

// expectedProjection is ExpectedProjection up to event cutoffEvent of run cutoffRun (0: all),
// with, when pending is set, the records whose activity has not completed yet applied last.
func expectedProjection(facts HistoryFacts, cutoffRun int, cutoffEvent int64, pending bool) []ProjectionRow {
	p := &projector{rows: map[string]*ProjectionRow{}, submitted: map[string]bool{}}
	// The stage, phase, window and intake hold what the selection's creation wrote until the
	// workflow's first record or window projection sets them; the other columns are written
	// by records alone, so the history determines them from the start.
	sel := p.row(tableSelections, facts.SelectionID, map[string]string{
		"workflow_id": facts.WorkflowID, "stage": notDetermined, "phase": notDetermined, "stage_opened_at": "",
		"window_opens": notDetermined, "window_closes": notDetermined, "window_closes_wall": notDetermined,
		"window_extension": notDetermined, "intake_frozen": notDetermined,
		"snapshot_digest": "", "appointed_application": "", "ppk_decree_ref": "", "oversight_recommendation_ref": "", "appointment_justification": "", "cancel_reason": "",
		"cancel_message": "",
	}).Columns
	type step struct {
		run   int
		event int64
		apply func()
	}
	var steps []step
	for _, w := range facts.Windows {
		if w.CompletedEventID == 0 {
			continue
		}
		steps = append(steps, step{w.Run, w.CompletedEventID, func() {
			setWindow(sel, w.Window.Opens, w.Window.Closes, w.Window.ClosesWall, w.Window.OpensWall, w.Window.Extension)
			sel["intake_frozen"] = "false"
		}})
	}
	for _, s := range facts.Snapshots {
		if s.CompletedEventID == 0 {
			continue
		}
		steps = append(steps, step{s.Run, s.CompletedEventID, func() {
			sel["intake_frozen"] = "true"
			// An application an earlier close froze that this close no longer lists was
			// withdrawn while an extension had the window open again: the store alone
			// records that.
			listed := make(map[string]bool, len(s.ApplicationIDs))
			for _, id := range s.ApplicationIDs {
				listed[id] = true
			}
			for id := range p.submitted {
				if !listed[id] {
					p.drop(tableApplications, id)
					delete(p.submitted, id)
				}
			}
			for _, id := range s.ApplicationIDs {
				if !p.has(tableApplications, id) {
					p.submitted[id] = true
				}
				p.application(id)
			}
		}})
	}
	for _, r := range facts.Records {
		event := r.CompletedEventID
		switch {
		case r.Applied():
		case pending && r.Status == "pending":
			// After everything completed: the workflow applies one record at a time.
			event = r.ScheduledEventID + 1<<40
		default:
			continue
		}
		steps = append(steps, step{r.Run, event, func() { p.apply(sel, r) }})
	}
	slices.SortStableFunc(steps, func(a, b step) int {
		return cmp.Or(cmp.Compare(a.run, b.run), cmp.Compare(a.event, b.event))
	})
	for _, s := range steps {
		if cutoffRun > 0 && (s.run > cutoffRun || (s.run == cutoffRun && s.event > cutoffEvent)) {
			break
		}
		s.apply()
	}
	out := make([]ProjectionRow, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, *p.rows[id])
	}
	return out
}

// application is an application's row, as the store holds it after the submission.
func (p *projector) application(id string) map[string]string {
	return p.row(tableApplications, id, map[string]string{
		"state": string(workflows.AppSubmitted), "current_stage": string(workflows.StageAnnouncement), "rank": "0", "final_score": "0",
		"eliminated_stage": "", "elimination_reason": "", "status_en": "", "status_id": "",
		"elimination_message": "", "status_message": "", "checklist": "",
	}).Columns
}

func setWindow(sel map[string]string, opens, closes, closesWall, opensWall time.Time, extension int) {
	sel["window_opens"], sel["window_closes"], sel["window_closes_wall"] = instantText(opens), instantText(closes), instantText(closesWall)
	sel["window_opens_wall"] = instantText(opensWall)
	sel["window_extension"] = strconv.Itoa(extension)
}

// apply applies one command record as the store's ApplyCommand does.
func (p *projector) apply(sel map[string]string, r RecordFact) {
	rec := r.Record
	at := instantText(rec.At)
	stage := string(rec.Stage)
	if stage != sel["stage"] {
		sel["stage_opened_at"], sel["stage_opened_wall"] = at, instantText(rec.AtWall)
		for _, id := range p.order {
			a := p.rows[id]
			if a.Table == tableApplications && storeActive(a.Columns["state"]) && a.Columns["current_stage"] != stage {
				a.Columns["current_stage"] = stage
			}
		}
	} else if sel["stage_opened_at"] == "" {
		sel["stage_opened_at"], sel["stage_opened_wall"] = at, instantText(rec.AtWall)
	}
	sel["stage"], sel["phase"] = stage, string(rec.Phase)
	if w := rec.Window; w != nil {
		setWindow(sel, w.Opens, w.Closes, w.ClosesWall, w.OpensWall, w.Extension)
	}
	if rec.SnapshotDigest != "" {
		sel["snapshot_digest"] = rec.SnapshotDigest
	}
	switch rec.Kind {
	case workflows.CmdAppoint:
		var args workflows.AppointArgs
		if json.Unmarshal(r.Args, &args) == nil {
			sel["appointed_application"], sel["ppk_decree_ref"], sel["oversight_recommendation_ref"] =
				args.ApplicationID, args.PPKDecreeRef, args.OversightRecommendationRef
			sel["appointment_justification"] = args.Justification
		}
	case workflows.CmdCancel, workflows.EvtPostponed:
		if rec.Reason != "" {
			sel["cancel_reason"] = rec.Reason
		}
		if rec.Kind == workflows.EvtPostponed && rec.Reason == "" && rec.Message != nil {
			// The postponement's reason is the system's, kept as its message code.
			sel["cancel_message"] = messageText(rec.Message)
		}
	case workflows.CmdDeclareConflict:
		// Decoded by JSON name rather than as workflows.DeclareConflictArgs, so that a
		// relationship recorded apart from the reason is compared as soon as records carry it.
		var args struct {
			ApplicationIDs []string `json:"applicationIds"`
			Reason         string   `json:"reason"`
			Relationship   string   `json:"relationship"`
		}
		if json.Unmarshal(r.Args, &args) == nil {
			for _, id := range args.ApplicationIDs {
				c := p.row(tableConflicts, rec.Actor.Subject+"/"+id, nil).Columns
				c["relationship"], c["reason"], c["declared_by"], c["declared_at"] = args.Relationship, args.Reason, rec.Actor.Subject, at
			}
		}
	}

	// Final scores published with the result reach the applications too.
	finals := map[string]int64{}
	if res := rec.Result; res != nil {
		for _, e := range res.Entries {
			if e.FinalScore != 0 {
				finals[e.ApplicationID] = int64(e.FinalScore)
			}
		}
	}
	for _, ch := range rec.Applications {
		delete(p.submitted, ch.ApplicationID)
		a := p.application(ch.ApplicationID)
		st := string(ch.Stage)
		if st == "" {
			st = stage
		}
		a["state"], a["current_stage"], a["rank"] = string(ch.State), st, strconv.Itoa(ch.Rank)
		switch ch.State {
		case workflows.AppEliminated, workflows.AppNotSelected, workflows.AppWithdrawn:
			a["eliminated_stage"], a["elimination_reason"], a["elimination_message"] = st, ch.Reason, messageText(ch.ReasonMessage)
		default:
			a["eliminated_stage"], a["elimination_reason"], a["elimination_message"] = "", "", ""
		}
		final := finals[ch.ApplicationID]
		if ch.FinalScore != 0 {
			final = int64(ch.FinalScore)
		}
		if final != 0 {
			a["final_score"] = strconv.FormatInt(final, 10)
		}
		if m := ch.Status; m != nil {
			a["status_en"], a["status_id"], a["status_message"] = m.EN, m.ID, messageText(m)
		}
	}

	for _, cl := range rec.Checklists {
		p.application(cl.ApplicationID)["checklist"] = jsonText(cl.Items)
	}

	if res := rec.Result; res != nil {
		entries := res.Entries
		if entries == nil {
			entries = []workflows.ResultEntry{}
		}
		pub := instantText(res.PublishedAt)
		p.row(tableStageResults, string(res.Stage)+"/"+strconv.Itoa(res.Revision), nil).Columns = map[string]string{
			"published_at": pub, "objection_deadline": instantText(res.ObjectionDeadline), "revision_reason": res.RevisionReason,
			"revision_message": messageText(res.RevisionMessage),
			"scores_published": strconv.FormatBool(res.ScoresPublished), "entries": jsonText(entries),
		}
		for _, e := range entries {
			scores := e.Scores
			if scores == nil {
				scores = []workflows.ComponentScore{}
			}
			p.row(tableApplicationResults, e.ApplicationID+"/"+string(res.Stage), nil).Columns = map[string]string{
				"revision": strconv.Itoa(res.Revision), "outcome": string(e.Outcome), "scores": jsonText(scores),
				"final_score": strconv.FormatInt(int64(e.FinalScore), 10), "rank": strconv.Itoa(e.Rank), "reason": e.Reason, "published_at": pub,
				"competency_category": string(e.Category), "reason_message": messageText(e.ReasonMessage),
			}
		}
	}

	if o := rec.Objection; o != nil {
		correction := ""
		if o.Correction != nil {
			correction = jsonText(o.Correction)
		}
		if !p.has(tableObjections, o.ID) {
			items := ""
			if len(o.Items) > 0 {
				items = jsonText(o.Items)
			}
			p.row(tableObjections, o.ID, nil).Columns = map[string]string{
				"application_id": o.ApplicationID, "stage": string(o.Stage), "candidate": o.Candidate, "reason": o.Reason,
				"filed_at": instantText(o.FiledAt), "items": items, "document": o.Document,
				"answer_due": "", "overdue": "false",
			}
		}
		c := p.row(tableObjections, o.ID, nil).Columns
		c["state"], c["answer"], c["answered_by"], c["answered_at"], c["correction"] =
			string(o.State), o.Answer, o.AnsweredBy, instantText(o.AnsweredAt), correction
		c["item_answers"] = ""
		if len(o.ItemAnswers) > 0 {
			c["item_answers"] = jsonText(o.ItemAnswers)
		}
	}
	// A reminder or escalation sets the answer's deadline on the objection it concerns.
	if d := rec.Deadline; d != nil && p.has(tableObjections, d.Objection) {
		c := p.row(tableObjections, d.Objection, nil).Columns
		c["answer_due"], c["overdue"] = instantText(d.Due), strconv.FormatBool(d.Overdue)
	}
}

// CheckProjection compares the store's rows with the rows the histories determine. While the
// selection runs, the store commits a record before the history shows its activity complete,
// so a record still pending in the history may or may not be in the store: a difference is
// reported only when the store matches neither the rows without the pending records nor the
// rows with them.
func CheckProjection(facts HistoryFacts, stored []ProjectionRow) []Finding {
	fs := CompareProjection(ExpectedProjection(facts), stored)
	if len(fs) == 0 || !slices.ContainsFunc(facts.Records, func(r RecordFact) bool { return r.Status == "pending" }) {
		return fs
	}
	with := CompareProjection(expectedProjection(facts, 0, 0, true), stored)
	return SameFacts(fs, with)
}

// SameFacts keeps the findings of fs that name a fact (table, row and column) also named by
// a finding of other: what two comparisons of the same store, taken a moment apart while
// the selection runs, agree is wrong.
func SameFacts(fs, other []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if slices.ContainsFunc(other, func(g Finding) bool { return g.Table == f.Table && g.Row == f.Row && g.Column == f.Column }) {
			out = append(out, f)
		}
	}
	return out
}

// CompareProjection compares the store's rows (stored) with the rows the history determines
// (expected), table by table, row by row, column by column. Each difference is a finding
// naming the table, the row's key and the column, with the value the history gives and the
// value the store has. A column the store compares that the rebuild does not know is itself
// a finding, so that a newly projected column cannot pass unverified.
func CompareProjection(expected, stored []ProjectionRow) []Finding {
	var fs []Finding
	add := func(table, key, column, format string, args ...any) {
		fs = append(fs, Finding{Kind: KindProjectionMismatch, Table: table, Row: key, Column: column, Message: fmt.Sprintf(format, args...)})
	}
	byID := make(map[string]ProjectionRow, len(stored))
	for _, r := range stored {
		byID[r.Table+"\x00"+r.Key] = r
	}
	seen := make(map[string]bool, len(expected))
	stage := ""
	for _, want := range expected {
		id := want.Table + "\x00" + want.Key
		seen[id] = true
		if want.Table == tableSelections {
			stage = want.Columns["stage"]
		}
		got, ok := byID[id]
		if !ok {
			add(want.Table, want.Key, "", "the history determines this row; the store does not have it")
			continue
		}
		for _, col := range columnsOf(want, got) {
			w, inWant := want.Columns[col]
			g, inGot := got.Columns[col]
			switch {
			case !inWant:
				add(want.Table, want.Key, col, "the store compares this column but the verifier does not rebuild it from the history (store has %s)", quote(g))
			case w == notDetermined:
				// Not the history's to say.
			case !inGot:
				add(want.Table, want.Key, col, "the history gives %s; the store does not serve this column", quote(w))
			case w != g:
				if d := entryDiff(col, w, g); d != "" {
					// A list's differing lines say more than two long lists.
					add(want.Table, want.Key, col, "the history and the store differ: %s", d)
				} else {
					add(want.Table, want.Key, col, "the history gives %s, the store has %s", quote(w), quote(g))
				}
			}
		}
	}
	for _, got := range stored {
		// Withdrawn during the announcement, before any close saw it: decided from the
		// row's own columns rather than from the exporter's StoreOnly flag.
		withdrawnEarly := got.Table == tableApplications && got.Columns["state"] == string(workflows.AppWithdrawn) &&
			got.Columns["eliminated_stage"] == string(workflows.StageAnnouncement)
		if seen[got.Table+"\x00"+got.Key] || withdrawnEarly {
			continue
		}
		// Until the announcement closes, the store alone knows the applications; the
		// workflow sees them in its snapshot at the close.
		if got.Table == tableApplications && stage == string(workflows.StageAnnouncement) {
			continue
		}
		add(got.Table, got.Key, "", "the store has this row; the history does not account for it")
	}
	return fs
}

func columnsOf(a, b ProjectionRow) []string {
	var cols []string
	for c := range a.Columns {
		cols = append(cols, c)
	}
	for c := range b.Columns {
		if _, ok := a.Columns[c]; !ok {
			cols = append(cols, c)
		}
	}
	slices.Sort(cols)
	return cols
}

// quote shows a value in a finding: text quoted, JSON as it is, long values cut.
func quote(s string) string {
	if s == "" {
		return "nothing"
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if json.Valid([]byte(s)) && (s[0] == '[' || s[0] == '{') {
		return s
	}
	return strconv.Quote(s)
}

// entryDiff names the entries of a published result (or the component scores of a result
// line) that differ, so that a finding on a long list says which candidate's line or which
// score changed and how; "" when the column is not such a list.
func entryDiff(col, want, got string) string {
	if col == "scores" {
		return scoreDiff(want, got)
	}
	if col != "entries" {
		return ""
	}
	var w, g []map[string]any
	if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
		return ""
	}
	index := func(list []map[string]any) (map[string]string, []string) {
		m := map[string]string{}
		var ids []string
		for _, e := range list {
			id, _ := e["applicationId"].(string)
			if _, dup := m[id]; !dup {
				ids = append(ids, id)
			}
			m[id] = jsonText(e)
		}
		return m, ids
	}
	wm, wids := index(w)
	gm, gids := index(g)
	var diffs []string
	for _, id := range wids {
		if gm[id] != wm[id] {
			diffs = append(diffs, fmt.Sprintf("entry %s: history %s, store %s", id, orNothing(wm[id]), orNothing(gm[id])))
		}
	}
	for _, id := range gids {
		if _, ok := wm[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("entry %s: history nothing, store %s", id, gm[id]))
		}
	}
	if len(diffs) == 0 {
		return "the same entries in another order"
	}
	return strings.Join(diffs, "; ")
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// scoreDiff names the component scores that differ.
func scoreDiff(want, got string) string {
	var w, g []struct {
		Component string `json:"component"`
		Score     int64  `json:"score"`
	}
	if json.Unmarshal([]byte(want), &w) != nil || json.Unmarshal([]byte(got), &g) != nil {
		return ""
	}
	scores := func(list []struct {
		Component string `json:"component"`
		Score     int64  `json:"score"`
	}) (map[string]int64, []string) {
		m := map[string]int64{}
		var names []string
		for _, c := range list {
			if _, dup := m[c.Component]; !dup {
				names = append(names, c.Component)
			}
			m[c.Component] = c.Score
		}
		return m, names
	}
	wm, wn := scores(w)
	gm, gn := scores(g)
	var diffs []string
	for _, c := range wn {
		if v, ok := gm[c]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: history %d, store none", c, wm[c]))
		} else if v != wm[c] {
			diffs = append(diffs, fmt.Sprintf("%s: history %d, store %d", c, wm[c], v))
		}
	}
	for _, c := range gn {
		if _, ok := wm[c]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: history none, store %d", c, gm[c]))
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	return strings.Join(diffs, "; ") + " (hundredths of a point)"
}
