package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Test fixtures: a selection opening on Monday 6 July 2026 at 08:00 WIB, a committee of five
// (two internal), and helpers to script commands at given agency-local times.

const (
	chair     = "chair"
	secretary = "secretary"
	member3   = "member3"
	member4   = "member4"
	member5   = "member5"
)

var allMembers = []string{chair, secretary, member3, member4, member5}

// wib is a wall-clock time in Jakarta.
func wib(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Add(-7 * time.Hour).UTC()
}

func testInput(t *testing.T) SelectionInput {
	t.Helper()
	cal, err := calendar.Build(calendar.WIB, nil)
	if err != nil {
		t.Fatal(err)
	}
	return SelectionInput{
		SelectionID:          "dinkes-2026-01",
		Position:             Position{Title: "Kepala Dinas Kesehatan", Agency: "Pemerintah Kota Contoh", Level: PostJPTPratama},
		OversightApprovalRef: "B-1234/BKN/2026",
		Calendar:             cal,
		Requirements: Requirements{
			MinEducation: EducationBachelor, MinExperienceMonths: 60, MinAdministratorMonths: 24, MaxAge: 56,
			RequiredDocuments: []string{"LHKPN", "SURAT_SEHAT"},
		},
		Committee: []Member{
			{Subject: chair, Name: "Prof. Ketua", Kind: MemberExternal, Role: CommitteeChair},
			{Subject: secretary, Name: "Sekretaris Daerah", Kind: MemberInternal, Role: CommitteeSecretary, PostLevel: PostJPTMadya},
			{Subject: member3, Name: "Dr. Anggota Tiga", Kind: MemberExternal, Role: CommitteeMember},
			{Subject: member4, Name: "Asisten Pemerintahan", Kind: MemberInternal, Role: CommitteeMember, PostLevel: PostJPTPratama},
			{Subject: member5, Name: "Praktisi Lima", Kind: MemberExternal, Role: CommitteeMember},
		},
		Windows: Windows{AnnouncementDays: 5, ExtensionDays: 5, MaxExtensions: 2, MinApplicants: 3, WhenTooFew: PolicyPostpone, ObjectionDays: 3},
		Weights: []Weight{
			{ComponentWrittenTest, 15}, {ComponentCompetencyTest, 40}, {ComponentPaper, 10}, {ComponentInterview, 20}, {ComponentTrackRecord, 15},
		},
		Thresholds:    Thresholds{CompetencyMin: 6000, AcceptStillMeets: true, InterviewMin: 6000, FinalMin: 6500},
		TieBreak:      TieBreakWeightOrder,
		PublishScores: true,
	}
}

func months(n int) *int { return &n }

// eligibleApp is an application that passes every automatic check.
func eligibleApp(i int, submitted time.Time) SnapshotApplication {
	return SnapshotApplication{
		ID: fmt.Sprintf("app-%04d", i), Candidate: fmt.Sprintf("cand-%04d", i),
		SubmittedAt: submitted.Add(time.Duration(i) * time.Minute),
		Facts: EligibilityFacts{Education: EducationMaster, ExperienceMonths: months(120), AdministratorMonths: months(48),
			AgeAtClose: 45, Documents: []string{"LHKPN", "SURAT_SEHAT"}},
	}
}

func apps(n int, submitted time.Time) []SnapshotApplication {
	out := make([]SnapshotApplication, n)
	for i := range out {
		out[i] = eligibleApp(i+1, submitted)
	}
	return out
}

// fakeStore implements Activities in memory and checks the idempotency contract.
type fakeStore struct {
	mu        sync.Mutex
	snapshots [][]SnapshotApplication // the n-th close returns snapshots[n-1] (or the last)
	calls     int
	windows   []WindowProjection
	records   []CommandRecord
	keys      map[string]bool
	failKind  string // ApplyCommand of this kind fails (non-retryable), to test rollback
	// blocked are the blocked states projected, in order.
	blocked []BlockedProjection
	// onApply runs inside ApplyCommand, while the workflow waits for it.
	onApply func(CommandRecord)
}

var _ Activities = (*fakeStore)(nil)

func (f *fakeStore) ProjectWindow(_ context.Context, w WindowProjection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windows = append(f.windows, w)
	return nil
}

func (f *fakeStore) ProjectBlocked(_ context.Context, p BlockedProjection) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.blocked = append(f.blocked, p)
	return nil
}

