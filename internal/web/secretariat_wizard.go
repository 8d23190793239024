package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// The selection wizard (/sekretariat/seleksi/baru): one long form in sections, which works
// without JavaScript; static/secretariat.js adds live checks of the weights and the
// committee as the user types. The form checks nothing itself beyond reading numbers and
// dates: the API's field violations (CreateSelection validates everything, including the
// plan against the holiday lists) are shown in the summary and beside each field. The
// calendar preview asks the API for the plan without creating anything (validate_only), so
// the dates shown are the ones the service will count.

// Form sizes: the committee has at most 9 members; up to secDocRows required documents.
const (
	secMemberRows = 9
	secDocRows    = 6
)

// Enum values offered by the wizard, in the order shown.
var (
	secTimeZones      = []string{"TIME_ZONE_WIB", "TIME_ZONE_WITA", "TIME_ZONE_WIT"}
	secMemberKinds    = []string{"MEMBER_KIND_EXTERNAL", "MEMBER_KIND_INTERNAL"}
	secPostLevels     = []string{"POST_LEVEL_UNSPECIFIED", "POST_LEVEL_ADMINISTRATOR", "POST_LEVEL_JPT_PRATAMA", "POST_LEVEL_JPT_MADYA", "POST_LEVEL_JPT_UTAMA"}
	secRolesChair     = []string{"COMMITTEE_ROLE_CHAIR", "COMMITTEE_ROLE_SECRETARY", "COMMITTEE_ROLE_MEMBER"}
	secRolesMember    = []string{"COMMITTEE_ROLE_MEMBER", "COMMITTEE_ROLE_SECRETARY", "COMMITTEE_ROLE_CHAIR"}
	secEducation      = []string{"EDUCATION_LEVEL_BACHELOR", "EDUCATION_LEVEL_DIPLOMA_4", "EDUCATION_LEVEL_MASTER", "EDUCATION_LEVEL_DOCTORATE"}
	secPolicies       = []string{"INSUFFICIENT_APPLICANTS_POLICY_CONTINUE", "INSUFFICIENT_APPLICANTS_POLICY_POSTPONE"}
	secTieBreaks      = []string{"TIE_BREAK_RULE_WEIGHT_ORDER", "TIE_BREAK_RULE_COMPETENCY_TEST_FIRST", "TIE_BREAK_RULE_INTERVIEW_FIRST"}
	secCompetencyCats = []string{"COMPETENCY_CATEGORY_UNSPECIFIED", "COMPETENCY_CATEGORY_MEETS", "COMPETENCY_CATEGORY_STILL_MEETS"}
	secMediaTypes     = []string{"application/pdf", "image/jpeg", "image/png"}
	// secComponents are the score components, by their weight field's name.
	secComponents = []struct {
		Key       string
		Component seleksiv1.ScoreComponent
	}{
		{"written_test", seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST},
		{"competency_test", seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST},
		{"paper", seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER},
		{"interview", seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW},
		{"track_record", seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD},
	}
)

// secWizardData is the wizard page's data.
type secWizardData struct {
	RequestID string
	Members   []secMemberRow
	Docs      []secMemberRow
	// Plan is the calendar preview, after "Pratinjau".
	Plan *seleksiv1.AnnouncementPlan
	Zone seleksiv1.TimeZone

	// CommitteeAccounts are the enabled committee accounts, offered for the members' IDs (a
	// member's ID is their account's subject); the IDs stay free text.
	CommitteeAccounts []accounts.Account

	TimeZones, MemberKinds, PostLevels, Education, Policies, TieBreaks, CompetencyCats, MediaTypes []string
	Components                                                                                     []string
}

// secMemberRow is a row of the committee or of the documents: its index in the form, its
// number as shown, and for a member the roles offered (the first is the default).
type secMemberRow struct {
	I, N  int
	Roles []string
}

func newSecWizardData(requestID string) secWizardData {
	d := secWizardData{RequestID: requestID, TimeZones: secTimeZones, MemberKinds: secMemberKinds, PostLevels: secPostLevels,
		Education: secEducation, Policies: secPolicies, TieBreaks: secTieBreaks, CompetencyCats: secCompetencyCats, MediaTypes: secMediaTypes}
	for i := range secMemberRows {
		roles := secRolesMember
		if i == 0 {
			roles = secRolesChair
		}
		d.Members = append(d.Members, secMemberRow{I: i, N: i + 1, Roles: roles})
	}
	for i := range secDocRows {
		d.Docs = append(d.Docs, secMemberRow{I: i, N: i + 1})
	}
	for _, c := range secComponents {
		d.Components = append(d.Components, c.Key)
	}
	return d
}

// wizardPage shows the empty wizard.
func (s *Server) wizardPage(w http.ResponseWriter, r *http.Request) {
	d := newSecWizardData(commandRequestID())
	d.CommitteeAccounts = s.secCommitteeAccounts(r)
	s.render(w, r, http.StatusOK, "secretariat/wizard", d)
}

