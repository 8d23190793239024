package workflows

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

func TestValidateInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(*SelectionInput)
		codes  []string
	}{
		{"valid", func(*SelectionInput) {}, nil},
		{"committee of four", func(in *SelectionInput) { in.Committee = in.Committee[:4] }, []string{"input.committee_size", "input.committee_internal_share", "input.committee_external_share"}},
		{"committee of six", func(in *SelectionInput) {
			in.Committee = append(in.Committee, Member{Subject: "m6", Name: "Enam", Kind: MemberExternal, Role: CommitteeMember})
		}, []string{"input.committee_size"}},
		{"internal share over 45%", func(in *SelectionInput) {
			in.Committee[2].Kind, in.Committee[2].PostLevel = MemberInternal, PostJPTPratama
		}, []string{"input.committee_internal_share", "input.committee_external_share"}},
		{"internal member below the post", func(in *SelectionInput) { in.Committee[3].PostLevel = PostAdministrator }, []string{"input.committee_internal_level"}},
		{"two chairs", func(in *SelectionInput) { in.Committee[2].Role = CommitteeChair }, []string{"input.committee_chair"}},
		{"two secretaries", func(in *SelectionInput) { in.Committee[2].Role = CommitteeSecretary }, []string{"input.committee_secretary"}},
		{"member twice", func(in *SelectionInput) { in.Committee[4].Subject = in.Committee[2].Subject }, []string{"input.committee_duplicate"}},
		{"member without kind", func(in *SelectionInput) { in.Committee[4].Kind = "" }, []string{"input.committee_kind", "input.committee_external_share"}},
		// The API starts the workflow without members' names (they are personal data).
		{"committee without names", func(in *SelectionInput) {
			for i := range in.Committee {
				in.Committee[i].Name = ""
			}
		}, nil},
		{"a blank name", func(in *SelectionInput) { in.Committee[1].Name = "  " }, []string{"input.committee_member"}},
		{"no subject", func(in *SelectionInput) { in.Committee[1].Subject = "" }, []string{"input.committee_member"}},
		{"weights sum to 90", func(in *SelectionInput) { in.Weights[0].Percent = 5 }, []string{"input.weight_sum"}},
		{"weight twice", func(in *SelectionInput) { in.Weights[1].Component = ComponentWrittenTest }, []string{"input.weight_duplicate"}},
		{"weight zero", func(in *SelectionInput) { in.Weights = append(in.Weights, Weight{ComponentPaper, 0}) }, []string{"input.weight_duplicate", "input.weight_range"}},
		{"threshold over 100", func(in *SelectionInput) { in.Thresholds.FinalMin = 10001 }, []string{"input.threshold"}},
		{"education below S1", func(in *SelectionInput) { in.Requirements.MinEducation = EducationDiploma3 }, []string{"input.min_education"}},
		{"experience below the law", func(in *SelectionInput) { in.Requirements.MinExperienceMonths = 36 }, []string{"input.min_experience"}},
		{"administrator time below the law", func(in *SelectionInput) { in.Requirements.MinAdministratorMonths = 12 }, []string{"input.min_administrator"}},
		{"age above the law", func(in *SelectionInput) { in.Requirements.MaxAge = 58 }, []string{"input.max_age"}},
		{"document listed twice", func(in *SelectionInput) { in.Requirements.RequiredDocuments = []string{"LHKPN", "LHKPN"} }, []string{"input.required_documents"}},
		{"announcement of zero days", func(in *SelectionInput) { in.Windows.AnnouncementDays = 0 }, []string{"input.announcement_days"}},
		{"extension of zero days", func(in *SelectionInput) { in.Windows.ExtensionDays = 0 }, []string{"input.extension_days"}},
		{"four extensions", func(in *SelectionInput) { in.Windows.MaxExtensions = 4 }, []string{"input.max_extensions"}},
		{"no objection window", func(in *SelectionInput) { in.Windows.ObjectionDays = 0 }, []string{"input.objection_days"}},
		{"no minimum applicants", func(in *SelectionInput) { in.Windows.MinApplicants = 0 }, []string{"input.min_applicants"}},
		{"no policy", func(in *SelectionInput) { in.Windows.WhenTooFew = "" }, []string{"input.when_too_few"}},
		{"no tie-break", func(in *SelectionInput) { in.TieBreak = "" }, []string{"input.tie_break"}},
		{"time scale of a day", func(in *SelectionInput) { in.TimeScale.SecondsPerDay = 86400 }, []string{"input.time_scale"}},
		{"selection ID with capitals", func(in *SelectionInput) { in.SelectionID = "Dinkes-2026" }, []string{"input.selection_id"}},
		{"no oversight approval", func(in *SelectionInput) { in.OversightApprovalRef = " " }, []string{"input.oversight_approval"}},
		{"administrator post", func(in *SelectionInput) { in.Position.Level = PostAdministrator }, []string{"input.position_level"}},
		{"no calendar", func(in *SelectionInput) { in.Calendar = calendar.Calendar{} }, []string{"calendar.unknown_zone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := testInput(t)
			tt.change(&in)
			err := in.Validate()
			var got []string
			for _, p := range ProblemsOf(err) {
				got = append(got, p.Code)
				// A catalog code is rendered at the edges (internal/i18n tests each one); a
				// calendar problem still carries both texts.
				if p.EN == "" && !strings.Contains(p.Code, ".") || p.EN != "" && (p.ID == "" || p.EN == p.ID) {
					t.Errorf("problem %s lacks a message in both languages: %+v", p.Code, p)
				}
			}
			if !reflect.DeepEqual(got, tt.codes) {
				t.Errorf("problems %v, want %v (%v)", got, tt.codes, err)
			}
		})
	}
}

