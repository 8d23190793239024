package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/report"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func wib(t *testing.T) calendar.Calendar {
	t.Helper()
	cal, err := calendar.Build(calendar.WIB, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func definition(t *testing.T) report.Definition {
	return report.Definition{Calendar: wib(t), Windows: workflows.Windows{AnnouncementDays: 5, ExtensionDays: 5, MaxExtensions: 2},
		PositionLevel: workflows.PostJPTPratama}
}

var committee = []store.CommitteeMember{
	{MemberID: "act-chair", DisplayName: "Prof. Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"},
	{MemberID: "act-m1", DisplayName: "Anggota Satu", Kind: "MEMBER_KIND_INTERNAL", Role: "COMMITTEE_ROLE_MEMBER", PostLevel: "POST_LEVEL_JPT_PRATAMA"},
	{MemberID: "act-m2", DisplayName: "Anggota Dua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_MEMBER"},
	{MemberID: "act-m3", DisplayName: "Anggota Tiga", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_MEMBER"},
	{MemberID: "act-m4", DisplayName: "Anggota Empat", Kind: "MEMBER_KIND_INTERNAL", Role: "COMMITTEE_ROLE_SECRETARY", PostLevel: "POST_LEVEL_JPT_MADYA"},
}

// fixture is a selection in the interview's objection phase: a five-day announcement from
// Monday 2 March 2026, two applications, interview scores by two members and a member who
// declared a conflict with the second application (after scoring it), the interview result
// published, and one objection filed on Wednesday 1 April 2026 and answered at answered. Its
// deadline is three working days after the day it was filed: Good Friday (3 April) does not
// count, so the end of Tuesday 7 April in WIB (17:00 UTC).
type fixture struct {
	st     *store.Store
	id     string
	a, b   string
	events int64
}

func newFixture(t *testing.T, st *store.Store, id string, answered time.Time) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{st: st, id: id}
	opens := utc("2026-03-02T01:00:00Z")
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "req-" + id, WorkflowID: "selection-" + id,
		PositionTitle: "Kepala Dinas Kesehatan", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB",
		Config: []byte(`{}`), Committee: committee, Actor: store.Actor{Subject: "act-admin", Role: "ROLE_ADMIN"}, Now: opens}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + id, SelectionID: id, Key: "window-0",
		Window: store.Window{Opens: opens, Closes: utc("2026-03-06T17:00:00Z"), ClosesWall: utc("2026-03-06T17:00:00Z")}}, opens); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Calon Pertama", "Calon Kedua"} {
		app, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: id, RequestID: fmt.Sprintf("sub-%d", i), Owner: fmt.Sprintf("act-cand-%d", i),
			Candidate: store.Candidate{Subject: fmt.Sprintf("cand-%d", i), FullName: name, NIP: fmt.Sprintf("19750615200001100%d", i),
				Email: fmt.Sprintf("c%d@example.go.id", i), BirthDate: "1975-06-15"},
			Profile: []byte(`{}`), Statement: "Motivasi", Facts: store.Facts{Documents: []string{}}, Now: utc("2026-03-03T02:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			f.a = app.ID
		} else {
			f.b = app.ID
		}
	}
	const interview = "STAGE_INTERVIEW"
	score := func(member string, at time.Time, scores map[string]int64) store.Command {
		var lines []map[string]any
		for _, app := range []string{f.a, f.b} {
			if v, ok := scores[app]; ok {
				lines = append(lines, map[string]any{"applicationId": app, "scores": []map[string]any{{"component": "SCORE_COMPONENT_INTERVIEW", "score": v}}})
			}
		}
		p, _ := json.Marshal(map[string]any{"actor": map[string]string{"subject": member}, "stage": interview, "results": lines})
		return store.Command{Kind: workflows.CmdRecordResults, Actor: store.Actor{Subject: member, Role: "ROLE_COMMITTEE"}, At: at,
			Stage: interview, Phase: "OPEN", Payload: p}
	}
	conflict, _ := json.Marshal(map[string]any{"applicationIds": []string{f.b}})
	objection := store.Objection{ID: "INTERVIEW:" + f.b, ApplicationID: f.b, Stage: interview, Candidate: "act-cand-1",
		Reason: "nilai keliru", State: "OBJECTION_STATE_PENDING", FileTime: utc("2026-04-01T03:00:00Z")}
	answer := objection
	answer.State, answer.Answer, answer.AnsweredBy, answer.AnswerTime = "OBJECTION_STATE_REJECTED", "nilai sudah benar", "act-chair", answered
	objTarget := "selections/" + id + "/applications/" + f.b + "/objections/" + objection.ID
	cmds := []store.Command{
		score("act-m1", utc("2026-03-25T03:00:00Z"), map[string]int64{f.a: 8000, f.b: 7000}),
		score("act-m2", utc("2026-03-25T04:00:00Z"), map[string]int64{f.a: 9050, f.b: 6000}),
		score("act-m3", utc("2026-03-25T05:00:00Z"), map[string]int64{f.a: 7000, f.b: 9900}),
		{Kind: workflows.CmdDeclareConflict, Actor: store.Actor{Subject: "act-m3", Role: "ROLE_COMMITTEE"}, At: utc("2026-03-26T03:00:00Z"),
			Stage: interview, Phase: "OPEN", Payload: conflict, Reason: "saudara",
			Conflicts: []store.Conflict{{MemberID: "act-m3", ApplicationID: f.b, Relationship: "relative", DeclaredBy: "act-m3"}}},
		{Kind: workflows.CmdAdvance, Actor: store.Actor{Subject: "act-chair", Role: "ROLE_COMMITTEE"}, At: utc("2026-03-31T03:00:00Z"),
			Stage: interview, Phase: "OBJECTIONS", Target: "selections/" + id + "/results/" + interview,
			Result: &store.StageResult{Stage: interview, Revision: 1, PublishedAt: utc("2026-03-31T03:00:00Z"),
				ObjectionDeadline: utc("2026-04-03T17:00:00Z"), Entries: []store.ResultEntry{
					{ApplicationID: f.a, Outcome: "OUTCOME_PASS"}, {ApplicationID: f.b, Outcome: "OUTCOME_FAIL", Reason: "di bawah ambang"}}}},
		{Kind: workflows.CmdFileObjection, Actor: store.Actor{Subject: "act-cand-1", Role: "ROLE_CANDIDATE"}, At: objection.FileTime,
			Stage: interview, Phase: "OBJECTIONS", Target: objTarget, Objection: &objection},
	}
	if !answered.IsZero() {
		cmds = append(cmds, store.Command{Kind: workflows.CmdAnswerObjection, Actor: store.Actor{Subject: "act-chair", Role: "ROLE_COMMITTEE"},
			At: answered, Stage: interview, Phase: "OBJECTIONS", Target: objTarget, Objection: &answer})
	}
	for i, c := range cmds {
		c.WorkflowID, c.SelectionID, c.Key, c.Seq = "selection-"+id, id, fmt.Sprintf("cmd-%d", i), int64(i+1)
		if applied, err := st.ApplyCommand(ctx, c); err != nil || !applied {
			t.Fatalf("apply %s: %v, %v", c.Kind, applied, err)
		}
	}
	return f
}

