package workflows

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Recording histories for TestReplay. The test environment keeps no history, so the recorder
// runs real selections against a Temporal server (the embedded one of seleksid, a dev server,
// or any cluster), with in-memory activities and a compressed time scale, drives them by
// polling the state query, and writes each closed history to testdata/<scenario>.json:
//
//	go test ./workflows -run TestRecordHistories -count=1 -args -record -temporal=localhost:7233
//
// Record again (and review the diff) whenever a change is meant to alter histories, after
// making running selections safe with workflow.GetVersion.
var (
	recordFlag    = flag.Bool("record", false, "record workflow histories into testdata/ against a Temporal server")
	temporalFlag  = flag.String("temporal", "localhost:7233", "Temporal frontend host:port for -record")
	namespaceFlag = flag.String("namespace", "default", "Temporal namespace for -record")
	// scenarioFlag records only the named scenarios, so that adding one leaves the recorded
	// histories of the others as they are.
	scenarioFlag = flag.String("scenario", "", "comma-separated scenarios to record with -record; empty records all")
)

// recordingStore is the Activities implementation of the recorder: one snapshot list per
// workflow.
type recordingStore struct {
	mu        sync.Mutex
	snapshots map[string][][]SnapshotApplication
	calls     map[string]int
	// refuseClose lists the workflows whose announcement close the store refuses (invalid
	// data), until heal.
	refuseClose map[string]bool
}

func (s *recordingStore) ProjectWindow(context.Context, WindowProjection) error   { return nil }
func (s *recordingStore) ProjectBlocked(context.Context, BlockedProjection) error { return nil }

func (s *recordingStore) ApplyCommand(_ context.Context, rec CommandRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.Kind == EvtClosed && s.refuseClose[rec.WorkflowID] {
		return temporal.NewNonRetryableApplicationError("the store refuses the close", ErrTypeInvalidData, nil)
	}
	return nil
}

func (s *recordingStore) heal(workflowID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refuseClose, workflowID)
}

func (s *recordingStore) SnapshotApplications(_ context.Context, req SnapshotRequest) (Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[req.WorkflowID]++
	list := s.snapshots[req.WorkflowID]
	i := min(s.calls[req.WorkflowID], len(list)) - 1
	var apps []SnapshotApplication
	if i >= 0 {
		apps = list[i]
	}
	return Snapshot{Applications: apps, Digest: fmt.Sprintf("sha256:%s:%d", req.Key, len(apps))}, nil
}

// driver runs one scenario.
type driver struct {
	t    *testing.T
	c    client.Client
	id   string
	in   SelectionInput
	run  client.WorkflowRun
	seq  int
	name string
}

// fatalf ends the scenario's goroutine; t.Fatal may only be called from the test goroutine.
func (d *driver) fatalf(format string, args ...any) {
	d.t.Errorf(format, args...)
	runtime.Goexit()
}

func (d *driver) state(ctx context.Context) *SelectionState {
	v, err := d.c.QueryWorkflow(ctx, d.id, "", QueryState)
	if err != nil {
		d.fatalf("%s: query: %v", d.name, err)
	}
	var st SelectionState
	if err := v.Get(&st); err != nil {
		d.fatalf("%s: %v", d.name, err)
	}
	return &st
}

