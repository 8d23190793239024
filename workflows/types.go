package workflows

import "time"

// The enumerations below use the names of the API's proto enums as their values, so that the
// server maps them with the generated name tables and histories stay readable.

// Stage is where a selection stands.
type Stage string

// Stages in the order a selection runs through them.
const (
	// StageScheduled comes before the announcement of a selection announced ahead of time.
	StageScheduled               Stage = "STAGE_SCHEDULED"
	StageAnnouncement            Stage = "STAGE_ANNOUNCEMENT"
	StageAdministrativeScreening Stage = "STAGE_ADMINISTRATIVE_SCREENING"
	StageCompetencyTest          Stage = "STAGE_COMPETENCY_TEST"
	StageInterview               Stage = "STAGE_INTERVIEW"
	StageCommitteeDecision       Stage = "STAGE_COMMITTEE_DECISION"
	StageClosed                  Stage = "STAGE_CLOSED"
	StageCancelled               Stage = "STAGE_CANCELLED"
)

// Terminal reports whether the selection has ended.
func (s Stage) Terminal() bool { return s == StageClosed || s == StageCancelled }

// next is the stage that opens when s has published its result and its objections are
// settled. The committee decision is followed by the appointment within the same stage.
func (s Stage) next() Stage {
	switch s {
	case StageAnnouncement:
		return StageAdministrativeScreening
	case StageAdministrativeScreening:
		return StageCompetencyTest
	case StageCompetencyTest:
		return StageInterview
	case StageInterview:
		return StageCommitteeDecision
	}
	return s
}

// Phase is where the current stage stands.
type Phase string

// Phases of a stage.
const (
	// PhaseOpen: the stage accepts results (or, for the announcement, applications).
	PhaseOpen Phase = "OPEN"
	// PhaseObjections: the stage result is published; objections may be filed until the
	// deadline, and the next stage opens when the deadline has passed and every objection
	// is answered.
	PhaseObjections Phase = "OBJECTIONS"
	// PhaseAppointment: the shortlist is final and waits for the appointing official (PPK).
	PhaseAppointment Phase = "APPOINTMENT"
)

// ApplicationState is where one application stands.
type ApplicationState string

// Application states.
const (
	AppSubmitted   ApplicationState = "APPLICATION_STATE_SUBMITTED"
	AppInProgress  ApplicationState = "APPLICATION_STATE_IN_PROGRESS"
	AppEliminated  ApplicationState = "APPLICATION_STATE_ELIMINATED"
	AppWithdrawn   ApplicationState = "APPLICATION_STATE_WITHDRAWN"
	AppShortlisted ApplicationState = "APPLICATION_STATE_SHORTLISTED"
	AppAppointed   ApplicationState = "APPLICATION_STATE_APPOINTED"
	AppNotSelected ApplicationState = "APPLICATION_STATE_NOT_SELECTED"
)

// active reports whether the application still takes part in the selection.
func (s ApplicationState) active() bool {
	return s == AppSubmitted || s == AppInProgress || s == AppShortlisted
}

// Outcome is a verdict on one application at one stage.
type Outcome string

// Outcomes.
const (
	OutcomePass Outcome = "OUTCOME_PASS"
	OutcomeFail Outcome = "OUTCOME_FAIL"
	// OutcomeNone records scores only; the verdict follows from the thresholds at the close.
	OutcomeNone Outcome = "OUTCOME_NONE"
)

// CompetencyCategory is the assessment center's overall judgement.
type CompetencyCategory string

// Assessment-center categories.
const (
	CategoryMeets       CompetencyCategory = "COMPETENCY_CATEGORY_MEETS"
	CategoryStillMeets  CompetencyCategory = "COMPETENCY_CATEGORY_STILL_MEETS"
	CategoryDoesNotMeet CompetencyCategory = "COMPETENCY_CATEGORY_DOES_NOT_MEET"
)

// ScoreComponent is one weighted part of the final score.
type ScoreComponent string

// Score components, in the order the API lists them; that order is the last resort of the
// weight-order tie-break when two components weigh the same.
const (
	ComponentWrittenTest    ScoreComponent = "SCORE_COMPONENT_WRITTEN_TEST"
	ComponentCompetencyTest ScoreComponent = "SCORE_COMPONENT_COMPETENCY_TEST"
	ComponentPaper          ScoreComponent = "SCORE_COMPONENT_PAPER"
	ComponentInterview      ScoreComponent = "SCORE_COMPONENT_INTERVIEW"
	ComponentTrackRecord    ScoreComponent = "SCORE_COMPONENT_TRACK_RECORD"
)

func (c ScoreComponent) order() int {
	switch c {
	case ComponentWrittenTest:
		return 1
	case ComponentCompetencyTest:
		return 2
	case ComponentPaper:
		return 3
	case ComponentInterview:
		return 4
	case ComponentTrackRecord:
		return 5
	}
	return 0
}

// TieBreakRule orders applications whose final scores are equal. Every rule then falls back to
// the earlier submission and finally to the application ID, so the order is always total.
type TieBreakRule string