func (f fixture) facts(t *testing.T) report.Facts {
	t.Helper()
	sel, err := f.st.GetSelection(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := report.Load(context.Background(), f.st, sel, definition(t))
	if err != nil {
		t.Fatal(err)
	}
	return facts
}

// TestMeritComplianceObjections: the report flags the selection whose objection was answered
// after its deadline (Wednesday 8 April, past the end of Tuesday 7 April with Good Friday not
// counted) and not the one answered on the last day, on both databases; the late item links
// the objection's filing and answer events.
func TestMeritComplianceObjections(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			st := storetest.Open(t, d.URL(t))
			now := utc("2026-04-10T00:00:00Z")
			for _, tc := range []struct {
				id       string
				answered time.Time
				status   report.Status
				finding  string
			}{
				{"sel-late", utc("2026-04-08T02:00:00Z"), report.StatusNotMet, "report.objections_on_time.late"},
				{"sel-ontime", utc("2026-04-07T09:00:00Z"), report.StatusMet, "report.objections_on_time.answered"},
				{"sel-unanswered", time.Time{}, report.StatusNotMet, "report.objections_on_time.overdue"},
			} {
				f := newFixture(t, st, tc.id, tc.answered)
				c := report.MeritCompliance(f.facts(t), now)
				it, ok := c.Item(report.ItemObjectionsOnTime)
				if !ok {
					t.Fatalf("%s: no objections item in %+v", tc.id, c.Items)
				}
				if it.Status != tc.status || len(it.Findings) != 1 || it.Findings[0].Code != tc.finding {
					t.Errorf("%s: objections item = %+v, want %s with %s", tc.id, it, tc.status, tc.finding)
				}
				if tc.finding == "report.objections_on_time.late" && it.Findings[0].Params["due"] != "2026-04-07T17:00:00Z" {
					t.Errorf("%s: due = %q, want the end of 7 April in WIB", tc.id, it.Findings[0].Params["due"])
				}
				// Filing and (when answered) the answer: the events after the creation, two
				// submissions, three score sheets, the declaration and the publication.
				want := []int64{9}
				if !tc.answered.IsZero() {
					want = append(want, 10)
				}
				if !slices.Equal(it.Evidence, want) {
					t.Errorf("%s: evidence = %v, want %v", tc.id, it.Evidence, want)
				}
			}
		})
	}
}