func TestCommitteeSharesAtEverySize(t *testing.T) {
	// The largest internal share allowed: 2 of 5, 3 of 7, 4 of 9.
	for _, tt := range []struct{ size, internal int }{{5, 2}, {7, 3}, {9, 4}} {
		for internal := tt.internal; internal <= tt.internal+1; internal++ {
			var ms []Member
			for i := range tt.size {
				m := Member{Subject: string(rune('a' + i)), Name: "n", Kind: MemberExternal, Role: CommitteeMember}
				if i == 0 {
					m.Role = CommitteeChair
				}
				if i < internal {
					m.Kind, m.PostLevel = MemberInternal, PostJPTPratama
				}
				ms = append(ms, m)
			}
			ps := validateCommittee(ms, PostJPTPratama)
			if ok := len(ps) == 0; ok != (internal == tt.internal) {
				t.Errorf("%d internal of %d: problems %v", internal, tt.size, ps)
			}
		}
	}
}

func TestWorkflowID(t *testing.T) {
	id := WorkflowID("dinkes-2026-01")
	if got, ok := SelectionIDFromWorkflowID(id); !ok || got != "dinkes-2026-01" {
		t.Errorf("round trip of %q: %q, %v", id, got, ok)
	}
	for _, bad := range []string{"ab", "-abc", "Abc", "abc_d", "budi@example.go.id", ""} {
		if ValidSelectionID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEligibility(t *testing.T) {
	r := testInput(t).Requirements
	ok := eligibleApp(1, time.Time{}).Facts
	tests := []struct {
		name   string
		change func(*EligibilityFacts)
		status EligibilityStatus
		codes  []string
	}{
		{"eligible", func(*EligibilityFacts) {}, Eligible, nil},
		{"D-IV equals S1", func(f *EligibilityFacts) { f.Education = EducationDiploma4 }, Eligible, nil},
		{"D-III", func(f *EligibilityFacts) { f.Education = EducationDiploma3 }, Ineligible, []string{CodeEligEducation}},
		{"four years of experience", func(f *EligibilityFacts) { f.ExperienceMonths = months(48) }, Ineligible, []string{CodeEligExperience}},
		{"one year as administrator", func(f *EligibilityFacts) { f.AdministratorMonths = months(12) }, Ineligible, []string{CodeEligAdministrator}},
		{"56 is allowed", func(f *EligibilityFacts) { f.AgeAtClose = 56 }, Eligible, nil},
		{"57", func(f *EligibilityFacts) { f.AgeAtClose = 57 }, Ineligible, []string{CodeEligAge}},
		{"missing document", func(f *EligibilityFacts) { f.Documents = []string{"LHKPN"} }, Ineligible, []string{CodeEligDocuments}},
		{"unknown facts", func(f *EligibilityFacts) { *f = EligibilityFacts{} }, NeedsReview,
			[]string{CodeEligEducationUnknown, CodeEligExperienceUnknown, CodeEligAdministratorUnknown, CodeEligAgeUnknown, CodeEligDocumentsUnknown}},
		{"failure and unknown", func(f *EligibilityFacts) { f.AgeAtClose = 60; f.ExperienceMonths = nil }, Ineligible, []string{CodeEligAge, CodeEligExperienceUnknown}},
	}
	for _, tt := range tests {
		f := ok.clone()
		tt.change(&f)
		e := checkEligibility(r, f)
		var codes []string
		for _, m := range e.Findings {
			codes = append(codes, m.Code)
		}
		if e.Status != tt.status || !reflect.DeepEqual(codes, tt.codes) {
			t.Errorf("%s: %s %v, want %s %v", tt.name, e.Status, codes, tt.status, tt.codes)
		}
	}
}

// TestCloneIsDeep fills every reference field of the state and checks that changing the clone
// leaves the original alone; it fails when a new field is forgotten in clone.
func TestCloneIsDeep(t *testing.T) {
	corr := &ResultInput{Scores: []ComponentScore{{ComponentPaper, 1}}, Items: []ItemVerdict{{Item: "age"}}}
	fix := func() *Message { m := code("c", "k", "v").with(code("d", "k", "v")); return &m }
	st := &SelectionState{
		Applications: []Application{{
			ID: "a", Facts: EligibilityFacts{ExperienceMonths: months(1), AdministratorMonths: months(1), Documents: []string{"x"}},
			Eligibility: &Eligibility{Findings: []Message{*fix()}}, ReasonMessage: fix(), Screening: &Verdict{}, Competency: &CompetencyRecord{Scores: []ComponentScore{{}}},
			Interview: []MemberScore{{}}, Outcomes: []StageOutcome{{ReasonMessage: fix()}},
			Checklist: []ChecklistItem{{Item: "age", Finding: fix()}}, Decided: []DecidedItem{{Item: "age"}},
		}},
		Recusals: []Recusal{{}}, Publications: []Publication{{RevisionMessage: fix()}}, Objections: []Objection{{Correction: corr, Items: []string{"age"}, ItemAnswers: []ItemAnswer{{Item: "age"}}}}, Answers: []UpdateAnswer{{}},
		Holidays: []calendar.Year{{Year: 2027, Days: []calendar.Holiday{{NameEN: "x"}}}},
		Decision: &Decision{Shortlist: []ShortlistEntry{{}}}, Appointment: &Appointment{}, Cancellation: &Cancellation{ReasonMessage: fix()},
		Blocked: &Blocked{Problems: []Message{*fix()}}, WindowsReminded: []Stage{StageInterview},
	}
	orig := st.clone()
	c := st.clone()
	a := &c.Applications[0]
	*a.Facts.ExperienceMonths, *a.Facts.AdministratorMonths, a.Facts.Documents[0] = 9, 9, "y"
	a.Eligibility.Findings[0].Code, a.Screening.Reason, a.Competency.Scores[0].Score = "z", "z", 9
	a.Interview[0].Score, a.Outcomes[0].Reason = 9, "z"
	a.Eligibility.Findings[0].Params[0].Value, a.Eligibility.Findings[0].Detail.Params[0].Value = "z", "z"
	a.ReasonMessage.Params[0].Value, a.Outcomes[0].ReasonMessage.Detail.Params[0].Value = "z", "z"
	c.Publications[0].RevisionMessage.Params[0].Value, c.Cancellation.ReasonMessage.Detail.Params[0].Value = "z", "z"
	c.Recusals[0].Reason, c.Publications[0].Revision, c.Objections[0].Correction.Scores[0].Score = "z", 9, 9
	c.Decision.Shortlist[0].Rank, c.Appointment.Rank, c.Cancellation.Reason = 9, 9, "z"
	c.Blocked.Attempts, c.Blocked.Problems[0].Params[0].Value = 9, "z"
	c.Holidays[0].Days[0].NameEN = "z"
	c.Answers[0].Key = "z"
	c.WindowsReminded[0] = StageCompetencyTest
	a.Checklist[0].Note, a.Checklist[0].Finding.Params[0].Value, a.Checklist[0].Finding.Detail.Params[0].Value = "z", "z", "z"
	a.Decided[0].Note = "z"
	c.Objections[0].Items[0], c.Objections[0].ItemAnswers[0].Answer, c.Objections[0].Correction.Items[0].Note = "z", "z", "z"
	if !reflect.DeepEqual(st, orig) {
		t.Error("changing the clone changed the original")
	}
	// Walk every field by reflection to catch a pointer, slice or map the fixture missed.
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer:
			// A message's detail is a message: the fixture fills one level of it.
			nested := v.Type() == reflect.TypeOf(&Message{}) && strings.HasSuffix(path, ".Detail")
			if v.IsNil() && v.Type().Elem().Kind() == reflect.Struct && path != "" && !nested {
				t.Errorf("fixture leaves %s nil; set it so clone is checked", path)
			}
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("fixture leaves %s empty; fill it so clone is checked", path)
			}
			for i := range v.Len() {
				walk(v.Index(i), path)
			}
		case reflect.Map:
			t.Errorf("%s is a map: state must not hold maps (iteration order)", path)
		}
	}
	walk(reflect.ValueOf(st), "")
}
