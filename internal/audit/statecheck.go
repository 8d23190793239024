package audit

import (
	"fmt"
	"strconv"

	"github.com/bkpsdm/seleksi/workflows"
)

// CheckState compares the state the replay rebuilt through the current workflow code with
// the rows the history's command records determine. The replayer checks that the code
// schedules the same activities, not that it hands them the same inputs, so a record whose
// content disagrees with what the code decided (the stage, an application's state, rank or
// final score, a published outcome and its reason, a revision, an objection and its answer,
// the appointment) is found here. Only what the state still holds is compared: the workflow drops
// the stage records of applications out of the running once their stage is settled, and
// the records remain the only source for those.
//
// Records the history shows applied after the last completed workflow task have not reached
// the state yet, so the rows are rebuilt up to that task.
func CheckState(st *workflows.SelectionState, facts HistoryFacts) []Finding {
	if st == nil || len(facts.Runs) == 0 {
		return nil
	}
	last := facts.Runs[len(facts.Runs)-1]
	rows := expectedProjection(facts, last.Index, last.LastTaskCompletedEventID, false)
	byID := make(map[string]map[string]string, len(rows))
	for _, r := range rows {
		byID[r.Table+"\x00"+r.Key] = r.Columns
	}
	var fs []Finding
	check := func(table, key, column, fromState string) {
		cols, ok := byID[table+"\x00"+key]
		switch {
		case !ok:
			fs = append(fs, Finding{Kind: KindStateMismatch, Table: table, Row: key, Column: column,
				Message: fmt.Sprintf("the replayed state has this row (%s %s), the history's records never wrote it", column, quote(fromState))})
		case cols[column] != fromState && cols[column] != notDetermined:
			fs = append(fs, Finding{Kind: KindStateMismatch, Table: table, Row: key, Column: column,
				Message: fmt.Sprintf("the replayed state gives %s, the history's records give %s", quote(fromState), quote(cols[column]))})
		}
	}
	sel := facts.SelectionID
	// The phase is left to the projection check: the workflow may hold phases of its own
	// (a selection waiting on an operator) that no record projects.
	check(tableSelections, sel, "stage", string(st.Stage))
	if st.Announcement.SnapshotDigest != "" {
		check(tableSelections, sel, "snapshot_digest", st.Announcement.SnapshotDigest)
	}
	if a := st.Appointment; a != nil {
		check(tableSelections, sel, "appointed_application", a.ApplicationID)
		check(tableSelections, sel, "oversight_recommendation_ref", a.OversightRecommendationRef)
		check(tableSelections, sel, "appointment_justification", a.Justification)
	}
	for _, a := range st.Applications {
		check(tableApplications, a.ID, "state", string(a.State))
		check(tableApplications, a.ID, "rank", strconv.Itoa(a.Rank))
		if a.Final != 0 {
			check(tableApplications, a.ID, "final_score", strconv.FormatInt(int64(a.Final), 10))
		}
		if a.State == workflows.AppEliminated || a.State == workflows.AppWithdrawn {
			check(tableApplications, a.ID, "eliminated_stage", string(a.EliminatedAt))
			check(tableApplications, a.ID, "elimination_reason", a.Reason)
		}
		for _, o := range a.Outcomes {
			key := a.ID + "/" + string(o.Stage)
			check(tableApplicationResults, key, "outcome", string(o.Outcome))
			check(tableApplicationResults, key, "reason", o.Reason)
		}
	}
	for _, p := range st.Publications {
		key := string(p.Stage) + "/" + strconv.Itoa(p.Revision)
		check(tableStageResults, key, "published_at", instantText(p.PublishedAt))
		check(tableStageResults, key, "objection_deadline", instantText(p.ObjectionDeadline))
		check(tableStageResults, key, "revision_reason", p.RevisionReason)
	}
	for _, o := range st.Objections {
		check(tableObjections, o.ID, "application_id", o.ApplicationID)
		check(tableObjections, o.ID, "state", string(o.State))
		check(tableObjections, o.ID, "reason", o.Reason)
		check(tableObjections, o.ID, "answer", o.Answer)
		check(tableObjections, o.ID, "answered_by", o.AnsweredBy)
		check(tableObjections, o.ID, "filed_at", instantText(o.FiledAt))
		check(tableObjections, o.ID, "answered_at", instantText(o.AnsweredAt))
	}
	return fs
}