// TestMeritComplianceItems: on the fixture the announcement window of five working days is
// met, the committee is well formed, the recusal was honoured (m3 scored the application
// before declaring, never after), the stages passed without a published result are named,
// and the PPK's choice does not apply yet.
func TestMeritComplianceItems(t *testing.T) {
	st := storetest.Open(t, storetest.Drivers()[0].URL(t))
	f := newFixture(t, st, "sel-items", utc("2026-04-07T09:00:00Z"))
	facts := f.facts(t)
	c := report.MeritCompliance(facts, utc("2026-04-10T00:00:00Z"))
	status := map[string]report.Status{}
	for _, it := range c.Items {
		status[it.Code] = it.Status
	}
	want := map[string]report.Status{
		report.ItemAnnouncementWindow: report.StatusMet, report.ItemCommitteeComposition: report.StatusMet,
		report.ItemConflictsRecusals: report.StatusMet, report.ItemStagesPublished: report.StatusNotMet,
		report.ItemObjectionsOnTime: report.StatusMet, report.ItemChoiceJustified: report.StatusNotApplicable,
	}
	for code, s := range want {
		if status[code] != s {
			t.Errorf("%s = %s, want %s", code, status[code], s)
		}
	}
	pub, _ := c.Item(report.ItemStagesPublished)
	var missing []string
	for _, m := range pub.Findings {
		if m.Code == "report.stages_published.missing" {
			missing = append(missing, m.Params["stage"])
		}
	}
	if !slices.Equal(missing, []string{"STAGE_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST"}) {
		t.Errorf("missing stages = %v", missing)
	}

	// A window that should have lasted seven working days was too short.
	facts.Definition.Windows.AnnouncementDays = 7
	c = report.MeritCompliance(facts, utc("2026-04-10T00:00:00Z"))
	if it, _ := c.Item(report.ItemAnnouncementWindow); it.Status != report.StatusNotMet || it.Findings[0].Params["days"] != "5" {
		t.Errorf("window item with 7 days required = %+v", it)
	}

	// A score recorded by the recused member after the declaration is caught.
	p, _ := json.Marshal(map[string]any{"stage": "STAGE_INTERVIEW", "results": []map[string]any{{"applicationId": f.b,
		"scores": []map[string]any{{"component": "SCORE_COMPONENT_INTERVIEW", "score": 10000}}}}})
	facts.Events = append(facts.Events, store.AuditEvent{Seq: 99, Action: workflows.CmdRecordResults, ActorSubject: "act-m3", Payload: p})
	c = report.MeritCompliance(facts, utc("2026-04-10T00:00:00Z"))
	if it, _ := c.Item(report.ItemConflictsRecusals); it.Status != report.StatusNotMet || !slices.Contains(it.Evidence, 99) {
		t.Errorf("recusal item with a score after the declaration = %+v", it)
	}
}