func (f *fakeStore) SnapshotApplications(_ context.Context, req SnapshotRequest) (Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	i := min(f.calls, len(f.snapshots)) - 1
	var list []SnapshotApplication
	if i >= 0 {
		list = f.snapshots[i]
	}
	return Snapshot{Applications: list, Digest: fmt.Sprintf("sha256:%s:%d", req.Key, len(list))}, nil
}

func (f *fakeStore) ApplyCommand(_ context.Context, rec CommandRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failKind != "" && rec.Kind == f.failKind {
		return temporal.NewNonRetryableApplicationError("store refuses", "Refused", nil)
	}
	if f.onApply != nil {
		f.onApply(rec)
	}
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if f.keys[rec.Key] {
		return nil // idempotent: applied once
	}
	f.keys[rec.Key] = true
	f.records = append(f.records, rec)
	return nil
}

func (f *fakeStore) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.records {
		out = append(out, r.Kind)
	}
	return out
}

func (f *fakeStore) find(kind string) []CommandRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []CommandRecord
	for _, r := range f.records {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// outcome is what happened to one update.
type outcome struct {
	name     string
	rejected error
	err      error
	result   UpdateResult
	done     bool
	skipped  bool // not sent: before the start of this run
}

// harness runs one workflow execution in the test environment with a script of commands.
type harness struct {
	t       *testing.T
	suite   testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	store   *fakeStore
	start   time.Time
	mu      sync.Mutex
	updates map[string]*outcome
	seq     int
	// skipPast drops scripted steps before the start instead of failing.
	skipPast bool
	// idPrefix keeps update IDs unique across the runs of one workflow, as Temporal does.
	idPrefix string
}

func newHarness(t *testing.T, start time.Time, store *fakeStore) *harness {
	h := &harness{t: t, store: store, start: start, updates: map[string]*outcome{}}
	h.env = h.suite.NewTestWorkflowEnvironment()
	h.env.SetStartTime(start)
	h.env.SetWorkflowRunTimeout(0)
	h.env.SetTestTimeout(time.Minute)
	h.env.RegisterWorkflow(SelectionWorkflow)
	h.env.RegisterActivity(store)
	return h
}

// at schedules fn at an absolute workflow time. Steps at or before the start are an error,
// unless skipPast is set (a continued run replays the tail of a script).
func (h *harness) at(when time.Time, fn func()) bool {
	d := when.Sub(h.start)
	if d <= 0 {
		if !h.skipPast {
			h.t.Fatalf("scheduled %s before the start %s", when, h.start)
		}
		return false
	}
	h.env.RegisterDelayedCallback(fn, d)
	return true
}

// send issues an update now (call it from an at callback).
func (h *harness) send(name string, arg any) *outcome {
	o := &outcome{name: name}
	h.issue(o, arg)
	return o
}

func (h *harness) issue(o *outcome, arg any) {
	h.mu.Lock()
	h.seq++
	id := fmt.Sprintf("%sreq-%03d-%s", h.idPrefix, h.seq, o.name)
	h.mu.Unlock()
	h.issueID(o, id, arg)
}

// sendIDAt schedules an update with a given ID, such as a client's retry of a request.
func (h *harness) sendIDAt(when time.Time, id, name string, arg any) *outcome {
	o := &outcome{name: name}
	if !h.at(when, func() { h.issueID(o, id, arg) }) {
		o.done, o.skipped = true, true
	}
	return o
}

// idOf is the update ID an outcome was sent with.
func (h *harness) idOf(o *outcome) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, x := range h.updates {
		if x == o {
			return id
		}
	}
	return ""
}

func (h *harness) issueID(o *outcome, id string, arg any) {
	h.mu.Lock()
	h.updates[id] = o
	h.mu.Unlock()
	h.env.UpdateWorkflow(o.name, id, &testsuite.TestUpdateCallback{
		OnReject: func(err error) { o.rejected = err; o.done = true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			o.done, o.err = true, err
			if r, ok := v.(UpdateResult); ok {
				o.result = r
			}
		},
	}, arg)
}

// sendAt schedules an update and returns its eventual outcome.
func (h *harness) sendAt(when time.Time, name string, arg any) *outcome {
	o := &outcome{name: name}
	if !h.at(when, func() { h.issue(o, arg) }) {
		o.done, o.skipped = true, true
	}
	return o
}

func (h *harness) state() *SelectionState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatalf("query state: %v", err)
	}
	var st SelectionState
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return &st
}

