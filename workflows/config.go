package workflows

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Position is the post being filled.
type Position struct {
	Title  string    `json:"title"`
	Agency string    `json:"agency"`
	Level  PostLevel `json:"level"`
}

// Member is one member of the selection committee (pansel).
type Member struct {
	// Subject identifies the member; commands are matched against it. The API gives the
	// member's actor ID, the opaque ID it records people by, and not the token's subject
	// (histories recorded before actor IDs hold the subject).
	Subject string `json:"subject"`
	// Name is the member's name, which only validation messages use. The API checks the
	// definition with names and starts the workflow without them, so that no name enters
	// the history (histories recorded before hold names).
	Name string        `json:"name,omitempty"`
	Kind MemberKind    `json:"kind"`
	Role CommitteeRole `json:"role"`
	// PostLevel is the member's own civil-service post; internal members must hold a post at
	// least equal to the one being filled.
	PostLevel PostLevel `json:"postLevel,omitempty"`
}

// Requirements are the eligibility rules checked at administrative screening. The legal
// minimum (PP 11/2017 as amended by PP 17/2020) is S1/D-IV, five years of experience in the
// field, two years as administrator or ahli madya, and at most 56 years old; an agency may be
// stricter, never looser.
type Requirements struct {
	MinEducation        EducationLevel `json:"minEducation"`
	MinExperienceMonths int            `json:"minExperienceMonths"`
	// MinAdministratorMonths is time in an administrator (former echelon III) or functional
	// ahli madya post.
	MinAdministratorMonths int `json:"minAdministratorMonths"`
	// MaxAge is the highest age, in full years at the announcement close, still admitted.
	MaxAge int `json:"maxAge"`
	// RequiredDocuments are document kinds every application must include, such as
	// "LHKPN" or "SURAT_SEHAT"; the store reports which kinds each application has.
	RequiredDocuments []string `json:"requiredDocuments,omitempty"`
	// AdditionalItems are the agency's own requirements, items of the screening checklist
	// that the committee decides (see checklist.go).
	AdditionalItems []RequirementItem `json:"additionalItems,omitempty"`
}

// Legal minima, which a selection may tighten but not relax.
const (
	LegalMinExperienceMonths    = 60
	LegalMinAdministratorMonths = 24
	LegalMaxAge                 = 56
)

// Windows are the stage windows, all counted in working days of the agency's calendar.
type Windows struct {
	AnnouncementDays int `json:"announcementDays"`
	// ExtensionDays is how long each extension of the announcement lasts.
	ExtensionDays int `json:"extensionDays"`
	MaxExtensions int `json:"maxExtensions"`
	// MinApplicants is the fewest applications with which the selection goes ahead without
	// extending the announcement.
	MinApplicants int                          `json:"minApplicants"`
	WhenTooFew    InsufficientApplicantsPolicy `json:"whenTooFew"`
	// ObjectionDays is the objection (sanggah) window after each published stage result.
	ObjectionDays int `json:"objectionDays"`
}

// Weight is the share of one component in the final score, in whole percent.
type Weight struct {
	Component ScoreComponent `json:"component"`
	Percent   int            `json:"percent"`
}

// Thresholds are the pass marks. A zero threshold does not eliminate anyone.
type Thresholds struct {
	// CompetencyMin is the lowest assessment-center score (the COMPETENCY_TEST component)
	// that passes.
	CompetencyMin Score `json:"competencyMin"`
	// AcceptStillMeets lets the "still meets" (MMS) category pass; "does not meet" never passes.
	AcceptStillMeets bool  `json:"acceptStillMeets"`
	InterviewMin     Score `json:"interviewMin"`
	// FinalMin is the lowest weighted final score with which a candidate can be shortlisted.
	FinalMin Score `json:"finalMin"`
}

// TimeScale compresses calendar time for demonstrations and tests: one day of the selection
// lasts SecondsPerDay seconds. Zero means real time. The scale is recorded in the state so that
// every view can show it.
type TimeScale struct {
	SecondsPerDay int64 `json:"secondsPerDay,omitempty"`
}