// waitFor polls the state until cond holds.
func (d *driver) waitFor(ctx context.Context, what string, cond func(*SelectionState) bool) *SelectionState {
	for {
		st := d.state(ctx)
		if cond(st) {
			return st
		}
		select {
		case <-ctx.Done():
			d.fatalf("%s: waiting for %s: %v", d.name, what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *driver) stageOpen(ctx context.Context, stage Stage) *SelectionState {
	return d.waitFor(ctx, string(stage), func(st *SelectionState) bool { return st.Stage == stage && st.Phase == PhaseOpen })
}

func (d *driver) update(ctx context.Context, name string, arg any) UpdateResult {
	d.seq++
	h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: d.id, UpdateName: name, UpdateID: fmt.Sprintf("rec-%03d", d.seq), Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		d.fatalf("%s: update %s: %v", d.name, name, err)
	}
	var r UpdateResult
	if err := h.Get(ctx, &r); err != nil {
		d.fatalf("%s: update %s: %v", d.name, name, err)
	}
	return r
}

// rejected sends an update that must be rejected; rejected updates leave no history, which
// the replay then also checks.
func (d *driver) rejected(ctx context.Context, name string, arg any) {
	d.seq++
	h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: d.id, UpdateName: name, UpdateID: fmt.Sprintf("rec-%03d", d.seq), Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if _, ok := MessageOf(err); !ok {
		d.fatalf("%s: update %s: want a rejection, got %v", d.name, name, err)
	}
}

func (d *driver) save(ctx context.Context) {
	var r SelectionResult
	if err := d.run.Get(ctx, &r); err != nil {
		d.fatalf("%s: workflow: %v", d.name, err)
	}
	iter := d.c.GetWorkflowHistory(ctx, d.id, d.run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			d.fatalf("%s: %v", d.name, err)
		}
		hist.Events = append(hist.Events, e)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		d.fatalf("%s: %v", d.name, err)
	}
	path := filepath.Join("testdata", d.name+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		d.fatalf("%s: %v", d.name, err)
	}
	d.t.Logf("%s: %d events, result stage %s, written to %s", d.name, len(hist.Events), r.Stage, path)
}

func recordInput(t *testing.T, id string) SelectionInput {
	in := testInput(t)
	in.SelectionID = id
	// One selection day lasts two seconds, so a whole selection records in about a minute.
	in.TimeScale.SecondsPerDay = 2
	// Recording may run in a year without a shipped list; supply a minimal one (test data).
	var supplied []calendar.Year
	for y := 2027; y <= 2030; y++ {
		supplied = append(supplied, calendar.Year{Year: y, Days: []calendar.Holiday{
			{Date: calendar.Date{Year: y, Month: time.January, Day: 1}, Kind: calendar.NationalHoliday, NameEN: "New Year's Day"}}})
	}
	cal, err := calendar.Build(calendar.WIB, supplied)
	if err != nil {
		t.Fatal(err)
	}
	in.Calendar = cal
	return in
}

func TestRecordHistories(t *testing.T) {
	if !*recordFlag {
		t.Skip("recording needs a Temporal server: -args -record -temporal=HOST:PORT")
	}
	c, err := client.Dial(client.Options{HostPort: *temporalFlag, Namespace: *namespaceFlag})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	store := &recordingStore{snapshots: map[string][][]SnapshotApplication{}, calls: map[string]int{}, refuseClose: map[string]bool{}}
	suffix := fmt.Sprintf("%d", time.Now().Unix())
	taskQueue := "seleksi-record-" + suffix
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(SelectionWorkflow)
	w.RegisterActivity(store)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	type scenario struct {
		name      string
		snapshots func(now time.Time) [][]SnapshotApplication
		change    func(*SelectionInput)
		drive     func(ctx context.Context, d *driver)
	}
	scenarios := []scenario{
		{"happy-path", func(now time.Time) [][]SnapshotApplication {
			l := apps(5, now)
			l[4].Facts.AgeAtClose = 57
			return [][]SnapshotApplication{l}
		}, nil, driveHappy},
		{"objections-recusal-withdrawal", func(now time.Time) [][]SnapshotApplication {
			l := apps(5, now)
			l[4].Facts.AgeAtClose = 57
			return [][]SnapshotApplication{l}
		}, nil, driveObjections},
		{"extended-then-postponed", func(now time.Time) [][]SnapshotApplication {
			return [][]SnapshotApplication{apps(1, now), apps(2, now)}
		}, func(in *SelectionInput) { in.Windows.MaxExtensions = 1 }, func(context.Context, *driver) {}},
		{"cancelled-at-competency", func(now time.Time) [][]SnapshotApplication {
			return [][]SnapshotApplication{apps(3, now)}
		}, nil, driveCancelled},
		// Scheduled two selection days ahead (four seconds), opened by the timer, closed with
		// three applications, then cancelled during administrative screening.
		{"scheduled-opened-then-cancelled", func(now time.Time) [][]SnapshotApplication {
			return [][]SnapshotApplication{apps(3, now)}
		}, func(in *SelectionInput) {
			in.AnnouncementOpensAt = time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
		},
			driveScheduled},
		// Screening item by item with an agency item, one override with a note, publication
		// refused while an item is unknown, and objections answered item by item (one item
		// accepted, which re-publishes the result; one refused).
		{"checklist-items", func(now time.Time) [][]SnapshotApplication {
			l := apps(5, now)
			l[2].Facts.Documents = []string{"SURAT_SEHAT"}
			l[3].Facts.Education = ""
			l[4].Facts.AgeAtClose = 57
			return [][]SnapshotApplication{l}
		}, func(in *SelectionInput) {
			in.Requirements.AdditionalItems = []RequirementItem{{ID: "pakta-integritas", Title: "Pakta integritas"}}
		}, driveChecklist},
		// An absence at the competency test eliminates app-0003 (a candidate's attempt to
		// record one is refused); the others are scored and the result published; the
		// candidates who had not finished applying were reminded before the close.
		{"absent-at-competency", func(now time.Time) [][]SnapshotApplication {
			return [][]SnapshotApplication{apps(4, now)}
		}, nil, driveAbsence},
		{"blocked-then-resumed", func(now time.Time) [][]SnapshotApplication {
			return [][]SnapshotApplication{apps(3, now)}
		}, nil, func(ctx context.Context, d *driver) { driveBlocked(ctx, d, store) }},
	}

	var wg sync.WaitGroup
	for _, sc := range scenarios {
		if *scenarioFlag != "" && !slices.Contains(strings.Split(*scenarioFlag, ","), sc.name) {
			continue
		}
		d := &driver{t: t, c: c, name: sc.name, in: recordInput(t, "rec-"+sc.name)}
		if sc.change != nil {
			sc.change(&d.in)
		}
		d.id = WorkflowID(d.in.SelectionID) + "-" + suffix
		store.mu.Lock()
		store.snapshots[d.id] = sc.snapshots(time.Now())
		store.refuseClose[d.id] = sc.name == "blocked-then-resumed"
		store.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: d.id, TaskQueue: taskQueue}, SelectionWorkflow, d.in)
			d.run = run
			if err != nil {
				t.Errorf("%s: start: %v", d.name, err)
				return
			}
			sc.drive(ctx, d)
			d.save(ctx)
		}()
	}
	wg.Wait()
}

