package workflows

import (
	"fmt"
	"slices"
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
		unknown = append(unknown, msg("EducationUnknown", "education level not stated", "jenjang pendidikan tidak dicantumkan"))
	case f.Education.rank() == 0:
		unknown = append(unknown, msg("EducationUnknown", "education level %q not recognised", "jenjang pendidikan %q tidak dikenali", string(f.Education)))
	case f.Education.rank() < r.MinEducation.rank():
		fail = append(fail, msg("Education", "education below the required level (%s)", "pendidikan di bawah jenjang yang disyaratkan (%s)", educationName(r.MinEducation)))
	}
	switch {
	case f.ExperienceMonths == nil:
		unknown = append(unknown, msg("ExperienceUnknown", "experience in the field not stated", "pengalaman di bidang tugas tidak dicantumkan"))
	case *f.ExperienceMonths < r.MinExperienceMonths:
		fail = append(fail, msg("Experience", "%d months of experience in the field; at least %d required",
			"pengalaman di bidang tugas %d bulan; paling sedikit %d bulan", *f.ExperienceMonths, r.MinExperienceMonths))
	}
	switch {
	case f.AdministratorMonths == nil:
		unknown = append(unknown, msg("AdministratorUnknown", "time as administrator or ahli madya not stated", "masa jabatan administrator atau ahli madya tidak dicantumkan"))
	case *f.AdministratorMonths < r.MinAdministratorMonths:
		fail = append(fail, msg("Administrator", "%d months as administrator or ahli madya; at least %d required",
			"menduduki jabatan administrator atau ahli madya %d bulan; paling sedikit %d bulan", *f.AdministratorMonths, r.MinAdministratorMonths))
	}
	switch {
	case f.AgeAtClose <= 0:
		unknown = append(unknown, msg("AgeUnknown", "age not stated", "usia tidak dicantumkan"))
	case f.AgeAtClose > r.MaxAge:
		fail = append(fail, msg("Age", "%d years old at the close; at most %d allowed", "berusia %d tahun pada penutupan; paling tinggi %d tahun", f.AgeAtClose, r.MaxAge))
	}
	if len(r.RequiredDocuments) > 0 {
		if f.Documents == nil {
			unknown = append(unknown, msg("DocumentsUnknown", "uploaded documents not known", "dokumen yang diunggah tidak diketahui"))
		} else {
			var missing []string
			for _, d := range r.RequiredDocuments {
				if !slices.Contains(f.Documents, d) {
					missing = append(missing, d)
				}
			}
			if len(missing) > 0 {
				fail = append(fail, msg("Documents", "missing documents: %s", "dokumen belum lengkap: %s", strings.Join(missing, ", ")))
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
			return &Message{
				Code: RejectInvalidArgument,
				EN:   fmt.Sprintf("application %s fails the automatic check (%s); a pass needs a reason", a.ID, f.EN),
				ID:   fmt.Sprintf("lamaran %s tidak memenuhi pemeriksaan otomatis (%s); kelulusan wajib disertai alasan", a.ID, f.ID),
			}
		}
	case OutcomeFail:
		// The reason is checked for every stage by the caller.
	default:
		m := msg(RejectInvalidArgument, "administrative screening needs a pass or fail verdict for application %s",
			"seleksi administrasi memerlukan keputusan memenuhi atau tidak memenuhi syarat untuk lamaran %s", a.ID)
		return &m
	}
	if len(e.Scores) > 0 || e.Category != "" {
		m := msg(RejectInvalidArgument, "administrative screening takes no scores (application %s)", "seleksi administrasi tidak memakai nilai (lamaran %s)", a.ID)
		return &m
	}
	return nil
}

func screeningOutcome(a *Application) (Outcome, string) {
	return a.Screening.Outcome, a.Screening.Reason
}
