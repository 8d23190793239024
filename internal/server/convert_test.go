package server

import (
	"strings"
	"testing"

	"buf.build/go/protovalidate"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// validSelection is a selection the API accepts: five members, two internal (40%).
func validSelection() *seleksiv1.Selection {
	member := func(id string, kind seleksiv1.MemberKind, role seleksiv1.CommitteeRole) *seleksiv1.CommitteeMember {
		return &seleksiv1.CommitteeMember{MemberId: id, DisplayName: "Anggota " + id, Kind: kind,
			PostLevel: seleksiv1.PostLevel_POST_LEVEL_JPT_PRATAMA, Role: role}
	}
	in, ex := seleksiv1.MemberKind_MEMBER_KIND_INTERNAL, seleksiv1.MemberKind_MEMBER_KIND_EXTERNAL
	return &seleksiv1.Selection{
		PositionTitle:        "Kepala Dinas Pekerjaan Umum dan Penataan Ruang",
		PositionUnit:         "Dinas PUPR",
		Agency:               "Pemerintah Kabupaten Contoh",
		TimeZone:             seleksiv1.TimeZone_TIME_ZONE_WITA,
		OversightApprovalRef: "B-1234/BKN/2026",
		Committee: []*seleksiv1.CommitteeMember{
			member("m1", ex, seleksiv1.CommitteeRole_COMMITTEE_ROLE_CHAIR),
			member("m2", in, seleksiv1.CommitteeRole_COMMITTEE_ROLE_SECRETARY),
			member("m3", in, seleksiv1.CommitteeRole_COMMITTEE_ROLE_MEMBER),
			member("m4", ex, seleksiv1.CommitteeRole_COMMITTEE_ROLE_MEMBER),
			member("m5", ex, seleksiv1.CommitteeRole_COMMITTEE_ROLE_MEMBER),
		},
		Requirements: &seleksiv1.Requirements{
			MinEducation: seleksiv1.EducationLevel_EDUCATION_LEVEL_BACHELOR, MinYearsExperience: 5,
			MinYearsAdministratorPost: 2, MaxAgeYears: 56,
			RequiredDocuments: []*seleksiv1.RequiredDocument{{Id: "lhkpn", Title: "LHKPN"}},
		},
		AnnouncementWorkingDays: 5, ExtensionWorkingDays: 3, MaxExtensions: 2, MinApplicants: 3,
		InsufficientApplicantsPolicy: seleksiv1.InsufficientApplicantsPolicy_INSUFFICIENT_APPLICANTS_POLICY_CONTINUE,
		ObjectionWindowWorkingDays:   3,
		ScoreWeights:                 &seleksiv1.ScoreWeights{WrittenTest: 15, CompetencyTest: 40, Paper: 10, Interview: 20, TrackRecord: 15},
		PassThresholds: []*seleksiv1.PassThreshold{
			{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, MinScore: 65.5},
		},
		MinCompetencyCategory: seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
		MinFinalScore:         70,
		TieBreakRule:          seleksiv1.TieBreakRule_TIE_BREAK_RULE_COMPETENCY_TEST_FIRST,
		PublishScores:         true,
	}
}

func TestSelectionInputFromAValidRequestIsAValidWorkflowInput(t *testing.T) {
	sel := validSelection()
	req := &seleksiv1.CreateSelectionRequest{RequestId: "req-00000001", SelectionId: "kadis-pupr-2026", Selection: sel}
	if err := protovalidate.Validate(req); err != nil {
		t.Fatalf("fixture is not a valid API request: %v", err)
	}
	in, violations, err := selectionInput("kadis-pupr-2026", sel)
	if err != nil || len(violations) > 0 {
		t.Fatalf("selectionInput: %v %v", err, violations)
	}
	if err := in.Validate(); err != nil {
		t.Fatalf("workflow refuses the converted input: %v", err)
	}
	if in.Position.Title != "Kepala Dinas Pekerjaan Umum dan Penataan Ruang, Dinas PUPR" || in.Calendar.Zone != calendar.WITA ||
		in.Requirements.MinExperienceMonths != 60 || in.Requirements.MinAdministratorMonths != 24 ||
		in.Thresholds.CompetencyMin != 6550 || in.Thresholds.FinalMin != 7000 || !in.Thresholds.AcceptStillMeets ||
		len(in.Weights) != 5 || in.Committee[0].Role != workflows.CommitteeChair || in.TieBreak != workflows.TieBreakCompetencyTestFirst {
		t.Errorf("converted input: %+v", in)
	}
}

func TestSelectionInputRejectsThresholdsTheWorkflowCannotApply(t *testing.T) {
	sel := validSelection()
	sel.PassThresholds = append(sel.PassThresholds, &seleksiv1.PassThreshold{Component: seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, MinScore: 60})
	_, violations, err := selectionInput("s-01", sel)
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) != 1 || violations[0].Field != "selection.pass_thresholds[1].component" {
		t.Fatalf("violations = %v", violations)
	}
}