func screeningVerdicts() []ResultInput {
	return []ResultInput{
		{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
		{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass},
		{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"},
	}
}

func competencySheet() []ResultInput {
	return []ResultInput{
		sheet(1, CategoryMeets, 8000, 8500, 8000, 8000), sheet(2, CategoryMeets, 8500, 9000, 8500, 8500),
		sheet(3, CategoryStillMeets, 7000, 7500, 7000, 7000), sheet(4, CategoryDoesNotMeet, 6000, 5000, 6000, 6000),
	}
}

func (d *driver) decideAndAppoint(ctx context.Context, pick int) {
	st := d.stageOpen(ctx, StageCommitteeDecision)
	want := (&selection{in: d.in, st: st}).expectedShortlist(st)
	var sl []ShortlistInput
	for i, a := range want {
		sl = append(sl, ShortlistInput{ApplicationID: a.ID, Reason: fmt.Sprintf("rank %d on the final score", i+1)})
	}
	d.update(ctx, UpdateDecide, DecideArgs{Actor: committee(chair), Shortlist: sl})
	d.waitFor(ctx, "appointment phase", func(st *SelectionState) bool { return st.Phase == PhaseAppointment })
	d.update(ctx, UpdateAppoint, AppointArgs{Actor: adminActor, ApplicationID: want[pick].ID, PPKDecreeRef: "Wali Kota Contoh",
		OversightRecommendationRef: "R-77/BKN/2026", Reason: "experience in the regional health programme",
		Justification: "led the regional health programme the post runs"})
}

func driveHappy(ctx context.Context, d *driver) {
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening, Results: screeningVerdicts()})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	d.stageOpen(ctx, StageCompetencyTest)
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageCompetencyTest, Results: competencySheet()})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageCompetencyTest})
	d.stageOpen(ctx, StageInterview)
	for _, m := range allMembers {
		res := append(interviewScores(8000, 1), interviewScores(8500, 2)...)
		d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(m), Stage: StageInterview, Results: append(res, interviewScores(7000, 3)...)})
	}
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageInterview})
	d.decideAndAppoint(ctx, 1)
}

func driveObjections(ctx context.Context, d *driver) {
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateDeclareConflict, DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}, Reason: "former subordinate"})
	d.rejected(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(member3), Stage: StageAdministrativeScreening, Results: screeningVerdicts()})
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening, Results: screeningVerdicts()})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	d.update(ctx, UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: StageAdministrativeScreening, Reason: "I am 56"})
	d.update(ctx, UpdateFileObjection, FileObjectionArgs{Actor: candidate(3), ApplicationID: appID(3), Stage: StageAdministrativeScreening, Reason: "publish my score"})
	d.update(ctx, UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(StageAdministrativeScreening, appID(3)),
		Answer: "screening has no scores"})
	d.update(ctx, UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(StageAdministrativeScreening, appID(5)),
		Accept: true, Answer: "verified against the birth certificate", Correction: &ResultInput{Outcome: OutcomePass, Reason: "56 at the close"}})
	d.stageOpen(ctx, StageCompetencyTest)
	d.update(ctx, UpdateWithdrawApplication, WithdrawArgs{Actor: candidate(4), ApplicationID: appID(4), Reason: "took another post"})
	sh := competencySheet()[:3]
	sh = append(sh, sheet(5, CategoryMeets, 7800, 8000, 7800, 7800))
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageCompetencyTest, Results: sh})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(secretary), Stage: StageCompetencyTest})
	d.stageOpen(ctx, StageInterview)
	for _, m := range allMembers {
		ids := []int{1, 2, 3, 5}
		if m == member3 {
			ids = []int{2, 3, 5}
		}
		d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(m), Stage: StageInterview, Results: interviewScores(8000, ids...)})
	}
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageInterview})
	d.decideAndAppoint(ctx, 0)
}

