package workflows

import (
	"errors"
	"fmt"
	"slices"
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
	// Subject identifies the member in access tokens; commands are matched against it.
	Subject string        `json:"subject"`
	Name    string        `json:"name"`
	Kind    MemberKind    `json:"kind"`
	Role    CommitteeRole `json:"role"`
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
		parts[i] = p.EN
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
		add(msg("SelectionID", "selection ID %q must be 3-63 lower-case letters, digits or dashes",
			"ID seleksi %q harus 3-63 huruf kecil, angka atau tanda hubung", in.SelectionID))
	}
	if strings.TrimSpace(in.Position.Title) == "" || strings.TrimSpace(in.Position.Agency) == "" {
		add(msg("Position", "the position title and the agency are required", "nama jabatan dan instansi wajib diisi"))
	}
	if in.Position.Level.rank() < PostJPTPratama.rank() {
		add(msg("PositionLevel", "the position must be a senior leadership post (JPT Pratama or higher)",
			"jabatan yang diisi harus Jabatan Pimpinan Tinggi (JPT Pratama atau lebih tinggi)"))
	}
	if strings.TrimSpace(in.OversightApprovalRef) == "" {
		add(msg("OversightApproval", "the oversight approval reference of the selection plan is required before the announcement opens",
			"nomor persetujuan rencana seleksi dari pengawas wajib diisi sebelum pengumuman dibuka"))
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
		add(msg("TieBreak", "choose a tie-break rule (weight order, competency test first or interview first)",
			"pilih aturan penentuan peringkat jika nilai sama (urutan bobot, uji kompetensi lebih dulu, atau wawancara lebih dulu)"))
	}
	if s := in.TimeScale.SecondsPerDay; s < 0 || s >= 86400 {
		add(msg("TimeScale", "the time scale must be between 1 and 86399 seconds per day, or 0 for real time",
			"skala waktu harus antara 1 dan 86399 detik per hari, atau 0 untuk waktu sebenarnya"))
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
		add(msg("CommitteeSize", "the committee must have an odd number of members from 5 to 9, not %d",
			"panitia seleksi harus berjumlah ganjil antara 5 dan 9 orang, bukan %d", n))
	}
	var internal, external, chairs, secretaries int
	for i, m := range members {
		if strings.TrimSpace(m.Subject) == "" || strings.TrimSpace(m.Name) == "" {
			add(msg("CommitteeMember", "committee member %d needs an identity (subject) and a name",
				"anggota panitia ke-%d wajib memiliki identitas (subject) dan nama", i+1))
		}
		if slices.ContainsFunc(members[:i], func(o Member) bool { return o.Subject == m.Subject }) {
			add(msg("CommitteeDuplicate", "%q is listed twice in the committee", "%q tercantum dua kali dalam panitia", m.Subject))
		}
		switch m.Kind {
		case MemberInternal:
			internal++
			if m.PostLevel.rank() < level.rank() {
				add(msg("CommitteeInternalLevel", "internal member %s must hold a post at least equal to the post being filled",
					"anggota internal %s harus menduduki jabatan paling rendah setara dengan jabatan yang diisi", m.Name))
			}
		case MemberExternal:
			external++
		default:
			add(msg("CommitteeKind", "say whether member %s is internal or external", "tentukan apakah anggota %s berasal dari internal atau eksternal", m.Name))
		}
		switch m.Role {
		case CommitteeChair:
			chairs++
		case CommitteeSecretary:
			secretaries++
		case CommitteeMember:
		default:
			add(msg("CommitteeRole", "member %s needs a role (chair, secretary or member)", "anggota %s wajib memiliki peran (ketua, sekretaris atau anggota)", m.Name))
		}
	}
	if n > 0 {
		// Compare in whole numbers: internal/n <= 45% and external/n >= 55%.
		if internal*100 > 45*n {
			add(msg("CommitteeInternalShare", "internal members may be at most 45%% of the committee; %d of %d is %d%%",
				"anggota internal paling banyak 45%% dari panitia; %d dari %d adalah %d%%", internal, n, internal*100/n))
		}
		if external*100 < 55*n {
			add(msg("CommitteeExternalShare", "external members must be at least 55%% of the committee; %d of %d is %d%%",
				"anggota eksternal paling sedikit 55%% dari panitia; %d dari %d adalah %d%%", external, n, external*100/n))
		}
	}
	if chairs != 1 {
		add(msg("CommitteeChair", "the committee must have exactly one chair, not %d", "panitia harus memiliki tepat satu ketua, bukan %d", chairs))
	}
	if secretaries > 1 {
		add(msg("CommitteeSecretary", "the committee may have at most one secretary, not %d", "panitia paling banyak memiliki satu sekretaris, bukan %d", secretaries))
	}
	return ps
}

