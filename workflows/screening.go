package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Administrative screening (seleksi administrasi): every application is checked against the
// requirements. The workflow checks automatically what the snapshot's facts allow; the
// committee gives the verdict on every application, with a reason for every rejection and for
// every pass that goes against the automatic check.

// EligibilityStatus is the result of the automatic check.
type EligibilityStatus string

// Automatic check results.
const (
	Eligible    EligibilityStatus = "ELIGIBLE"
	Ineligible  EligibilityStatus = "INELIGIBLE"
	NeedsReview EligibilityStatus = "NEEDS_REVIEW"
)

// Eligibility is the automatic check of one application against the requirements. Findings
// list each requirement not met, or not checkable for lack of data.
type Eligibility struct {
	Status   EligibilityStatus `json:"status"`
	Findings []Message         `json:"findings,omitempty"`
}

// Verdict is the committee's screening verdict on one application.
type Verdict struct {
	Outcome Outcome   `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// checkEligibility applies the requirements to the declared facts. Unknown facts never fail
// an application; they send it to the committee for review.
func checkEligibility(r Requirements, f EligibilityFacts) Eligibility {
	var fail, unknown []Message
	switch {
	case f.Education == "":
		unknown = append(unknown, code(CodeEligEducationUnknown))
	case f.Education.rank() == 0:
		unknown = append(unknown, code(CodeEligEducationUnrecognised, "level", string(f.Education)))
	case f.Education.rank() < r.MinEducation.rank():
		fail = append(fail, code(CodeEligEducation, "required", string(r.MinEducation)))
	}
	switch {
	case f.ExperienceMonths == nil:
		unknown = append(unknown, code(CodeEligExperienceUnknown))
	case *f.ExperienceMonths < r.MinExperienceMonths:
		fail = append(fail, code(CodeEligExperience, "months", strconv.Itoa(*f.ExperienceMonths), "required", strconv.Itoa(r.MinExperienceMonths)))
	}
	switch {
	case f.AdministratorMonths == nil:
		unknown = append(unknown, code(CodeEligAdministratorUnknown))
	case *f.AdministratorMonths < r.MinAdministratorMonths:
		fail = append(fail, code(CodeEligAdministrator, "months", strconv.Itoa(*f.AdministratorMonths), "required", strconv.Itoa(r.MinAdministratorMonths)))
	}
	switch {
	case f.AgeAtClose <= 0:
		unknown = append(unknown, code(CodeEligAgeUnknown))
	case f.AgeAtClose > r.MaxAge:
		fail = append(fail, code(CodeEligAge, "age", strconv.Itoa(f.AgeAtClose), "max", strconv.Itoa(r.MaxAge)))
	}
	if len(r.RequiredDocuments) > 0 {
		if f.Documents == nil {
			unknown = append(unknown, code(CodeEligDocumentsUnknown))
		} else {
			var missing []string
			for _, d := range r.RequiredDocuments {
				if !slices.Contains(f.Documents, d) {
					missing = append(missing, d)
				}
			}
			if len(missing) > 0 {
				fail = append(fail, code(CodeEligDocuments, "missing", strings.Join(missing, ", ")))
			}
		}
	}
	switch {
	case len(fail) > 0:
		return Eligibility{Status: Ineligible, Findings: append(fail, unknown...)}
	case len(unknown) > 0:
		return Eligibility{Status: NeedsReview, Findings: unknown}
	}
	return Eligibility{Status: Eligible}
}

func educationName(e EducationLevel) string {
	switch e {
	case EducationDiploma4, EducationBachelor:
		return "S1/D-IV"
	case EducationMaster:
		return "S2"
	case EducationDoctorate:
		return "S3"
	}
	return string(e)
}

// validateScreeningEntry checks one verdict of a RecordResults batch.
func validateScreeningEntry(a *Application, e ResultInput) *Message {
	switch e.Outcome {
	case OutcomePass:
		if a.Eligibility != nil && a.Eligibility.Status == Ineligible && blank(e.Reason) {
			f := a.Eligibility.Findings[0]
			if f.EN != "" {
				// A finding recorded before message codes carries its texts.
				return &Message{
					Code: RejectInvalidArgument,
					EN:   fmt.Sprintf("application %s fails the automatic check (%s); a pass needs a reason", a.ID, f.EN),
					ID:   fmt.Sprintf("lamaran %s tidak memenuhi pemeriksaan otomatis (%s); kelulusan wajib disertai alasan", a.ID, f.ID),
				}
			}
			m := code(CodeRejectFailsAutomaticCheck, "application", a.ID).with(f)
			return &m
		}
	case OutcomeFail:
		// The reason is checked for every stage by the caller.
	default:
		m := code("reject.invalid_argument.screening_verdict", "application", a.ID)
		return &m
	}
	if len(e.Scores) > 0 || e.Category != "" {
		m := code("reject.invalid_argument.screening_scores", "application", a.ID)
		return &m
	}
	return nil
}

// screeningOutcome is the screening verdict on an application. With a checklist it follows
// from the items; a whole-application fail (the form clients used before the checklist) whose
// items are all met stands on the committee's reason, which then names a requirement the
// checklist does not list.
func screeningOutcome(a *Application) (Outcome, string, *Message) {
	if a.Checklist == nil {
		return a.Screening.Outcome, a.Screening.Reason, nil
	}
	reason := ""
	if a.Screening != nil {
		reason = a.Screening.Reason
	}
	if a.Screening != nil && a.Screening.Outcome == OutcomeFail {
		// A whole-application fail is told in the committee's words; the published result
		// lists the unmet items beside them.
		return OutcomeFail, reason, nil
	}
	o, why, ok := checklistOutcome(a)
	if !ok {
		// checkAdvance publishes no result while an item is unknown.
		return OutcomeFail, reason, why
	}
	return o, reason, why
}

// validateChecklistEntry checks one screening entry of a selection that screens item by item:
// per-item verdicts, or a whole-application verdict that decides every item (see
// wholeVerdictItems). correct allows deciding again what is decided.
func validateChecklistEntry(a *Application, e ResultInput, correct bool) *Message {
	if len(e.Items) > 0 {
		return checkItemVerdicts(a, e, correct)
	}
	switch e.Outcome {
	case OutcomePass:
		if blank(e.Reason) {
			for _, it := range a.Checklist {
				if it.Proposed == ItemUnmet && it.Status == ItemUnmet {
					m := code(CodeRejectFailsAutomaticCheck, "application", a.ID).with(*cloneMessage(it.Finding))
					return &m
				}
			}
		}
	case OutcomeFail:
	default:
		m := code("reject.invalid_argument.screening_verdict", "application", a.ID)
		return &m
	}
	if len(e.Scores) > 0 || e.Category != "" {
		m := code("reject.invalid_argument.screening_scores", "application", a.ID)
		return &m
	}
	if a.Screening != nil && !correct {
		return alreadyRecorded(a.ID)
	}
	return nil
}

// screen records a screening entry on an application: per-item verdicts or, with a
// checklist, a whole-application verdict on every item; without one, the verdict alone.
func screen(a *Application, e ResultInput, by string, now time.Time) {
	if a.Checklist == nil {
		a.Screening = &Verdict{Outcome: e.Outcome, Reason: e.Reason, By: by, At: now}
		return
	}
	vs, whole := e.Items, Outcome("")
	if len(vs) == 0 {
		vs, whole = wholeVerdictItems(a, e), e.Outcome
	}
	applyItemVerdicts(a, vs, by, now)
	a.Screening = &Verdict{Outcome: whole, Reason: e.Reason, By: by, At: now}
}
