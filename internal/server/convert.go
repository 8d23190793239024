package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"google.golang.org/genproto/googleapis/rpc/errdetails"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// The workflow's enumerations carry the proto enum names as their values, so conversion is
// by name: a value the proto adds later fails the workflow's own validation instead of being
// silently mapped to something else.

// selectionIDFor returns the client's chosen ID or, when there is none, one derived from the
// request ID, so that a retried create lands on the same selection.
func selectionIDFor(req *seleksiv1.CreateSelectionRequest) string {
	if id := req.GetSelectionId(); id != "" {
		return id
	}
	sum := sha256.Sum256([]byte(req.GetRequestId()))
	return "sel-" + hex.EncodeToString(sum[:6])
}

// toScore converts an API score (0 to 100, decimals) to the workflow's whole hundredths,
// rounding half away from zero as the workflow documents.
func toScore(v float64) workflows.Score {
	return workflows.Score(math.Round(v * 100))
}

// fromScore converts hundredths back to the API's decimal score.
func fromScore(s workflows.Score) float64 { return float64(s) / 100 }

// selectionInput builds the workflow's input from a create request. Problems that only this
// conversion can see (a threshold on a component the workflow has no pass mark for, holiday
// overrides that contradict themselves) come back as field violations.
func selectionInput(id string, sel *seleksiv1.Selection) (workflows.SelectionInput, []*errdetails.BadRequest_FieldViolation, error) {
	var violations []*errdetails.BadRequest_FieldViolation
	violate := func(field, desc string) {
		violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc, Reason: "unsupported"})
	}

	in := workflows.SelectionInput{
		SelectionID: id,
		Position: workflows.Position{
			Title:  positionTitle(sel),
			Agency: sel.GetAgency(),
			Level:  workflows.PostJPTPratama,
		},
		OversightApprovalRef: sel.GetOversightApprovalRef(),
		Requirements: workflows.Requirements{
			MinEducation:           workflows.EducationLevel(sel.GetRequirements().GetMinEducation().String()),
			MinExperienceMonths:    int(sel.GetRequirements().GetMinYearsExperience()) * 12,
			MinAdministratorMonths: int(sel.GetRequirements().GetMinYearsAdministratorPost()) * 12,
			MaxAge:                 int(sel.GetRequirements().GetMaxAgeYears()),
		},
		Windows: workflows.Windows{
			AnnouncementDays: int(sel.GetAnnouncementWorkingDays()),
			ExtensionDays:    int(sel.GetExtensionWorkingDays()),
			MaxExtensions:    int(sel.GetMaxExtensions()),
			MinApplicants:    int(sel.GetMinApplicants()),
			WhenTooFew:       workflows.InsufficientApplicantsPolicy(sel.GetInsufficientApplicantsPolicy().String()),
			ObjectionDays:    int(sel.GetObjectionWindowWorkingDays()),
		},
		TieBreak:           workflows.TieBreakRule(sel.GetTieBreakRule().String()),
		PublishScores:      sel.GetPublishScores(),
		ObjectionDocuments: sel.GetDocumentPolicy().GetObjectionDocuments(),
		// Zero fields take the workflow's defaults (workflows.Deadlines.WithDefaults); the
		// API's validation bounds each field.
		Deadlines: workflows.Deadlines{
			ObjectionAnswerDays: int(sel.GetDeadlines().GetObjectionAnswerWorkingDays()),
			AppointmentDueDays:  int(sel.GetDeadlines().GetAppointmentDueWorkingDays()),
			ReminderLeadDays:    int(sel.GetDeadlines().GetReminderLeadWorkingDays()),
		},
	}
	for _, d := range sel.GetRequirements().GetRequiredDocuments() {
		in.Requirements.RequiredDocuments = append(in.Requirements.RequiredDocuments, d.GetId())
	}
	for _, it := range sel.GetRequirements().GetAdditionalItems() {
		in.Requirements.AdditionalItems = append(in.Requirements.AdditionalItems,
			workflows.RequirementItem{ID: it.GetId(), Title: it.GetTitle(), Description: it.GetDescription()})
	}
	for _, m := range sel.GetCommittee() {
		in.Committee = append(in.Committee, workflows.Member{
			Subject:   m.GetMemberId(),
			Name:      m.GetDisplayName(),
			Kind:      workflows.MemberKind(m.GetKind().String()),
			Role:      workflows.CommitteeRole(m.GetRole().String()),
			PostLevel: workflows.PostLevel(m.GetPostLevel().String()),
		})
	}
	w := sel.GetScoreWeights()
	for _, cw := range []struct {
		c workflows.ScoreComponent
		p uint32
	}{
		{workflows.ComponentWrittenTest, w.GetWrittenTest()},
		{workflows.ComponentCompetencyTest, w.GetCompetencyTest()},
		{workflows.ComponentPaper, w.GetPaper()},
		{workflows.ComponentInterview, w.GetInterview()},
		{workflows.ComponentTrackRecord, w.GetTrackRecord()},
	} {
		if cw.p > 0 {
			in.Weights = append(in.Weights, workflows.Weight{Component: cw.c, Percent: int(cw.p)})
		}
	}

	in.Thresholds.FinalMin = toScore(sel.GetMinFinalScore())
	// "Still meets" passes unless the selection demands "meets".
	in.Thresholds.AcceptStillMeets = sel.GetMinCompetencyCategory() != seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS
	for i, th := range sel.GetPassThresholds() {
		switch workflows.ScoreComponent(th.GetComponent().String()) {
		case workflows.ComponentCompetencyTest:
			in.Thresholds.CompetencyMin = toScore(th.GetMinScore())
		case workflows.ComponentInterview:
			in.Thresholds.InterviewMin = toScore(th.GetMinScore())
		default:
			violate(fmt.Sprintf("selection.pass_thresholds[%d].component", i),
				"pass marks apply to the competency test and the interview; other components count through the weighted final score (min_final_score)")
		}
	}

	zone := calendar.Zone(trimEnumPrefix(sel.GetTimeZone().String(), "TIME_ZONE_"))
	supplied, err := overrideYears(sel.GetHolidayOverrides())
	if err != nil {
		return workflows.SelectionInput{}, nil, err
	}
	cal, err := calendar.Build(zone, supplied)
	if err != nil {
		violate("selection.holiday_overrides", err.Error())
	}
	in.Calendar = cal
	return in, violations, nil
}