func validateRequirements(r Requirements) []Message {
	var ps []Message
	if r.MinEducation.rank() < EducationDiploma4.rank() {
		ps = append(ps, msg("MinEducation", "the minimum education must be at least S1/D-IV",
			"pendidikan minimal harus paling rendah S1/D-IV"))
	}
	if r.MinExperienceMonths < LegalMinExperienceMonths {
		ps = append(ps, msg("MinExperience", "the required experience must be at least %d months (5 years)",
			"pengalaman yang disyaratkan paling sedikit %d bulan (5 tahun)", LegalMinExperienceMonths))
	}
	if r.MinAdministratorMonths < LegalMinAdministratorMonths {
		ps = append(ps, msg("MinAdministrator", "the required time as administrator or ahli madya must be at least %d months (2 years)",
			"masa jabatan administrator atau ahli madya yang disyaratkan paling sedikit %d bulan (2 tahun)", LegalMinAdministratorMonths))
	}
	if r.MaxAge < 30 || r.MaxAge > LegalMaxAge {
		ps = append(ps, msg("MaxAge", "the maximum age must be between 30 and %d years", "batas usia harus antara 30 dan %d tahun", LegalMaxAge))
	}
	for i, d := range r.RequiredDocuments {
		if strings.TrimSpace(d) == "" || slices.Contains(r.RequiredDocuments[:i], d) {
			ps = append(ps, msg("RequiredDocuments", "required document %d is empty or listed twice", "dokumen wajib ke-%d kosong atau tercantum dua kali", i+1))
		}
	}
	return ps
}

func validateWindows(w Windows) []Message {
	var ps []Message
	add := func(m Message) { ps = append(ps, m) }
	if w.AnnouncementDays < 1 || w.AnnouncementDays > 60 {
		add(msg("AnnouncementDays", "the announcement must last 1 to 60 working days, not %d", "pengumuman harus berlangsung 1 sampai 60 hari kerja, bukan %d", w.AnnouncementDays))
	}
	if w.MaxExtensions < 0 || w.MaxExtensions > 3 {
		add(msg("MaxExtensions", "the announcement may be extended 0 to 3 times, not %d", "pengumuman dapat diperpanjang 0 sampai 3 kali, bukan %d", w.MaxExtensions))
	}
	if w.MaxExtensions > 0 && (w.ExtensionDays < 1 || w.ExtensionDays > 30) {
		add(msg("ExtensionDays", "each extension must last 1 to 30 working days, not %d", "setiap perpanjangan harus 1 sampai 30 hari kerja, bukan %d", w.ExtensionDays))
	}
	if w.MinApplicants < 1 || w.MinApplicants > 20 {
		add(msg("MinApplicants", "the minimum number of applicants must be 1 to 20, not %d", "jumlah pelamar minimal harus 1 sampai 20, bukan %d", w.MinApplicants))
	}
	if w.WhenTooFew != PolicyContinue && w.WhenTooFew != PolicyPostpone {
		add(msg("WhenTooFew", "say whether to continue or postpone when there are still too few applicants",
			"tentukan apakah seleksi dilanjutkan atau ditunda jika pelamar tetap kurang"))
	}
	if w.ObjectionDays < 1 || w.ObjectionDays > 14 {
		add(msg("ObjectionDays", "the objection window must last 1 to 14 working days, not %d", "masa sanggah harus 1 sampai 14 hari kerja, bukan %d", w.ObjectionDays))
	}
	return ps
}

func validateWeights(ws []Weight) []Message {
	var ps []Message
	sum := 0
	for i, w := range ws {
		if w.Component.order() == 0 {
			ps = append(ps, msg("WeightComponent", "weight %d names an unknown score component %q", "bobot ke-%d menyebut komponen nilai %q yang tidak dikenal", i+1, string(w.Component)))
		}
		if slices.ContainsFunc(ws[:i], func(o Weight) bool { return o.Component == w.Component }) {
			ps = append(ps, msg("WeightDuplicate", "component %s is weighted twice", "komponen %s diberi bobot dua kali", string(w.Component)))
		}
		if w.Percent < 1 || w.Percent > 100 {
			ps = append(ps, msg("WeightRange", "the weight of %s must be 1 to 100 percent, not %d", "bobot %s harus 1 sampai 100 persen, bukan %d", string(w.Component), w.Percent))
		}
		sum += w.Percent
	}
	if sum != 100 {
		ps = append(ps, msg("WeightSum", "the weights must add up to 100 percent, not %d", "jumlah bobot harus 100 persen, bukan %d", sum))
	}
	return ps
}

func validateThresholds(t Thresholds) []Message {
	var ps []Message
	for _, th := range []struct {
		name, nama string
		v          Score
	}{{"competency test", "uji kompetensi", t.CompetencyMin}, {"interview", "wawancara", t.InterviewMin}, {"final score", "nilai akhir", t.FinalMin}} {
		if th.v < 0 || th.v > MaxScore {
			ps = append(ps, *bi("Threshold", fmt.Sprintf("the %s pass mark must be between 0 and 100", th.name),
				fmt.Sprintf("nilai ambang %s harus antara 0 dan 100", th.nama)))
		}
	}
	return ps
}

// calendarMessage turns a calendar error into a bilingual message.
func calendarMessage(err error) Message {
	var ce *calendar.Error
	if errors.As(err, &ce) {
		return Message{Code: ce.Code, EN: ce.EN, ID: ce.ID}
	}
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return Message{Code: RejectCalendar, EN: ync.Error(), ID: ync.Indonesian()}
	}
	return Message{Code: "Calendar", EN: err.Error(), ID: err.Error()}
}