// secCommitteeAccounts are the enabled committee accounts; none when they cannot be read
// (the IDs can still be typed).
func (s *Server) secCommitteeAccounts(r *http.Request) []accounts.Account {
	if s.opts.Accounts == nil {
		return nil
	}
	all, err := s.opts.Accounts.List(r.Context(), auth.RoleCommittee)
	if err != nil {
		s.logger.WarnContext(r.Context(), "web: committee accounts for the wizard", "error", err)
		return nil
	}
	out := all[:0]
	for _, a := range all {
		if !a.Disabled {
			out = append(out, a)
		}
	}
	return out
}

// wizardPost previews the plan (action=pratinjau) or creates the selection (action=buat).
func (s *Server) wizardPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	f := r.PostForm
	d := newSecWizardData(postedRequestID(f.Get("request_id")))
	d.CommitteeAccounts = s.secCommitteeAccounts(r)
	req, remap, local := secParseWizard(f)
	for k, code := range local {
		local[k] = view{p: s.pages, Lang: s.lang(r)}.T(code)
	}
	req.RequestId = d.RequestID
	d.Zone = req.GetSelection().GetTimeZone()
	if len(local) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/wizard", d, f, local)
		return
	}
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	preview := f.Get("action") == "pratinjau"
	req.ValidateOnly = preview
	resp, err := s.api.selections.CreateSelection(ctx, req)
	switch status.Code(err) {
	case codes.OK:
	case codes.InvalidArgument:
		s.renderForm(w, r, http.StatusUnprocessableEntity, "secretariat/wizard", d, f, secErrors(err, remap, "holiday_overrides", "document_policy-document_media_types"))
		return
	case codes.AlreadyExists:
		// The chosen ID is taken, or this form's request ID was used for another definition
		// (a form sent again after going back): the next submit gets a fresh request ID.
		d.RequestID = commandRequestID()
		s.renderForm(w, r, http.StatusConflict, "secretariat/wizard", d, f, map[string]string{"selection_id": status.Convert(err).Message()})
		return
	default:
		s.apiFailed(w, r, err)
		return
	}
	if preview {
		d.Plan = resp.GetAnnouncementPlan()
		s.renderForm(w, r, http.StatusOK, "secretariat/wizard", d, f, nil)
		return
	}
	s.flash(r.Context(), "admin.flash.created")
	http.Redirect(w, r, "/sekretariat/seleksi/"+selectionID(resp.GetSelection().GetName()), http.StatusSeeOther)
}