func TestHolidayOverrides(t *testing.T) {
	sel := validSelection()
	sel.HolidayOverrides = []*seleksiv1.HolidayOverride{
		{Date: "2026-08-18", Description: "Cuti daerah"},
		{Date: "2026-12-24", WorkingDay: true},
		{Date: "2027-01-01", Description: "Tahun Baru 2027"},
	}
	in, violations, err := selectionInput("s-01", sel)
	if err != nil || len(violations) > 0 {
		t.Fatalf("selectionInput: %v %v", err, violations)
	}
	c := in.Calendar
	for _, tt := range []struct {
		date    string
		working bool
	}{
		{"2026-08-18", false}, // added day off
		{"2026-12-24", true},  // cuti bersama turned into a working day
		{"2026-12-25", false}, // shipped holiday untouched
		{"2027-01-01", false}, // supplied year
		{"2027-01-04", true},
	} {
		got, err := c.IsWorkingDay(calendar.MustDate(tt.date))
		if err != nil {
			t.Fatalf("%s: %v", tt.date, err)
		}
		if got != tt.working {
			t.Errorf("%s working = %v, want %v", tt.date, got, tt.working)
		}
	}
	if !c.Covers(2027) || c.Covers(2028) {
		t.Error("2027 is covered by the supplied days and 2028 by nothing")
	}
}

func TestSelectionIDFor(t *testing.T) {
	a := selectionIDFor(&seleksiv1.CreateSelectionRequest{RequestId: "req-00000001"})
	b := selectionIDFor(&seleksiv1.CreateSelectionRequest{RequestId: "req-00000001"})
	c := selectionIDFor(&seleksiv1.CreateSelectionRequest{RequestId: "req-00000002"})
	if a != b || a == c || !strings.HasPrefix(a, "sel-") || !workflows.ValidSelectionID(a) {
		t.Errorf("derived IDs %q %q %q", a, b, c)
	}
	if got := selectionIDFor(&seleksiv1.CreateSelectionRequest{RequestId: "r", SelectionId: "mine-01"}); got != "mine-01" {
		t.Errorf("chosen ID replaced: %q", got)
	}
}

func TestScoreConversion(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want workflows.Score
	}{{0, 0}, {100, 10000}, {65.5, 6550}, {72.345, 7235}, {72.344, 7234}, {33.335, 3334}} {
		if got := toScore(tt.in); got != tt.want {
			t.Errorf("toScore(%v) = %d, want %d", tt.in, got, tt.want)
		}
		if back := fromScore(tt.want); toScore(back) != tt.want {
			t.Errorf("round trip of %d via %v", tt.want, back)
		}
	}
}

// TestSelectionInputCarriesDeadlines: Selection.deadlines reaches the workflow's input field
// by field; an empty message leaves zeros, which the workflow reads as its defaults; values
// beyond the API's bounds are refused by validation before any input is built.
func TestSelectionInputCarriesDeadlines(t *testing.T) {
	tests := []struct {
		name  string
		d     *seleksiv1.Deadlines
		want  workflows.Deadlines
		valid bool
	}{
		{"empty", nil, workflows.Deadlines{}, true},
		{"set", &seleksiv1.Deadlines{ObjectionAnswerWorkingDays: 5, AppointmentDueWorkingDays: 20, ReminderLeadWorkingDays: 2},
			workflows.Deadlines{ObjectionAnswerDays: 5, AppointmentDueDays: 20, ReminderLeadDays: 2}, true},
		{"answer period too long", &seleksiv1.Deadlines{ObjectionAnswerWorkingDays: 31}, workflows.Deadlines{}, false},
		{"reminder lead too long", &seleksiv1.Deadlines{ReminderLeadWorkingDays: 6}, workflows.Deadlines{}, false},
	}
	v, err := protovalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := validSelection()
			sel.Deadlines = tt.d
			if err := v.Validate(sel); (err == nil) != tt.valid {
				t.Fatalf("validation: %v, want valid=%v", err, tt.valid)
			}
			if !tt.valid {
				return
			}
			in, violations, err := selectionInput("s-01", sel)
			if err != nil || len(violations) > 0 {
				t.Fatalf("%v, %v", violations, err)
			}
			if in.Deadlines != tt.want {
				t.Errorf("deadlines %+v, want %+v", in.Deadlines, tt.want)
			}
		})
	}
}
