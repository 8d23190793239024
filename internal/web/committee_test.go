package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// TestCommitteeTextsExist: every committee text a template or handler names is in both
// catalogs, so no page shows a bare code.
func TestCommitteeTextsExist(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	found := templateCodes(t, regexp.MustCompile(`"(committee\.[a-z_]+\.[a-z_0-9]+)"`))
	for _, c := range []string{"committee.sheet.not_utf8", "committee.sheet.no_header", "committee.sheet.unknown_application",
		"committee.sheet.bad_score", "committee.sheet.duplicate", "committee.sheet.category_missing", "committee.flash.recorded",
		"committee.error.stage_moved", "committee.error.note_required"} {
		found[c] = true
	}
	for c := range found {
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			if !p.text.Knows(c, l) {
				t.Errorf("%s: no text in %s", c, l)
			}
		}
	}
	// The enum texts the pages name through .Enum.
	for prefix, names := range map[string]map[string]int32{
		"committee.state": seleksiv1.ApplicationState_value, "committee.component": seleksiv1.ScoreComponent_value,
		"committee.category": seleksiv1.CompetencyCategory_value, "committee.requirement": seleksiv1.RequirementStatus_value,
		"committee.objection": seleksiv1.ObjectionState_value, "committee.tie_break": seleksiv1.TieBreakRule_value,
	} {
		for n := range names {
			for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
				if !p.text.Knows(prefix+"."+n, l) {
					t.Errorf("%s.%s: no text in %s", prefix, n, l)
				}
			}
		}
	}
}

func sheetApps() []*seleksiv1.Application {
	mk := func(id, name, nip string, state seleksiv1.ApplicationState) *seleksiv1.Application {
		return &seleksiv1.Application{Name: "selections/sel-1/applications/" + id, State: state, SubmitTime: timestamppb.Now(),
			Candidate: &seleksiv1.CandidateProfile{FullName: name, Nip: nip}}
	}
	in := seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS
	a := mk("app-a", "Calon A", "197505052000011001", in)
	a.StageResults = []*seleksiv1.ApplicationStageResult{{Stage: seleksiv1.Stage_STAGE_COMPETENCY_TEST,
		Scores: []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, Score: 70}}}}
	return []*seleksiv1.Application{a, mk("app-b", "Calon B", "197505052000011002", in),
		mk("app-c", "Calon C", "197505052000011003", seleksiv1.ApplicationState_APPLICATION_STATE_ELIMINATED)}
}

// TestParseScoreSheet: a sheet is read line by line; its changes show the current value and
// the new one, and every bad line is reported with its number.
func TestParseScoreSheet(t *testing.T) {
	sel := &seleksiv1.Selection{Stage: seleksiv1.Stage_STAGE_COMPETENCY_TEST}
	tt := func(code string, kv ...any) string {
		parts := []string{code}
		for _, v := range kv {
			parts = append(parts, strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(fmt.Sprint(v)), "\n", " "), "\t", " ")))
		}
		return strings.Join(parts, " ")
	}
	tests := []struct {
		name        string
		csv         string
		wantErrors  []string // "line code"
		wantChanges int
		wantResults int
	}{
		{"semicolons and decimal commas, NIP and ID", "lamaran;komponen;nilai\n197505052000011001;uji_kompetensi;82,5\napp-a;kategori;MS\n" +
			"app-b;Competency Test;90\napp-b;category;mms\n", nil, 4, 2},
		{"errors by line", "application,component,score\napp-x,competency_test,80\napp-c,competency_test,80\napp-a,interview,80\n" +
			"app-a,competency_test,101\napp-a,competency_test,abc\napp-a,kategori,XX\napp-b,paper,80\napp-b,paper,81\n",
			[]string{"2 committee.sheet.unknown_application", "3 committee.sheet.not_in_stage", "4 committee.sheet.unknown_component",
				"5 committee.sheet.bad_score", "6 committee.sheet.bad_score", "7 committee.sheet.bad_category", "9 committee.sheet.duplicate",
				"8 committee.sheet.category_missing"}, 1, 1},
		{"no header", "app-a,competency_test,80\n", []string{"1 committee.sheet.no_header"}, 0, 0},
		{"empty", "lamaran,komponen,nilai\n", []string{"2 committee.sheet.empty"}, 0, 0},
		{"not UTF-8", "lamaran,komponen,nilai\n\xff\xfe,x,y\n", []string{"1 committee.sheet.not_utf8"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh := parseScoreSheet([]byte(tc.csv), sel, sheetApps(), tt)
			var got []string
			for _, e := range sh.Errors {
				got = append(got, fmt.Sprint(e.Line)+" "+strings.Fields(e.Message)[0])
			}
			if strings.Join(got, "|") != strings.Join(tc.wantErrors, "|") {
				t.Errorf("errors = %q, want %q", got, tc.wantErrors)
			}
			if len(sh.Changes) != tc.wantChanges || len(sh.Results) != tc.wantResults {
				t.Errorf("%d changes, %d results; want %d, %d: %+v", len(sh.Changes), len(sh.Results), tc.wantChanges, tc.wantResults, sh.Changes)
			}
		})
	}
	sh := parseScoreSheet([]byte("lamaran;komponen;nilai\n197505052000011001;uji_kompetensi;82,5\napp-a;kategori;MS\n"), sel, sheetApps(), tt)
	if c := sh.Changes[0]; c.Current != "70.00" || c.New != "82.50" || c.App != "app-a" || c.Line != 2 {
		t.Errorf("change = %+v, want app-a 70.00 -> 82.50 on line 2", c)
	}
	r := sh.Results[0]
	if r.GetApplication() != "selections/sel-1/applications/app-a" || r.GetCompetencyCategory() != seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS ||
		len(r.GetScores()) != 1 || r.GetScores()[0].GetScore() != 82.5 || r.GetOutcome() != seleksiv1.Outcome_OUTCOME_NONE {
		t.Errorf("result = %v", r)
	}
}