// InputError lists every problem found in a selection's input.
type InputError struct {
	Problems []Message
}

func (e *InputError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid selection: " + strings.Join(parts, "; ")
}

// Validate checks the input of a new selection and returns an *InputError with every problem
// found, so that a committee can fix them all at once. The API calls it before starting the
// workflow; the workflow calls it again and refuses to start on any problem.
func (in SelectionInput) Validate() error {
	var ps []Message
	add := func(m Message) { ps = append(ps, m) }

	if !ValidSelectionID(in.SelectionID) {
		add(code("input.selection_id", "id", in.SelectionID))
	}
	if strings.TrimSpace(in.Position.Title) == "" || strings.TrimSpace(in.Position.Agency) == "" {
		add(code("input.position"))
	}
	if in.Position.Level.rank() < PostJPTPratama.rank() {
		add(code("input.position_level"))
	}
	if strings.TrimSpace(in.OversightApprovalRef) == "" {
		add(code("input.oversight_approval"))
	}
	if err := in.Calendar.Validate(); err != nil {
		add(calendarMessage(err))
	}
	ps = append(ps, validateCommittee(in.Committee, in.Position.Level)...)
	ps = append(ps, validateRequirements(in.Requirements)...)
	ps = append(ps, validateWindows(in.Windows)...)
	ps = append(ps, validateWeights(in.Weights)...)
	ps = append(ps, validateThresholds(in.Thresholds)...)
	switch in.TieBreak {
	case TieBreakWeightOrder, TieBreakCompetencyTestFirst, TieBreakInterviewFirst:
	default:
		add(code("input.tie_break"))
	}
	if s := in.TimeScale.SecondsPerDay; s < 0 || s >= 86400 {
		add(code("input.time_scale"))
	}
	if len(ps) > 0 {
		return &InputError{Problems: ps}
	}
	return nil
}

func validateCommittee(members []Member, level PostLevel) []Message {
	var ps []Message
	add := func(m Message) { ps = append(ps, m) }
	n := len(members)
	if n < 5 || n > 9 || n%2 == 0 {
		add(code("input.committee_size", "count", strconv.Itoa(n)))
	}
	var internal, external, chairs, secretaries int
	for i, m := range members {
		// A name may be absent (the workflow's input carries none) but not blank.
		if strings.TrimSpace(m.Subject) == "" || m.Name != "" && strings.TrimSpace(m.Name) == "" {
			add(code("input.committee_member", "number", strconv.Itoa(i+1)))
		}
		name := m.Name
		if name == "" {
			name = "#" + strconv.Itoa(i+1)
		}
		if slices.ContainsFunc(members[:i], func(o Member) bool { return o.Subject == m.Subject }) {
			add(code("input.committee_duplicate", "subject", m.Subject))
		}
		switch m.Kind {
		case MemberInternal:
			internal++
			if m.PostLevel.rank() < level.rank() {
				add(code("input.committee_internal_level", "name", name))
			}
		case MemberExternal:
			external++
		default:
			add(code("input.committee_kind", "name", name))
		}
		switch m.Role {
		case CommitteeChair:
			chairs++
		case CommitteeSecretary:
			secretaries++
		case CommitteeMember:
		default:
			add(code("input.committee_role", "name", name))
		}
	}
	if n > 0 {
		// Compare in whole numbers: internal/n <= 45% and external/n >= 55%.
		if internal*100 > 45*n {
			add(code("input.committee_internal_share", "internal", strconv.Itoa(internal), "count", strconv.Itoa(n), "percent", strconv.Itoa(internal*100/n)))
		}
		if external*100 < 55*n {
			add(code("input.committee_external_share", "external", strconv.Itoa(external), "count", strconv.Itoa(n), "percent", strconv.Itoa(external*100/n)))
		}
	}
	if chairs != 1 {
		add(code("input.committee_chair", "count", strconv.Itoa(chairs)))
	}
	if secretaries > 1 {
		add(code("input.committee_secretary", "count", strconv.Itoa(secretaries)))
	}
	return ps
}