// TestComposition table-tests the committee rules.
func TestComposition(t *testing.T) {
	member := func(kind, role, level string) store.CommitteeMember {
		return store.CommitteeMember{MemberID: "x", DisplayName: "M " + kind + " " + level, Kind: "MEMBER_KIND_" + kind, Role: "COMMITTEE_ROLE_" + role, PostLevel: level}
	}
	ext := member("EXTERNAL", "MEMBER", "")
	in := member("INTERNAL", "MEMBER", "POST_LEVEL_JPT_PRATAMA")
	chair := member("EXTERNAL", "CHAIR", "")
	low := member("INTERNAL", "MEMBER", "POST_LEVEL_ADMINISTRATOR")
	tests := []struct {
		name     string
		members  []store.CommitteeMember
		findings []string
	}{
		{"five, two internal", []store.CommitteeMember{chair, ext, ext, in, in}, []string{"ok"}},
		{"nine, four internal", []store.CommitteeMember{chair, ext, ext, ext, ext, in, in, in, in}, []string{"ok"}},
		{"even size", []store.CommitteeMember{chair, ext, ext, in, in, ext}, []string{"size"}},
		{"three members", []store.CommitteeMember{chair, ext, in}, []string{"size"}},
		{"eleven members", []store.CommitteeMember{chair, ext, ext, ext, ext, ext, ext, in, in, in, in}, []string{"size"}},
		{"three internal of five (60%)", []store.CommitteeMember{chair, ext, in, in, in}, []string{"internal_share"}},
		{"internal below the post", []store.CommitteeMember{chair, ext, ext, in, low}, []string{"internal_level"}},
		{"no chair", []store.CommitteeMember{ext, ext, ext, in, in}, []string{"chairs"}},
		{"two chairs", []store.CommitteeMember{chair, chair, ext, in, in}, []string{"chairs"}},
		{"everything wrong", []store.CommitteeMember{in, in, low, ext}, []string{"size", "internal_share", "internal_level", "chairs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := report.Composition(tc.members, workflows.PostJPTPratama)
			var got []string
			for _, f := range it.Findings {
				got = append(got, strings.TrimPrefix(f.Code, "report.committee_composition."))
			}
			if !slices.Equal(got, tc.findings) {
				t.Errorf("findings = %v, want %v", got, tc.findings)
			}
			wantStatus := report.StatusNotMet
			if slices.Equal(tc.findings, []string{"ok"}) {
				wantStatus = report.StatusMet
			}
			if it.Status != wantStatus {
				t.Errorf("status = %s, want %s", it.Status, wantStatus)
			}
		})
	}
}

// TestScoreRecapXLSX: the interview recap lists each member's score, shows the recused
// member's cell as recused (not the 99.00 given before the declaration), takes the mean of
// the others as the stage score, and carries the outcome; the workbook opened with excelize
// has the header and the same cells, on both databases.
func TestScoreRecapXLSX(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			st := storetest.Open(t, d.URL(t))
			f := newFixture(t, st, "sel-recap", utc("2026-04-07T09:00:00Z"))
			r, err := report.ScoreRecap(f.facts(t), "STAGE_INTERVIEW", utc("2026-04-10T00:00:00Z"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Revision != 1 || len(r.Rows) != 2 || len(r.Members) != 5 {
				t.Fatalf("recap = %+v", r)
			}
			var buf bytes.Buffer
			if err := report.WriteXLSX(&buf, cat, r); err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = x.Close() }()
			rows, err := x.GetRows("Rekap")
			if err != nil {
				t.Fatal(err)
			}
			cell := func(row, col int) string {
				if row >= len(rows) || col >= len(rows[row]) {
					return ""
				}
				return rows[row][col]
			}
			if cell(1, 1) != "sel-recap" || !strings.Contains(cell(2, 1), "wawancara") || cell(3, 1) != "1" {
				t.Errorf("sheet header = %q", rows[:4])
			}
			header := rows[7]
			col := func(name string) int {
				i := slices.IndexFunc(header, func(h string) bool { return strings.Contains(h, name) })
				if i < 0 {
					t.Fatalf("no column %q in %q", name, header)
				}
				return i
			}
			a, b := 8, 9
			if cell(a, 1) != f.a || cell(a, 2) != "Calon Pertama" || cell(b, 2) != "Calon Kedua" {
				t.Errorf("rows = %q", rows[8:])
			}
			for _, c := range []struct {
				row  int
				col  string
				want string
			}{
				{a, "Anggota Satu", "80.00"}, {a, "Anggota Dua", "90.50"}, {a, "Anggota Tiga", "70.00"}, {a, "Prof. Ketua", ""},
				{a, "Nilai akhir", "80.17"}, {a, "Hasil", "lulus / passed"},
				{b, "Anggota Satu", "70.00"}, {b, "Anggota Dua", "60.00"}, {b, "Anggota Tiga", "dikecualikan (konflik kepentingan) / recused (conflict of interest)"},
				{b, "Nilai akhir", "65.00"}, {b, "Hasil", "tidak lulus / not passed"},
			} {
				if got := cell(c.row, col(c.col)); got != c.want {
					t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
				}
			}
		})
	}
}

