package workflows

import (
	"fmt"
	"strconv"
)

// legacyMessage is the rendered message that selections started before message codes (see
// SelectionState.MessageCodes) record in their state for m, frozen as it was written then:
// their histories must replay to exactly the state they recorded, so these texts never
// change. Wording fixes go to the catalog the edges render from, never here.
func legacyMessage(m Message) Message {
	p := m.Params.Get
	n := func(k string) int64 { v, _ := strconv.ParseInt(m.Params.Get(k), 10, 64); return v }
	switch m.Code {
	case CodeEligEducationUnknown:
		return msg("EducationUnknown", "education level not stated", "jenjang pendidikan tidak dicantumkan")
	case CodeEligEducationUnrecognised:
		return msg("EducationUnknown", "education level %q not recognised", "jenjang pendidikan %q tidak dikenali", p("level"))
	case CodeEligEducation:
		return msg("Education", "education below the required level (%s)", "pendidikan di bawah jenjang yang disyaratkan (%s)", educationName(EducationLevel(p("required"))))
	case CodeEligExperienceUnknown:
		return msg("ExperienceUnknown", "experience in the field not stated", "pengalaman di bidang tugas tidak dicantumkan")
	case CodeEligExperience:
		return msg("Experience", "%d months of experience in the field; at least %d required",
			"pengalaman di bidang tugas %d bulan; paling sedikit %d bulan", n("months"), n("required"))
	case CodeEligAdministratorUnknown:
		return msg("AdministratorUnknown", "time as administrator or ahli madya not stated", "masa jabatan administrator atau ahli madya tidak dicantumkan")
	case CodeEligAdministrator:
		return msg("Administrator", "%d months as administrator or ahli madya; at least %d required",
			"menduduki jabatan administrator atau ahli madya %d bulan; paling sedikit %d bulan", n("months"), n("required"))
	case CodeEligAgeUnknown:
		return msg("AgeUnknown", "age not stated", "usia tidak dicantumkan")
	case CodeEligAge:
		return msg("Age", "%d years old at the close; at most %d allowed", "berusia %d tahun pada penutupan; paling tinggi %d tahun", n("age"), n("max"))
	case CodeEligDocumentsUnknown:
		return msg("DocumentsUnknown", "uploaded documents not known", "dokumen yang diunggah tidak diketahui")
	case CodeEligDocuments:
		return msg("Documents", "missing documents: %s", "dokumen belum lengkap: %s", p("missing"))
	case CodeReasonCompetencyDoesNotMeet:
		return msg("CompetencyCategory", "the assessment center found the competency does not meet the standard",
			"hasil assessment center: kompetensi belum memenuhi standar")
	case CodeReasonCompetencyStillMeets:
		return msg("CompetencyCategory", "the assessment center category \"still meets\" is not accepted in this selection",
			"kategori assessment center \"masih memenuhi syarat\" tidak diterima dalam seleksi ini")
	case CodeReasonCompetencyBelowMark:
		return msg("CompetencyScore", "competency test score %s is below the pass mark %s",
			"nilai uji kompetensi %s di bawah nilai ambang %s", Score(n("score")), Score(n("mark")))
	case CodeReasonInterviewBelowMark:
		return msg("InterviewScore", "interview score %s is below the pass mark %s", "nilai wawancara %s di bawah nilai ambang %s",
			Score(n("score")), Score(n("mark")))
	case CodeReasonNotShortlisted:
		return msg("NotShortlisted", "final score %s; not among the best %d", "nilai akhir %s; tidak termasuk %d terbaik", Score(n("score")), n("size"))
	case CodeReasonPostponed:
		return msg(EvtPostponed,
			"The selection is postponed: %d application(s) received after %d extension(s), fewer than the required %d.",
			"Seleksi ditunda: hanya %d pelamar setelah %d kali perpanjangan, kurang dari %d yang disyaratkan.",
			n("count"), n("extensions"), n("required"))
	case CodeReasonNoQualified:
		return Message{Code: m.Code, EN: "no candidate qualified for the shortlist", ID: "no candidate qualified for the shortlist"}
	case CodeReasonObjectionAccepted:
		return Message{Code: m.Code, EN: fmt.Sprintf("objection %s accepted: %s", p("objection"), p("answer"))}
	}
	return m
}

// bilingual is how selections before message codes recorded a system reason in a plain
// reason field: both texts, English first.
func bilingual(m Message) string {
	l := legacyMessage(m)
	return l.EN + " / " + l.ID
}

// reason is how the state records the system's reason m: for selections before message
// codes, the frozen text legacy gives (as a reason string); for the others, the code.
func (s *selection) reason(m Message, legacy func(Message) string) (string, *Message) {
	if s.st.MessageCodes {
		return "", &m
	}
	return legacy(m), nil
}

// englishOnly is the text of the few reasons recorded in English alone.
func englishOnly(m Message) string { return legacyMessage(m).EN }