// secParseWizard reads the wizard's form into a CreateSelectionRequest. Empty committee and
// document rows are left out; remap gives the form row of each row sent, so the API's
// violations land beside the right inputs. local holds the text codes of what could not be
// read at all (a number that is not one, a date that is not a date).
func secParseWizard(f url.Values) (*seleksiv1.CreateSelectionRequest, map[string]string, map[string]string) {
	local := map[string]string{}
	remap := map[string]string{}
	bad := func(name, code string) {
		if _, ok := local[name]; !ok {
			local[name] = code
		}
	}
	u32 := func(name string) uint32 {
		v := strings.TrimSpace(f.Get(name))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			bad(name, "admin.form.not_a_number")
		}
		return uint32(n)
	}
	f64 := func(name string) float64 {
		v := strings.TrimSpace(strings.ReplaceAll(f.Get(name), ",", "."))
		if v == "" {
			return 0
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			bad(name, "admin.form.not_a_number")
		}
		return n
	}
	enum := func(name string, values map[string]int32) int32 { return values[f.Get(name)] }
	text := func(name string) string { return strings.TrimSpace(f.Get(name)) }

	sel := &seleksiv1.Selection{
		PositionTitle:                text("position_title"),
		PositionUnit:                 text("position_unit"),
		Agency:                       text("agency"),
		TimeZone:                     seleksiv1.TimeZone(enum("time_zone", seleksiv1.TimeZone_value)),
		OversightApprovalRef:         text("oversight_approval_ref"),
		AnnouncementWorkingDays:      u32("announcement_working_days"),
		ExtensionWorkingDays:         u32("extension_working_days"),
		MaxExtensions:                u32("max_extensions"),
		MinApplicants:                u32("min_applicants"),
		InsufficientApplicantsPolicy: seleksiv1.InsufficientApplicantsPolicy(enum("insufficient_applicants_policy", seleksiv1.InsufficientApplicantsPolicy_value)),
		ObjectionWindowWorkingDays:   u32("objection_window_working_days"),
		MinCompetencyCategory:        seleksiv1.CompetencyCategory(enum("min_competency_category", seleksiv1.CompetencyCategory_value)),
		MinFinalScore:                f64("min_final_score"),
		TieBreakRule:                 seleksiv1.TieBreakRule(enum("tie_break_rule", seleksiv1.TieBreakRule_value)),
		PublishScores:                f.Get("publish_scores") != "",
		// Left empty, each deadline takes the workflow's default.
		Deadlines: &seleksiv1.Deadlines{
			ObjectionAnswerWorkingDays: u32("deadlines-objection_answer_working_days"),
			AppointmentDueWorkingDays:  u32("deadlines-appointment_due_working_days"),
			ReminderLeadWorkingDays:    u32("deadlines-reminder_lead_working_days"),
		},
	}
	for i := range secMemberRows {
		p := fmt.Sprintf("committee-%d-", i)
		if text(p+"member_id") == "" && text(p+"display_name") == "" {
			continue
		}
		remap[fmt.Sprintf("committee-%d", len(sel.Committee))] = fmt.Sprintf("committee-%d", i)
		sel.Committee = append(sel.Committee, &seleksiv1.CommitteeMember{
			MemberId: text(p + "member_id"), DisplayName: text(p + "display_name"),
			Kind:        seleksiv1.MemberKind(enum(p+"kind", seleksiv1.MemberKind_value)),
			PostLevel:   seleksiv1.PostLevel(enum(p+"post_level", seleksiv1.PostLevel_value)),
			Role:        seleksiv1.CommitteeRole(enum(p+"role", seleksiv1.CommitteeRole_value)),
			Affiliation: text(p + "affiliation"),
		})
	}
	req := &seleksiv1.Requirements{
		MinEducation:              seleksiv1.EducationLevel(enum("requirements-min_education", seleksiv1.EducationLevel_value)),
		MinYearsExperience:        u32("requirements-min_years_experience"),
		MinYearsAdministratorPost: u32("requirements-min_years_administrator_post"),
		MaxAgeYears:               u32("requirements-max_age_years"),
	}
	for i := range secDocRows {
		p := fmt.Sprintf("requirements-required_documents-%d-", i)
		if text(p+"id") == "" && text(p+"title") == "" && text(p+"description") == "" {
			continue
		}
		remap[fmt.Sprintf("requirements-required_documents-%d", len(req.RequiredDocuments))] = fmt.Sprintf("requirements-required_documents-%d", i)
		req.RequiredDocuments = append(req.RequiredDocuments, &seleksiv1.RequiredDocument{
			Id: text(p + "id"), Title: text(p + "title"), Description: text(p + "description")})
	}
	sel.Requirements = req
	sel.ScoreWeights = &seleksiv1.ScoreWeights{
		WrittenTest: u32("score_weights-written_test"), CompetencyTest: u32("score_weights-competency_test"),
		Paper: u32("score_weights-paper"), Interview: u32("score_weights-interview"), TrackRecord: u32("score_weights-track_record"),
	}
	for _, c := range secComponents {
		name := "pass_thresholds-" + c.Key + "-min_score"
		if text(name) == "" {
			continue
		}
		remap[fmt.Sprintf("pass_thresholds-%d", len(sel.PassThresholds))] = "pass_thresholds-" + c.Key
		sel.PassThresholds = append(sel.PassThresholds, &seleksiv1.PassThreshold{Component: c.Component, MinScore: f64(name)})
	}
	pol := &seleksiv1.DocumentPolicy{ObjectionDocuments: f.Get("document_policy-objection_documents") != ""}
	if mib := f64("document_policy-max_document_bytes"); mib > 0 {
		pol.MaxDocumentBytes = int64(mib * (1 << 20))
	}
	pol.MaxPages = int32(u32("document_policy-max_pages"))
	for _, m := range f["document_policy-document_media_types"] {
		pol.DocumentMediaTypes = append(pol.DocumentMediaTypes, m)
	}
	sel.DocumentPolicy = pol
	if v := text("announcement_open_time"); v != "" {
		loc := time.FixedZone("WIB", 7*3600)
		if z, ok := zones[sel.GetTimeZone()]; ok {
			if l, err := time.LoadLocation(z.loc); err == nil {
				loc = l
			}
		}
		at, err := time.ParseInLocation("2006-01-02T15:04", v, loc)
		if err != nil {
			bad("announcement_open_time", "admin.form.not_a_time")
		} else {
			sel.AnnouncementOpenTime = timestamppb.New(at)
		}
	}
	sel.HolidayOverrides = secParseDays(f.Get("holiday_overrides"))
	return &seleksiv1.CreateSelectionRequest{SelectionId: text("selection_id"), Selection: sel}, remap, local
}

// secParseDays reads pasted days off, one a line: "YYYY-MM-DD,name", or the shipped lists'
// "YYYY-MM-DD,kind,name,English name" (a header line and blank lines are skipped). Dates are
// not checked here: the API's violations name the line (by its position among the days).
func secParseDays(text string) []*seleksiv1.HolidayOverride {
	var out []*seleksiv1.HolidayOverride
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sep := ","
		if !strings.Contains(line, ",") && strings.Contains(line, ";") {
			sep = ";"
		}
		cols := strings.Split(line, sep)
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		if l := strings.ToLower(cols[0]); l == "date" || l == "tanggal" {
			continue
		}
		desc := strings.Join(cols[1:], ", ")
		if len(cols) >= 3 && (cols[1] == "libur_nasional" || cols[1] == "cuti_bersama") {
			desc = cols[2]
		}
		out = append(out, &seleksiv1.HolidayOverride{Date: cols[0], Description: desc})
	}
	return out
}

// SecDate writes a `YYYY-MM-DD` day as people read it ("4 Desember 2026").
func (v view) SecDate(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return formatTime(t.Add(12*time.Hour), seleksiv1.TimeZone_TIME_ZONE_WIB, v.Lang, false)
}