func positionTitle(sel *seleksiv1.Selection) string {
	if u := sel.GetPositionUnit(); u != "" {
		return sel.GetPositionTitle() + ", " + u
	}
	return sel.GetPositionTitle()
}

func trimEnumPrefix(name, prefix string) string {
	if len(name) > len(prefix) && name[:len(prefix)] == prefix {
		return name[len(prefix):]
	}
	return name
}

// overrideYears turns per-date overrides into the holiday lists the calendar takes. For a
// year with a shipped list, the overrides adjust it (a day off added, a listed day made a
// working day). For a year with no shipped list yet, the overrides are the list: that is how
// a selection supplies the days of a year whose decree came out after this release. Days off
// a selection adds are recorded as national holidays (the calendar knows two kinds only);
// their description names them.
func overrideYears(overrides []*seleksiv1.HolidayOverride) ([]calendar.Year, error) {
	if len(overrides) == 0 {
		return nil, nil
	}
	shipped, err := calendar.Shipped()
	if err != nil {
		return nil, fmt.Errorf("load shipped holiday lists: %w", err)
	}
	byYear := map[int]*calendar.Year{}
	var order []int
	yearOf := func(y int) *calendar.Year {
		if cy, ok := byYear[y]; ok {
			return cy
		}
		cy := &calendar.Year{Year: y, Source: calendar.SourceSelection}
		if i := slices.IndexFunc(shipped, func(s calendar.Year) bool { return s.Year == y }); i >= 0 {
			cy.Days = slices.Clone(shipped[i].Days)
		}
		byYear[y] = cy
		order = append(order, y)
		return cy
	}
	for _, o := range overrides {
		d, err := calendar.ParseDate(o.GetDate())
		if err != nil {
			return nil, fmt.Errorf("holiday override %q: %w", o.GetDate(), err)
		}
		y := yearOf(d.Year)
		y.Days = slices.DeleteFunc(y.Days, func(h calendar.Holiday) bool { return h.Date == d })
		if !o.GetWorkingDay() {
			y.Days = append(y.Days, calendar.Holiday{Date: d, Kind: calendar.NationalHoliday, NameID: o.GetDescription(), NameEN: o.GetDescription()})
		}
	}
	slices.Sort(order)
	years := make([]calendar.Year, 0, len(order))
	for _, y := range order {
		cy := byYear[y]
		slices.SortFunc(cy.Days, func(a, b calendar.Holiday) int {
			switch {
			case a.Date.Before(b.Date):
				return -1
			case b.Date.Before(a.Date):
				return 1
			}
			return 0
		})
		years = append(years, *cy)
	}
	return years, nil
}