// Tie-break rules.
const (
	TieBreakWeightOrder         TieBreakRule = "TIE_BREAK_RULE_WEIGHT_ORDER"
	TieBreakCompetencyTestFirst TieBreakRule = "TIE_BREAK_RULE_COMPETENCY_TEST_FIRST"
	TieBreakInterviewFirst      TieBreakRule = "TIE_BREAK_RULE_INTERVIEW_FIRST"
)

// InsufficientApplicantsPolicy says what happens when every extension is used and there are
// still fewer applicants than the minimum.
type InsufficientApplicantsPolicy string

// Policies.
const (
	PolicyContinue InsufficientApplicantsPolicy = "INSUFFICIENT_APPLICANTS_POLICY_CONTINUE"
	PolicyPostpone InsufficientApplicantsPolicy = "INSUFFICIENT_APPLICANTS_POLICY_POSTPONE"
)

// MemberKind says whether a committee member comes from the agency itself.
type MemberKind string

// Member kinds.
const (
	MemberInternal MemberKind = "MEMBER_KIND_INTERNAL"
	MemberExternal MemberKind = "MEMBER_KIND_EXTERNAL"
)

// CommitteeRole is a member's function in the committee (pansel).
type CommitteeRole string

// Committee roles.
const (
	CommitteeChair     CommitteeRole = "COMMITTEE_ROLE_CHAIR"
	CommitteeSecretary CommitteeRole = "COMMITTEE_ROLE_SECRETARY"
	CommitteeMember    CommitteeRole = "COMMITTEE_ROLE_MEMBER"
)

// PostLevel is the rank of a civil-service post.
type PostLevel string

// Post levels, lowest first.
const (
	PostNone          PostLevel = "POST_LEVEL_UNSPECIFIED"
	PostAdministrator PostLevel = "POST_LEVEL_ADMINISTRATOR"
	PostJPTPratama    PostLevel = "POST_LEVEL_JPT_PRATAMA"
	PostJPTMadya      PostLevel = "POST_LEVEL_JPT_MADYA"
	PostJPTUtama      PostLevel = "POST_LEVEL_JPT_UTAMA"
)

func (p PostLevel) rank() int {
	switch p {
	case PostAdministrator:
		return 1
	case PostJPTPratama:
		return 2
	case PostJPTMadya:
		return 3
	case PostJPTUtama:
		return 4
	}
	return 0
}

// EducationLevel is a completed degree. D-IV and S1 count as equal.
type EducationLevel string

// Education levels.
const (
	EducationDiploma3  EducationLevel = "EDUCATION_LEVEL_DIPLOMA_3"
	EducationDiploma4  EducationLevel = "EDUCATION_LEVEL_DIPLOMA_4"
	EducationBachelor  EducationLevel = "EDUCATION_LEVEL_BACHELOR"
	EducationMaster    EducationLevel = "EDUCATION_LEVEL_MASTER"
	EducationDoctorate EducationLevel = "EDUCATION_LEVEL_DOCTORATE"
)

func (e EducationLevel) rank() int {
	switch e {
	case EducationDiploma3:
		return 1
	case EducationDiploma4, EducationBachelor:
		return 2
	case EducationMaster:
		return 3
	case EducationDoctorate:
		return 4
	}
	return 0
}

// ObjectionState is where an objection (sanggah) stands.
type ObjectionState string

// Objection states.
const (
	ObjectionPending  ObjectionState = "OBJECTION_STATE_PENDING"
	ObjectionAccepted ObjectionState = "OBJECTION_STATE_ACCEPTED"
	ObjectionRejected ObjectionState = "OBJECTION_STATE_REJECTED"
)

// Role is the access role of a caller, as the API's token says.
type Role string

// Roles.
const (
	RoleAdmin     Role = "ROLE_ADMIN"
	RoleCommittee Role = "ROLE_COMMITTEE"
	RoleCandidate Role = "ROLE_CANDIDATE"
	RoleAuditor   Role = "ROLE_AUDITOR"
	RoleSystem    Role = "ROLE_SYSTEM"
)

// Actor is who asks for a command: the subject of the caller's token and its role. The API
// authenticates the caller; the workflow checks what the actor may do in this selection
// (membership, recusal, ownership).
type Actor struct {
	Subject string `json:"subject"`
	Role    Role   `json:"role"`
}

// SystemSubject is the subject of transitions the workflow makes on its own (a window closes,
// the next stage opens).
const SystemSubject = "seleksi"

func systemActor() Actor { return Actor{Subject: SystemSubject, Role: RoleSystem} }

// Score is a score in hundredths of a point, 0 to 10000 for 0.00 to 100.00. Scores are
// integers so that weighted sums and ties come out the same on every worker architecture
// (floating point may be fused differently by the compiler on different CPUs); the API
// converts its decimal scores by rounding to two decimals.
type Score int64

// MaxScore is 100.00.
const MaxScore Score = 10000

// ComponentScore is one score of one application.
type ComponentScore struct {
	Component ScoreComponent `json:"component"`
	Score     Score          `json:"score"`
}

// divRound divides with rounding half away from zero, for non-negative operands.
func divRound(a, b int64) int64 { return (a + b/2) / b }

// utc normalises instants so that payloads do not depend on a worker's local zone.
func utc(t time.Time) time.Time { return t.UTC() }