// TestDashboardDaysLeftAcrossHoliday: on Wednesday 1 April 2026 a window whose last day is
// Tuesday 7 April has four working days left, Good Friday (3 April) and the weekend not
// counted; on the last day one is left and after the close none.
func TestDashboardDaysLeftAcrossHoliday(t *testing.T) {
	def := definition(t)
	ends := utc("2026-04-07T17:00:00Z") // end of 7 April in WIB
	for _, tc := range []struct {
		now  time.Time
		want int
	}{
		{utc("2026-04-01T03:00:00Z"), 4},
		{utc("2026-04-02T16:59:00Z"), 3}, // 23:59 WIB on Thursday: Thursday, Monday, Tuesday
		{utc("2026-04-02T17:00:00Z"), 2}, // Friday 00:00 WIB: Monday and Tuesday left
		{utc("2026-04-07T10:00:00Z"), 1},
		{utc("2026-04-07T17:00:00Z"), 0},
	} {
		got, err := report.WorkingDaysLeft(def, tc.now, ends)
		if err != nil || got != tc.want {
			t.Errorf("days left at %s = %d, %v; want %d", tc.now, got, err, tc.want)
		}
	}
}

// TestDashboard: the dashboard of the store lists each selection with its objection window
// and days left, and the unanswered objection past its deadline as overdue; sorting by
// overdue items puts that selection first.
func TestDashboard(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			st := storetest.Open(t, d.URL(t))
			newFixture(t, st, "sel-a-answered", utc("2026-04-07T09:00:00Z"))
			newFixture(t, st, "sel-b-open", time.Time{})
			define := func(store.Selection) (report.Definition, error) { return definition(t), nil }
			rows, err := report.Dashboard(context.Background(), st, define, utc("2026-04-08T03:00:00Z"))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].SelectionID != "sel-a-answered" {
				t.Fatalf("rows = %+v", rows)
			}
			// The objection window of the interview closed on 3 April: nothing left.
			if rows[0].Window != report.WindowObjections || rows[0].DaysLeft != 0 || len(rows[0].Overdue) != 0 {
				t.Errorf("answered row = %+v", rows[0])
			}
			if len(rows[1].Overdue) != 1 || rows[1].Overdue[0].Kind != report.OverdueObjection ||
				!rows[1].Overdue[0].Due.Equal(utc("2026-04-07T17:00:00Z")) {
				t.Errorf("open row overdue = %+v", rows[1].Overdue)
			}
			report.SortDashboard(rows, report.SortOverdue)
			if rows[0].SelectionID != "sel-b-open" {
				t.Errorf("sorted by overdue: first = %s", rows[0].SelectionID)
			}
		})
	}
}

// TestFindingsRender: every title and finding the report produces on the fixtures (late,
// unanswered, a too-short window, a broken committee, a score while recused) renders from
// the catalog in both languages with all its parameters.
func TestFindingsRender(t *testing.T) {
	cat, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, storetest.Drivers()[0].URL(t))
	now := utc("2026-04-10T00:00:00Z")
	var msgs []i18n.Msg
	for _, f := range []fixture{newFixture(t, st, "sel-late", utc("2026-04-08T02:00:00Z")), newFixture(t, st, "sel-open", time.Time{})} {
		facts := f.facts(t)
		for _, days := range []int{5, 7} {
			facts.Definition.Windows.AnnouncementDays = days
			for _, it := range report.MeritCompliance(facts, now).Items {
				msgs = append(msgs, append(it.Findings, i18n.Msg{Code: "report." + it.Code + ".title"})...)
			}
		}
	}
	msgs = append(msgs, report.Composition(nil, workflows.PostJPTPratama).Findings...)
	for _, m := range msgs {
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			if s, err := cat.RenderStrict(m, l); err != nil || strings.Contains(s, "report.") {
				t.Errorf("%s in %s: %q, %v", m.Code, l, s, err)
			}
		}
	}
}
