// Package report builds the reports of issue 13 from what the store holds: the score recap
// of a stage (as rows, and as an XLSX workbook), the secretariat's dashboard of all
// selections, and the merit-compliance report that BKN asks for. Reports are computed from
// store facts (the selection, its applications, objections, published results and audit
// chain) with the workflow's own deadline arithmetic (workflows.Deadlines), so that they say
// what the workflow would have enforced without asking it. Findings are message codes with
// parameters; the API, the pages and the PDF render them.
package report

import (
	"context"
	"fmt"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Definition is what the reports need of a selection's definition, which the API layer
// decodes from the stored configuration (the store keeps it as JSON it does not read).
type Definition struct {
	Calendar  calendar.Calendar
	Windows   workflows.Windows
	Deadlines workflows.Deadlines
	// PositionLevel is the level of the post being filled; internal committee members must
	// hold at least this level.
	PositionLevel workflows.PostLevel
	// TimeScaled is true when the selection runs on a compressed clock (demos and tests).
	TimeScaled bool
}

// Reader is what the reports read from the store.
type Reader interface {
	GetSelection(ctx context.Context, id string) (store.Selection, error)
	ListApplications(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.Application], error)
	ListObjections(ctx context.Context, selectionID, applicationID string, opts store.ListOptions) (store.Page[store.Objection], error)
	ListStageResults(ctx context.Context, selectionID string) ([]store.StageResult, error)
	ListAuditEvents(ctx context.Context, selectionID string, opts store.ListOptions) (store.Page[store.AuditEvent], error)
	ActorSubjects(ctx context.Context, ids []string) (map[string]string, error)
}

// Facts are the store facts of one selection that the recap and the merit-compliance report
// are computed from.
type Facts struct {
	Selection    store.Selection
	Definition   Definition
	Applications []store.Application
	Objections   []store.Objection
	Results      []store.StageResult
	Events       []store.AuditEvent
}

// Load reads the facts of selection sel (as the caller read it) from r.
func Load(ctx context.Context, r Reader, sel store.Selection, def Definition) (Facts, error) {
	f := Facts{Selection: sel, Definition: def}
	var err error
	if f.Applications, err = all(ctx, func(o store.ListOptions) (store.Page[store.Application], error) {
		return r.ListApplications(ctx, sel.ID, o)
	}); err != nil {
		return Facts{}, fmt.Errorf("report: applications of %s: %w", sel.ID, err)
	}
	if f.Objections, err = all(ctx, func(o store.ListOptions) (store.Page[store.Objection], error) {
		return r.ListObjections(ctx, sel.ID, "", o)
	}); err != nil {
		return Facts{}, fmt.Errorf("report: objections of %s: %w", sel.ID, err)
	}
	if f.Results, err = r.ListStageResults(ctx, sel.ID); err != nil {
		return Facts{}, fmt.Errorf("report: results of %s: %w", sel.ID, err)
	}
	if f.Events, err = all(ctx, func(o store.ListOptions) (store.Page[store.AuditEvent], error) {
		return r.ListAuditEvents(ctx, sel.ID, o)
	}); err != nil {
		return Facts{}, fmt.Errorf("report: audit events of %s: %w", sel.ID, err)
	}
	// The committee is defined by token subjects, while events and conflicts name people by
	// actor ID: the reports compare them as subjects.
	var ids []string
	for _, e := range f.Events {
		ids = append(ids, e.ActorSubject)
	}
	for _, c := range f.Selection.Conflicts {
		ids = append(ids, c.MemberID)
	}
	who, err := r.ActorSubjects(ctx, ids)
	if err != nil {
		return Facts{}, fmt.Errorf("report: actors of %s: %w", sel.ID, err)
	}
	for i := range f.Events {
		if s, ok := who[f.Events[i].ActorSubject]; ok {
			f.Events[i].ActorSubject = s
		}
	}
	f.Selection.Conflicts = append([]store.Conflict(nil), f.Selection.Conflicts...)
	for i := range f.Selection.Conflicts {
		if s, ok := who[f.Selection.Conflicts[i].MemberID]; ok {
			f.Selection.Conflicts[i].MemberID = s
		}
	}
	return f, nil
}

// all reads every page of a list.
func all[T any](ctx context.Context, list func(store.ListOptions) (store.Page[T], error)) ([]T, error) {
	var out []T
	opts := store.ListOptions{PageSize: store.MaxPageSize}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := list(opts)
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

// Stages whose results are published, in the order a selection passes them.
var publishedStages = []string{
	string(workflows.StageAnnouncement), string(workflows.StageAdministrativeScreening), string(workflows.StageCompetencyTest),
	string(workflows.StageInterview), string(workflows.StageCommitteeDecision),
}

func stageIndex(stage string) int {
	for i, s := range publishedStages {
		if s == stage {
			return i
		}
	}
	return -1
}

// latestResult is the latest published revision of stage, or nil.
func (f *Facts) latestResult(stage string) *store.StageResult {
	var out *store.StageResult
	for i := range f.Results {
		r := &f.Results[i]
		if r.Stage == stage && (out == nil || r.Revision > out.Revision) {
			out = r
		}
	}
	return out
}

// lastDay is the last local day of a window that closes at closes (the end of that day).
func lastDay(cal calendar.Calendar, closes time.Time) (calendar.Date, error) {
	return cal.LocalDate(closes.Add(-time.Nanosecond))
}
