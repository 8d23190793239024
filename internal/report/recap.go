package report

import (
	"errors"
	"slices"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// ErrNotScoredStage is returned for a stage that has no score recap (the announcement).
var ErrNotScoredStage = errors.New("report: the stage has no scores to recap")

// Recap is the score recap of one stage: every application the stage scored or decided, with
// each score component, the interview score of each committee member (recusals shown), the
// stage's final score, the published outcome and the rank. It shows unpublished scores and is
// for the committee, the secretariat and auditors only.
type Recap struct {
	SelectionID   string
	PositionTitle string
	Agency        string
	Stage         string
	// Revision is the latest published revision of the stage's result; 0 while unpublished.
	Revision     int
	GenerateTime time.Time
	// Components are the score components with a column, in the API's order.
	Components []string
	// Members are the committee members with an interview column (interview stage only).
	Members []store.CommitteeMember
	Rows    []RecapRow
}

// RecapRow is one application's line of a recap. Scores are in hundredths of a point.
type RecapRow struct {
	ApplicationID string
	Candidate     string
	// Scores hold one cell per Recap.Components.
	Scores []Cell
	// Category is the assessment center's category (competency test).
	Category string
	// Members hold one cell per Recap.Members.
	Members []Cell
	Final   Cell
	Outcome string
	Rank    int
}

// Cell is one score cell: a score, empty, or (interview) the member's recusal.
type Cell struct {
	Score   int64
	Set     bool
	Recused bool
}

var componentOrder = []string{
	string(workflows.ComponentWrittenTest), string(workflows.ComponentCompetencyTest), string(workflows.ComponentPaper),
	string(workflows.ComponentInterview), string(workflows.ComponentTrackRecord),
}

// ScoreRecap builds the recap of stage from f at now.
func ScoreRecap(f Facts, stage string, now time.Time) (Recap, error) {
	if stage == string(workflows.StageAnnouncement) || stageIndex(stage) < 0 {
		return Recap{}, ErrNotScoredStage
	}
	r := Recap{SelectionID: f.Selection.ID, PositionTitle: f.Selection.PositionTitle, Agency: f.Selection.Agency,
		Stage: stage, GenerateTime: now.UTC()}
	latest := f.latestResult(stage)
	if latest != nil {
		r.Revision = latest.Revision
	}
	decision := stage == string(workflows.StageCommitteeDecision)
	interview := stage == string(workflows.StageInterview)
	if interview {
		r.Members = f.Selection.Committee
	}
	recused := map[[2]string]bool{}
	for _, c := range f.Selection.Conflicts {
		recused[[2]string{c.MemberID, c.ApplicationID}] = true
	}

	// The latest recorded value of each (application, component), and of each member's
	// interview score, in chain order: a correction replaces what it corrects.
	scores := map[string]map[string]int64{}
	memberScores := map[[2]string]int64{}
	categories := map[string]string{}
	seen := map[string]bool{}
	for _, e := range f.Events {
		st, lines := scoredApplications(e)
		if st != stage && !decision {
			continue
		}
		for _, l := range lines {
			if st == string(workflows.StageInterview) && e.Action == workflows.CmdRecordResults {
				if len(l.Scores) == 1 {
					memberScores[[2]string{e.ActorSubject, l.ApplicationID}] = int64(l.Scores[0].Score)
				}
				if st == stage {
					seen[l.ApplicationID] = true
				}
				continue
			}
			if st == stage {
				seen[l.ApplicationID] = true
			}
			if scores[l.ApplicationID] == nil {
				scores[l.ApplicationID] = map[string]int64{}
			}
			for _, s := range l.Scores {
				scores[l.ApplicationID][string(s.Component)] = int64(s.Score)
			}
			if l.Category != "" {
				categories[l.ApplicationID] = l.Category
			}
		}
	}
	// The interview score is the mean of the scores of members not recused, rounded half up
	// to hundredths, as the workflow computes it.
	interviewMean := func(app string) (int64, bool) {
		var sum, n int64
		for _, m := range f.Selection.Committee {
			if v, ok := memberScores[[2]string{m.MemberID, app}]; ok && !recused[[2]string{m.MemberID, app}] {
				sum += v
				n++
			}
		}
		if n == 0 {
			return 0, false
		}
		return (sum + n/2) / n, true
	}

	used := map[string]bool{}
	for app, cs := range scores {
		if decision || seen[app] {
			for c := range cs {
				used[c] = true
			}
		}
	}
	if decision {
		used[string(workflows.ComponentInterview)] = len(memberScores) > 0 || used[string(workflows.ComponentInterview)]
	}
	for _, c := range componentOrder {
		if used[c] && !(interview && c == string(workflows.ComponentInterview)) {
			r.Components = append(r.Components, c)
		}
	}

	entries := map[string]store.ResultEntry{}
	var order []string
	if latest != nil {
		for _, e := range latest.Entries {
			entries[e.ApplicationID] = e
			order = append(order, e.ApplicationID)
		}
	}
	apps := map[string]store.Application{}
	var rest []string
	for _, a := range f.Applications {
		apps[a.ID] = a
		if _, ok := entries[a.ID]; !ok && (seen[a.ID] || decision && a.FinalScore != 0) {
			rest = append(rest, a.ID)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)

	for _, id := range order {
		a := apps[id]
		e := entries[id]
		row := RecapRow{ApplicationID: id, Candidate: a.Candidate.FullName, Category: categories[id], Outcome: e.Outcome, Rank: e.Rank}
		for _, c := range r.Components {
			v, ok := scores[id][c]
			if c == string(workflows.ComponentInterview) {
				v, ok = interviewMean(id)
			}
			row.Scores = append(row.Scores, Cell{Score: v, Set: ok})
		}
		for _, m := range r.Members {
			k := [2]string{m.MemberID, id}
			v, ok := memberScores[k]
			row.Members = append(row.Members, Cell{Score: v, Set: ok && !recused[k], Recused: recused[k]})
		}
		switch {
		case e.FinalScore != 0:
			row.Final = Cell{Score: e.FinalScore, Set: true}
		case interview:
			v, ok := interviewMean(id)
			row.Final = Cell{Score: v, Set: ok}
		case decision && a.FinalScore != 0:
			row.Final = Cell{Score: a.FinalScore, Set: true}
		}
		if decision && row.Rank == 0 {
			row.Rank = a.Rank
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}