// TestScoreSheetBatches: results go in batches of at most sheetBatch applications.
func TestScoreSheetBatches(t *testing.T) {
	var sh scoreSheet
	for range 2*sheetBatch + 1 {
		sh.Results = append(sh.Results, &seleksiv1.ApplicationResult{})
	}
	b := sh.Batches()
	if len(b) != 3 || len(b[0]) != sheetBatch || len(b[2]) != 1 {
		t.Errorf("batches of %d results: %d batches", len(sh.Results), len(b))
	}
}

// TestRankApplications: final score first, then the tie-break rule's components, then the
// earlier submission; the pass mark decides who may be proposed.
func TestRankApplications(t *testing.T) {
	early, late := timestamppb.New(timestamppb.Now().AsTime().Add(-1e9)), timestamppb.Now()
	mk := func(id string, final, comp, interview float64, at *timestamppb.Timestamp) *seleksiv1.Application {
		return &seleksiv1.Application{Name: "selections/s/applications/" + id, State: seleksiv1.ApplicationState_APPLICATION_STATE_IN_PROGRESS,
			FinalScore: final, SubmitTime: at, Candidate: &seleksiv1.CandidateProfile{FullName: id},
			StageResults: []*seleksiv1.ApplicationStageResult{
				{Stage: seleksiv1.Stage_STAGE_COMPETENCY_TEST, Scores: []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, Score: comp}}},
				{Stage: seleksiv1.Stage_STAGE_INTERVIEW, Scores: []*seleksiv1.ComponentScore{{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, Score: interview}}}}}
	}
	apps := []*seleksiv1.Application{mk("d", 60, 60, 60, early), mk("b", 80, 70, 90, late), mk("a", 80, 90, 70, late), mk("c", 80, 90, 70, early), mk("e", 50, 50, 50, early)}
	for _, tc := range []struct {
		rule seleksiv1.TieBreakRule
		want string
	}{
		{seleksiv1.TieBreakRule_TIE_BREAK_RULE_INTERVIEW_FIRST, "b c a d e"},
		{seleksiv1.TieBreakRule_TIE_BREAK_RULE_COMPETENCY_TEST_FIRST, "c a b d e"},
	} {
		sel := &seleksiv1.Selection{TieBreakRule: tc.rule, MinFinalScore: 55}
		var got []string
		for _, r := range rankApplications(sel, apps) {
			got = append(got, lastSegment(r.App.GetName()))
			if lastSegment(r.App.GetName()) == "e" && r.Qualifies {
				t.Errorf("e qualifies below the pass mark")
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: ranking %v, want %s", tc.rule, got, tc.want)
		}
	}
}