func driveScheduled(ctx context.Context, d *driver) {
	d.waitFor(ctx, string(StageScheduled), func(st *SelectionState) bool { return st.Stage == StageScheduled && st.Seq == 1 })
	d.stageOpen(ctx, StageAnnouncement)
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateCancel, CancelArgs{Actor: adminActor, Reason: "the post was merged by the new organisation decree"})
}

func driveCancelled(ctx context.Context, d *driver) {
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening, Results: []ResultInput{
		{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass}, {ApplicationID: appID(3), Outcome: OutcomePass}}})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	d.stageOpen(ctx, StageCompetencyTest)
	d.update(ctx, UpdateCancel, CancelArgs{Actor: adminActor, Reason: "the post was merged by the new organisation decree"})
}

func driveAbsence(ctx context.Context, d *driver) {
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening, Results: []ResultInput{
		{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
		{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomePass}}})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	d.stageOpen(ctx, StageCompetencyTest)
	absent := RecordAbsenceArgs{Actor: adminActor, ApplicationID: appID(3), Stage: StageCompetencyTest, Session: "sessions/ses-1",
		Note: "tidak hadir tanpa keterangan"}
	byCandidate := absent
	byCandidate.Actor = candidate(3)
	d.rejected(ctx, UpdateRecordAbsence, byCandidate)
	d.update(ctx, UpdateRecordAbsence, absent)
	var sheets []ResultInput
	for _, r := range competencySheet() {
		if r.ApplicationID != appID(3) {
			sheets = append(sheets, r)
		}
	}
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageCompetencyTest, Results: sheets})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageCompetencyTest})
	d.stageOpen(ctx, StageInterview)
	d.update(ctx, UpdateCancel, CancelArgs{Actor: adminActor, Reason: "the post was merged by the new organisation decree"})
}

// driveBlocked: the store refuses the announcement's close; the selection blocks and retries,
// the store is healed and the secretariat resumes it, then cancels it.
func driveBlocked(ctx context.Context, d *driver, store *recordingStore) {
	// By the fourth attempt the next one is 8 s away, time enough to resume first.
	d.waitFor(ctx, "blocked", func(st *SelectionState) bool { return st.Blocked != nil && st.Blocked.Attempts >= 4 })
	store.heal(d.id)
	d.update(ctx, UpdateResume, ResumeArgs{Actor: adminActor, Reason: "row restored"})
	d.stageOpen(ctx, StageAdministrativeScreening)
	d.update(ctx, UpdateCancel, CancelArgs{Actor: adminActor, Reason: "recording over"})
}

func driveChecklist(ctx context.Context, d *driver) {
	screening := StageAdministrativeScreening
	d.stageOpen(ctx, screening)
	pakta := ItemVerdict{Item: "pakta-integritas", Met: true}
	d.rejected(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening, Results: []ResultInput{
		{ApplicationID: appID(5), Items: []ItemVerdict{{Item: ItemAge, Met: true}}}}})
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening, Results: []ResultInput{
		{ApplicationID: appID(1), Outcome: OutcomePass, Items: []ItemVerdict{pakta}},
		{ApplicationID: appID(2), Items: []ItemVerdict{pakta, {Item: "document:LHKPN", Met: false, Note: "LHKPN tahun 2019"}}},
		{ApplicationID: appID(3), Items: []ItemVerdict{pakta}},
		{ApplicationID: appID(4), Items: []ItemVerdict{pakta}},
		{ApplicationID: appID(5), Items: []ItemVerdict{pakta}},
	}})
	d.rejected(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	d.update(ctx, UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening, Results: []ResultInput{
		{ApplicationID: appID(4), Items: []ItemVerdict{{Item: ItemEducation, Met: true, Note: "ijazah S2 diperiksa"}}}}})
	d.update(ctx, UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening})
	d.update(ctx, UpdateFileObjection, FileObjectionArgs{Actor: candidate(2), ApplicationID: appID(2), Stage: screening,
		Reason: "LHKPN 2025 sudah diunggah", Items: []string{"document:LHKPN"}})
	d.update(ctx, UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening,
		Reason: "usia salah hitung", Items: []string{ItemAge}})
	d.update(ctx, UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(2)),
		Accept: true, Answer: "diterima", Items: []ItemAnswer{{Item: "document:LHKPN", Accepted: true, Answer: "LHKPN 2025 ada di berkas"}}})
	d.update(ctx, UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair), ObjectionID: ObjectionID(screening, appID(5)),
		Answer: "ditolak", Items: []ItemAnswer{{Item: ItemAge, Answer: "akta kelahiran menunjukkan 57 tahun"}}})
	d.stageOpen(ctx, StageCompetencyTest)
	d.update(ctx, UpdateCancel, CancelArgs{Actor: adminActor, Reason: "recording over"})
}