func validateRequirements(r Requirements) []Message {
	var ps []Message
	if r.MinEducation.rank() < EducationDiploma4.rank() {
		ps = append(ps, code("input.min_education"))
	}
	if r.MinExperienceMonths < LegalMinExperienceMonths {
		ps = append(ps, code("input.min_experience", "months", strconv.Itoa(LegalMinExperienceMonths)))
	}
	if r.MinAdministratorMonths < LegalMinAdministratorMonths {
		ps = append(ps, code("input.min_administrator", "months", strconv.Itoa(LegalMinAdministratorMonths)))
	}
	if r.MaxAge < 30 || r.MaxAge > LegalMaxAge {
		ps = append(ps, code("input.max_age", "max", strconv.Itoa(LegalMaxAge)))
	}
	for i, d := range r.RequiredDocuments {
		if strings.TrimSpace(d) == "" || slices.Contains(r.RequiredDocuments[:i], d) {
			ps = append(ps, code("input.required_documents", "number", strconv.Itoa(i+1)))
		}
	}
	return append(ps, validateAdditionalItems(r.AdditionalItems)...)
}

func validateWindows(w Windows) []Message {
	var ps []Message
	add := func(m Message) { ps = append(ps, m) }
	if w.AnnouncementDays < 1 || w.AnnouncementDays > 60 {
		add(code("input.announcement_days", "days", strconv.Itoa(w.AnnouncementDays)))
	}
	if w.MaxExtensions < 0 || w.MaxExtensions > 3 {
		add(code("input.max_extensions", "count", strconv.Itoa(w.MaxExtensions)))
	}
	if w.MaxExtensions > 0 && (w.ExtensionDays < 1 || w.ExtensionDays > 30) {
		add(code("input.extension_days", "days", strconv.Itoa(w.ExtensionDays)))
	}
	if w.MinApplicants < 1 || w.MinApplicants > 20 {
		add(code("input.min_applicants", "count", strconv.Itoa(w.MinApplicants)))
	}
	if w.WhenTooFew != PolicyContinue && w.WhenTooFew != PolicyPostpone {
		add(code("input.when_too_few"))
	}
	if w.ObjectionDays < 1 || w.ObjectionDays > 14 {
		add(code("input.objection_days", "days", strconv.Itoa(w.ObjectionDays)))
	}
	return ps
}

func validateWeights(ws []Weight) []Message {
	var ps []Message
	sum := 0
	for i, w := range ws {
		if w.Component.order() == 0 {
			ps = append(ps, code("input.weight_component", "number", strconv.Itoa(i+1), "component", string(w.Component)))
		}
		if slices.ContainsFunc(ws[:i], func(o Weight) bool { return o.Component == w.Component }) {
			ps = append(ps, code("input.weight_duplicate", "component", string(w.Component)))
		}
		if w.Percent < 1 || w.Percent > 100 {
			ps = append(ps, code("input.weight_range", "component", string(w.Component), "percent", strconv.Itoa(w.Percent)))
		}
		sum += w.Percent
	}
	if sum != 100 {
		ps = append(ps, code("input.weight_sum", "percent", strconv.Itoa(sum)))
	}
	return ps
}

func validateThresholds(t Thresholds) []Message {
	var ps []Message
	for _, th := range []struct {
		name string
		v    Score
	}{{string(ComponentCompetencyTest), t.CompetencyMin}, {string(ComponentInterview), t.InterviewMin}, {"FINAL_SCORE", t.FinalMin}} {
		if th.v < 0 || th.v > MaxScore {
			ps = append(ps, code("input.threshold", "component", th.name))
		}
	}
	return ps
}

// calendarMessage turns a calendar error into a bilingual message.
func calendarMessage(err error) Message {
	var ce *calendar.Error
	if errors.As(err, &ce) {
		if ce.Key != "" {
			return code(ce.Key, ce.Args...)
		}
		return Message{Code: ce.Code, EN: ce.EN, ID: ce.ID}
	}
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return code(CodeRejectYearNotCovered, "year", strconv.Itoa(ync.Year))
	}
	return Message{Code: "Calendar", EN: err.Error(), ID: err.Error()}
}