func (h *harness) run(in SelectionInput) {
	// A workflow that waits for a command the script never sends would otherwise hang until
	// the test timeout; cancelling it long after the script ends turns that into a failure
	// with the outcomes listed.
	h.env.RegisterDelayedCallback(func() {
		h.mu.Lock()
		for id, o := range h.updates {
			h.t.Logf("update %s (%s): done=%v rejected=%v err=%v", id, o.name, o.done, o.rejected, o.err)
		}
		h.mu.Unlock()
		h.env.CancelWorkflow()
	}, 365*24*time.Hour)
	h.env.ExecuteWorkflow(SelectionWorkflow, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
}

func (h *harness) result() SelectionResult {
	h.t.Helper()
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var r SelectionResult
	if err := h.env.GetWorkflowResult(&r); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// mustAccept fails the test unless every listed update completed without error.
func mustAccept(t *testing.T, os ...*outcome) {
	t.Helper()
	for _, o := range os {
		if !o.done {
			t.Errorf("%s: never completed", o.name)
		} else if o.rejected != nil || o.err != nil {
			t.Errorf("%s: rejected=%v err=%v", o.name, o.rejected, o.err)
		}
	}
}

// mustReject fails the test unless the update was rejected by its validator with the code.
func mustReject(t *testing.T, o *outcome, code string) Message {
	t.Helper()
	if !o.done || o.rejected == nil {
		t.Errorf("%s: want rejection %s, got done=%v err=%v result=%+v", o.name, code, o.done, o.err, o.result)
		return Message{}
	}
	m, ok := MessageOf(o.rejected)
	if !ok {
		t.Errorf("%s: rejection without message: %v", o.name, o.rejected)
		return m
	}
	var appErr *temporal.ApplicationError
	if !errors.As(o.rejected, &appErr) || appErr.Type() != code {
		t.Errorf("%s: rejection %v (%s), want %s", o.name, o.rejected, m.Code, code)
	}
	// A message from the catalog is rendered at the edges (internal/i18n tests every code);
	// one not yet in the catalog carries both texts.
	if m.EN == "" && !strings.Contains(m.Code, ".") || m.EN != "" && (m.ID == "" || m.EN == m.ID) {
		t.Errorf("%s: want a catalog code or distinct English and Indonesian messages, got %+v", o.name, m)
	}
	return m
}

func committee(subject string) Actor { return Actor{Subject: subject, Role: RoleCommittee} }
func candidate(i int) Actor          { return Actor{Subject: fmt.Sprintf("cand-%04d", i), Role: RoleCandidate} }
func appID(i int) string             { return fmt.Sprintf("app-%04d", i) }

var adminActor = Actor{Subject: "admin-1", Role: RoleAdmin}

// competencySheet builds a competency score sheet entry.
func sheet(i int, cat CompetencyCategory, written, comp, paper, track Score) ResultInput {
	return ResultInput{ApplicationID: appID(i), Outcome: OutcomeNone, Category: cat, Managerial: comp, SocioCultural: comp,
		TrackRecordNote: "no findings", Scores: []ComponentScore{
			{ComponentWrittenTest, written}, {ComponentCompetencyTest, comp}, {ComponentPaper, paper}, {ComponentTrackRecord, track},
		}}
}

func interviewScores(score Score, ids ...int) []ResultInput {
	out := make([]ResultInput, len(ids))
	for i, id := range ids {
		out[i] = ResultInput{ApplicationID: appID(id), Scores: []ComponentScore{{ComponentInterview, score}}}
	}
	return out
}

// checkRecords verifies the store contract: keys unique, sequence numbers 1..n in order.
func checkRecords(t *testing.T, f *fakeStore) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.records {
		if r.Seq != int64(i+1) {
			t.Errorf("record %d (%s) has seq %d", i, r.Kind, r.Seq)
		}
		// The test environment names the workflow itself, so only presence is checked.
		if r.WorkflowID == "" || r.SelectionID != "dinkes-2026-01" || r.Key == "" {
			t.Errorf("record %d (%s) lacks its identity: %q %q %q", i, r.Kind, r.WorkflowID, r.SelectionID, r.Key)
		}
		if r.At.IsZero() || r.Stage == "" {
			t.Errorf("record %d (%s) lacks time or stage", i, r.Kind)
		}
	}
}

// continueAsNewInput decodes the input of a continue-as-new error.
func continueAsNewInput(t *testing.T, err error) SelectionInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want continue-as-new, got %v", err)
	}
	var in SelectionInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func hasKind(kinds []string, k string) bool { return slices.Contains(kinds, k) }
