package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/bkpsdm/seleksi/internal/notify"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// The activities run here in Temporal's activity test environment, so their arguments make
// the same JSON round trip as on a worker (Args arrive as generic JSON, not as typed structs).

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

const (
	selID = "dinkes-2026-01"
	wfID  = "selection-dinkes-2026-01"
)

type fixture struct {
	st   *store.Store
	acts *Activities
	env  *testsuite.TestActivityEnvironment
	apps []string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: selID, RequestID: "create-1", WorkflowID: wfID,
		PositionTitle: "Kepala Dinas Kesehatan", Agency: "Kota Contoh", Now: t0,
		Actor: store.Actor{Subject: "admin", Role: string(workflows.RoleAdmin)}}); err != nil {
		t.Fatal(err)
	}
	acts := New(st, nil)
	acts.now = func() time.Time { return t0 }
	var s testsuite.WorkflowTestSuite
	// The expected failures below would otherwise fill the output with error logs.
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	f := &fixture{st: st, acts: acts, env: env}
	f.run(t, acts.ProjectWindow, workflows.WindowProjection{WorkflowID: wfID, SelectionID: selID, Key: "window-0",
		Opens: t0, Closes: t0.Add(240 * time.Hour), ClosesWall: t0.Add(240 * time.Hour)})
	for i, subject := range []string{"cand-a", "cand-b", "cand-c"} {
		app, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: selID, RequestID: "submit-" + subject,
			Owner: subject, Candidate: store.Candidate{Subject: subject, FullName: "Calon " + subject, NIP: "19700101000000000" + string(rune('1'+i)),
				Email: subject + "@example.go.id", BirthDate: "1971-01-01"},
			Facts: store.Facts{Education: string(workflows.EducationMaster), Documents: []string{}},
			Now:   t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		f.apps = append(f.apps, app.ID)
	}
	// Each application's "received" notice is delivered; the tests follow what commands queue.
	claimed, err := st.ClaimNotifications(ctx, store.Claim{Owner: "setup", Limit: 10, MaxAttempts: 5, Now: time.Now(), Lease: time.Minute})
	if err != nil || len(claimed.Due) != 3 {
		t.Fatalf("received notices: %+v, %v", claimed, err)
	}
	for _, n := range claimed.Due {
		if err := st.RecordDelivery(ctx, store.Delivery{ID: n.ID, Owner: "setup", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// run executes an activity and fails the test on error.
func (f *fixture) run(t *testing.T, fn any, arg any) {
	t.Helper()
	if _, err := f.env.ExecuteActivity(fn, arg); err != nil {
		t.Fatalf("activity: %v", err)
	}
}

func TestSnapshotApplications(t *testing.T) {
	f := setup(t)
	req := workflows.SnapshotRequest{WorkflowID: wfID, SelectionID: selID, Key: "snapshot-1", ClosedAt: time.Date(2026, 3, 13, 17, 0, 0, 0, time.UTC)}
	var digests []string
	for range 2 {
		val, err := f.env.ExecuteActivity(f.acts.SnapshotApplications, req)
		if err != nil {
			t.Fatal(err)
		}
		var snap workflows.Snapshot
		if err := val.Get(&snap); err != nil {
			t.Fatal(err)
		}
		if len(snap.Applications) != 3 {
			t.Fatalf("snapshot has %d applications, want 3", len(snap.Applications))
		}
		a := snap.Applications[0]
		if a.Facts.AgeAtClose != 55 || a.Facts.Education != workflows.EducationMaster || a.Facts.ExperienceMonths != nil {
			t.Fatalf("facts = %+v", a.Facts)
		}
		digests = append(digests, snap.Digest)
	}
	if digests[0] != digests[1] {
		t.Fatalf("retried snapshot changed its digest: %v", digests)
	}
	// Intake is closed now.
	_, err := f.st.SubmitApplication(context.Background(), store.SubmitInput{SelectionID: selID, RequestID: "late-1",
		Owner: "late", Candidate: store.Candidate{Subject: "late", FullName: "Late", NIP: "197001010000000009", Email: "l@x.id", BirthDate: "1971-01-01"},
		Now: t0.Add(5 * time.Hour)})
	if !errors.Is(err, store.ErrFailedPrecondition) {
		t.Fatalf("late submission: %v, want ErrFailedPrecondition", err)
	}
}

func TestApplyCommandIdempotent(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	chair := workflows.Actor{Subject: "chair", Role: workflows.RoleCommittee}
	args := workflows.AdvanceArgs{Actor: chair, Stage: workflows.StageAdministrativeScreening, Reason: "screening <done> & published"}
	at := t0.Add(300 * time.Hour)
	rec := workflows.CommandRecord{
		WorkflowID: wfID, SelectionID: selID, Key: "advance-req-1", Seq: 3, Kind: workflows.CmdAdvance, Actor: chair,
		Reason: args.Reason, At: at, Stage: workflows.StageAdministrativeScreening, Phase: workflows.PhaseObjections, Args: workflows.CommandArgs{Advance: &args},
		Applications: []workflows.ApplicationChange{
			{ApplicationID: f.apps[0], State: workflows.AppEliminated, Stage: workflows.StageAdministrativeScreening, Reason: "no LHKPN"},
			{ApplicationID: f.apps[1], State: workflows.AppInProgress, Stage: workflows.StageAdministrativeScreening},
		},
		Result: &workflows.StageResult{Stage: workflows.StageAdministrativeScreening, Revision: 1, PublishedAt: at,
			ObjectionDeadline: at.Add(72 * time.Hour), ScoresPublished: true,
			Entries: []workflows.ResultEntry{
				{ApplicationID: f.apps[0], Outcome: workflows.OutcomeFail, Reason: "no LHKPN"},
				{ApplicationID: f.apps[1], Outcome: workflows.OutcomePass, Scores: []workflows.ComponentScore{{Component: workflows.ComponentWrittenTest, Score: 7550}}},
			}},
		Message: &workflows.Message{Code: workflows.CmdAdvance, EN: "Published.", ID: "Diumumkan."},
	}
	// The first attempt, a retry, and a replay of the same record.
	for range 3 {
		f.run(t, f.acts.ApplyCommand, rec)
	}
	events, err := f.st.ListAuditEvents(ctx, selID, store.ListOptions{Filter: "action = " + workflows.CmdAdvance})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 1 {
		t.Fatalf("%d audit events for one command, want 1", len(events.Items))
	}
	ev := events.Items[0]
	if ev.UpdateID != rec.Key || ev.CommandSeq != 3 || ev.Target != "selections/"+selID+"/results/STAGE_ADMINISTRATIVE_SCREENING" || ev.Role != "ROLE_COMMITTEE" {
		t.Fatalf("audit event = %+v", ev)
	}
	// The digest is that of the typed arguments: the JSON round trip through Temporal does
	// not change the canonical form.
	canon, err := store.CanonicalJSON(args)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canon)
	if ev.PayloadSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("payload digest %s does not match the typed args %s", ev.PayloadSHA256, canon)
	}
	res, err := f.st.GetStageResult(ctx, selID, string(workflows.StageAdministrativeScreening), 0)
	if err != nil || len(res.Entries) != 2 || res.Entries[1].Scores[0].Score != 7550 || !res.ScoresPublished {
		t.Fatalf("stage result = %+v, %v", res, err)
	}
	app, _ := f.st.GetApplication(ctx, selID, f.apps[0])
	if app.State != string(workflows.AppEliminated) || app.EliminationReason != "no LHKPN" {
		t.Fatalf("application = %+v", app)
	}
	pending, _ := f.st.PendingNotifications(ctx, 100)
	if len(pending) != 2 {
		t.Fatalf("%d notifications queued, want 2 (one per changed application)", len(pending))
	}
	if rep, err := f.st.VerifyChain(ctx, selID); err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
	// The ledger answers a retry in any run of the workflow: the digest the API computes from
	// the typed arguments it sends, and the update's answer.
	led, err := f.st.CommandAnswer(ctx, wfID, rec.Key)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, err := store.PayloadDigest(args)
	if err != nil {
		t.Fatal(err)
	}
	var answer workflows.UpdateResult
	if err := json.Unmarshal(led.Answer, &answer); err != nil {
		t.Fatal(err)
	}
	if led.ArgsSHA256 != wantDigest || answer != rec.Answer() || answer.Seq != 3 || answer.Phase != workflows.PhaseObjections {
		t.Fatalf("ledger = %s %s, want %s %+v", led.ArgsSHA256, led.Answer, wantDigest, rec.Answer())
	}
}

func TestApplyCommandKinds(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	member := workflows.Actor{Subject: "m1", Role: workflows.RoleCommittee}
	adminActor := workflows.Actor{Subject: "admin", Role: workflows.RoleAdmin}
	at := t0.Add(400 * time.Hour)
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "conflict-req-1", Seq: 1,
		Kind: workflows.CmdDeclareConflict, Actor: member, Reason: "sepupu", At: at, Stage: workflows.StageInterview, Phase: workflows.PhaseOpen,
		Args: workflows.CommandArgs{DeclareConflict: &workflows.DeclareConflictArgs{Actor: member, ApplicationIDs: []string{f.apps[0], f.apps[2]}, Relationship: "sepupu", Reason: "dari pihak ibu"}}})
	// A competency result carries each assessment-center category to the store; the
	// stage's opening is kept on both clocks.
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "advance-req-1", Seq: 2,
		Kind: workflows.CmdAdvance, Actor: member, At: at.Add(30 * time.Minute), AtWall: at.Add(-time.Hour), Stage: workflows.StageCompetencyTest, Phase: workflows.PhaseObjections,
		Args: workflows.CommandArgs{Advance: &workflows.AdvanceArgs{Actor: member, Stage: workflows.StageCompetencyTest}},
		Result: &workflows.StageResult{Stage: workflows.StageCompetencyTest, Revision: 1, PublishedAt: at.Add(30 * time.Minute),
			Entries: []workflows.ResultEntry{{ApplicationID: f.apps[1], Outcome: workflows.OutcomePass, Category: workflows.CategoryStillMeets}}}})
	if app, err := f.st.GetApplication(ctx, selID, f.apps[1]); err != nil || len(app.Results) != 1 ||
		app.Results[0].CompetencyCategory != string(workflows.CategoryStillMeets) {
		t.Fatalf("competency result = %+v, %v", app.Results, err)
	}
	if sel, err := f.st.GetSelection(ctx, selID); err != nil || !sel.StageOpenWallTime.Equal(at.Add(-time.Hour)) {
		t.Fatalf("stage opened at %s (wall %s), %v", sel.StageOpenTime, sel.StageOpenWallTime, err)
	}
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "appoint-req-1", Seq: 3,
		Kind: workflows.CmdAppoint, Actor: adminActor, At: at.Add(time.Hour), Stage: workflows.StageClosed,
		Args:         workflows.CommandArgs{Appoint: &workflows.AppointArgs{Actor: adminActor, ApplicationID: f.apps[1], PPKDecreeRef: "SK Walikota 1/2026", OversightRecommendationRef: "BKN-7"}},
		Applications: []workflows.ApplicationChange{{ApplicationID: f.apps[1], State: workflows.AppAppointed, Rank: 1}}})
	// A resume request changes nothing but the audit trail.
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "resume-req-1", Seq: 3,
		Kind: workflows.CmdResume, Actor: adminActor, Reason: "basis data dipulihkan", At: at.Add(2 * time.Hour), Stage: workflows.StageClosed,
		Args: workflows.CommandArgs{Resume: &workflows.ResumeArgs{Actor: adminActor, Reason: "basis data dipulihkan"}}})
	if p := f.acts.ProjectBlocked(ctx, workflows.BlockedProjection{WorkflowID: wfID, SelectionID: selID,
		Blocked: &workflows.Blocked{Reason: workflows.BlockedStoreUnavailable, Step: workflows.StepOpenNextStage, Since: at, Attempts: 2}}); p != nil {
		t.Fatal(p)
	}
	sel, err := f.st.GetSelection(ctx, selID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.Conflicts) != 2 || sel.Conflicts[0].MemberID != "m1" || sel.Conflicts[0].Relationship != "sepupu" || sel.Conflicts[0].Reason != "dari pihak ibu" ||
		sel.AppointedApplication != f.apps[1] ||
		sel.PPKDecreeRef != "SK Walikota 1/2026" || sel.OversightRecommendationRef != "BKN-7" || sel.Stage != string(workflows.StageClosed) ||
		sel.AuditSeq < 4 || sel.Blocked == nil || sel.Blocked.Reason != string(workflows.BlockedStoreUnavailable) || sel.Blocked.Attempts != 2 {
		t.Fatalf("selection = %+v", sel)
	}
}

func TestNonRetryableErrors(t *testing.T) {
	f := setup(t)
	good := workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "cancel-req-1", Seq: 1, Kind: workflows.CmdCancel,
		Actor: workflows.Actor{Subject: "admin", Role: workflows.RoleAdmin}, Reason: "budget", At: t0.Add(time.Hour),
		Stage: workflows.StageCancelled, Args: workflows.CommandArgs{Cancel: &workflows.CancelArgs{Reason: "budget"}}}
	f.run(t, f.acts.ApplyCommand, good)
	tests := []struct {
		name string
		rec  func() workflows.CommandRecord
		want string
	}{
		{"no key", func() workflows.CommandRecord { r := good; r.Key = ""; return r }, ErrTypeInvalidRecord},
		{"key reused for other args", func() workflows.CommandRecord {
			r := good
			r.Args = workflows.CommandArgs{Cancel: &workflows.CancelArgs{Reason: "other"}}
			return r
		}, ErrTypeKeyReused},
		{"unknown selection", func() workflows.CommandRecord { r := good; r.SelectionID, r.Key = "other-sel", "k2"; return r }, ErrTypeRowMissing},
		{"unknown application", func() workflows.CommandRecord {
			r := good
			r.Key, r.Applications = "k3", []workflows.ApplicationChange{{ApplicationID: "app-none", State: workflows.AppWithdrawn}}
			return r
		}, ErrTypeInconsistent},
		// Found: a NUL byte in a withdrawal reason was retried forever on PostgreSQL.
		{"NUL in a withdrawal reason", func() workflows.CommandRecord {
			r := good
			r.Key, r.Kind, r.Reason = "k4", workflows.CmdWithdraw, "alasan\x00"
			r.Applications = []workflows.ApplicationChange{{ApplicationID: f.apps[0], State: workflows.AppWithdrawn, Reason: "alasan\x00"}}
			return r
		}, ErrTypeInvalidData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.env.ExecuteActivity(f.acts.ApplyCommand, tc.rec())
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != tc.want {
				t.Fatalf("err = %v, want a non-retryable %s", err, tc.want)
			}
		})
	}
	sel, _ := f.st.GetSelection(context.Background(), selID)
	if sel.CancelReason != "budget" {
		t.Fatalf("cancel reason = %q", sel.CancelReason)
	}
}

type flakySender struct {
	fails int
	sent  []store.Notification
}

func (n *flakySender) Send(_ context.Context, note store.Notification) error {
	if n.fails > 0 {
		n.fails--
		return errors.New("mail server unavailable")
	}
	n.sent = append(n.sent, note)
	return nil
}

// TestQueuedNotificationsAreDelivered follows a notification from the command that queues
// it, through the outbox, to a sender that fails once: it is delivered exactly once.
func TestQueuedNotificationsAreDelivered(t *testing.T) {
	n := &flakySender{fails: 1}
	f := setup(t)
	// A clock the test moves past the retry's backoff, so the second round finds it due.
	now := time.Now()
	d := notify.NewDispatcher(f.st, n, nil, slog.New(slog.DiscardHandler), notify.Options{
		BackoffInitial: time.Minute, Now: func() time.Time { return now }, Jitter: func(d time.Duration) time.Duration { return d }})
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "event-1", Seq: 1,
		Kind: workflows.EvtStageOpened, Actor: workflows.Actor{Subject: workflows.SystemSubject, Role: workflows.RoleSystem}, At: t0.Add(time.Hour),
		Stage: workflows.StageCompetencyTest, Phase: workflows.PhaseOpen,
		Message: &workflows.Message{Code: workflows.EvtStageOpened, EN: "The competency test has started.", ID: "Uji kompetensi dimulai."}})
	ctx := context.Background()
	if r, err := d.DeliverOnce(ctx); err != nil || r.Sent != 0 || r.Failed != 1 {
		t.Fatalf("first round: %+v, %v", r, err)
	}
	if r, err := d.DeliverOnce(ctx); err != nil || r.Claimed != 0 {
		t.Fatalf("a round before the backoff ran out: %+v, %v", r, err)
	}
	now = now.Add(time.Minute)
	if r, err := d.DeliverOnce(ctx); err != nil || r.Sent != 1 {
		t.Fatalf("second round: %+v, %v", r, err)
	}
	if r, err := d.DeliverOnce(ctx); err != nil || r.Claimed != 0 {
		t.Fatalf("third round: %+v, %v", r, err)
	}
	if len(n.sent) != 1 || n.sent[0].Recipient != "*" || !strings.Contains(n.sent[0].Text.EN, "competency") {
		t.Fatalf("sent = %+v", n.sent)
	}
}

// TestCorrectionNotifiesWithTheNewDeadline: the chair's correction of a published result
// tells each affected candidate that the result changed and until when they may object,
// while their application keeps its status text; the audit event names the replaced value.
func TestCorrectionNotifiesWithTheNewDeadline(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	chair := workflows.Actor{Subject: "chair", Role: workflows.RoleCommittee}
	at := t0.Add(300 * time.Hour)
	stage := workflows.StageAdministrativeScreening
	args := workflows.CorrectResultRecord{
		CorrectResultArgs: workflows.CorrectResultArgs{Actor: chair, Stage: stage, Reason: "umur salah hitung",
			Results: []workflows.ResultInput{{ApplicationID: f.apps[0], Outcome: workflows.OutcomePass}}},
		Replaced: []workflows.ReplacedResult{{ApplicationID: f.apps[0],
			Outcome: &workflows.StageOutcome{Stage: stage, Outcome: workflows.OutcomeFail, Reason: "lewat batas usia"}}},
	}
	status := &workflows.Message{Code: string(workflows.AppInProgress), EN: "You are taking part in administrative screening.", ID: "Anda sedang mengikuti tahap seleksi administrasi."}
	notice := &workflows.Message{Code: workflows.CmdCorrectResult, EN: "The committee chair corrected the result (revision 2).",
		ID: "Ketua panitia seleksi memperbaiki hasil (revisi 2). Sanggah dapat diajukan sampai akhir hari 2026-03-20 (WIB)."}
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "correct-req-1", Seq: 4,
		Kind: workflows.CmdCorrectResult, Actor: chair, Reason: "umur salah hitung", At: at, Stage: stage, Phase: workflows.PhaseObjections,
		Args:         workflows.CommandArgs{CorrectResult: &args},
		Applications: []workflows.ApplicationChange{{ApplicationID: f.apps[0], State: workflows.AppInProgress, Stage: stage, Status: status}},
		Result: &workflows.StageResult{Stage: stage, Revision: 2, PublishedAt: at, ObjectionDeadline: at.Add(72 * time.Hour),
			RevisionReason: "umur salah hitung", Entries: []workflows.ResultEntry{{ApplicationID: f.apps[0], Outcome: workflows.OutcomePass}}},
		Message: notice})
	pending, err := f.st.PendingNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ApplicationID != f.apps[0] || pending[0].Text.ID != notice.ID || pending[0].Recipient != "cand-a" {
		t.Fatalf("notifications %+v", pending)
	}
	app, _ := f.st.GetApplication(ctx, selID, f.apps[0])
	if app.Status.ID != status.ID {
		t.Errorf("status text %q, want the status, not the notice", app.Status.ID)
	}
	events, err := f.st.ListAuditEvents(ctx, selID, store.ListOptions{Filter: "action = " + workflows.CmdCorrectResult})
	if err != nil || len(events.Items) != 1 {
		t.Fatalf("audit events %+v, %v", events, err)
	}
	if p := string(events.Items[0].Payload); !strings.Contains(p, `"replaced"`) || !strings.Contains(p, "lewat batas usia") {
		t.Errorf("the audit event does not name the replaced result: %s", p)
	}
	// The ledger keeps the digest of the command as the chair sent it, not of the record with
	// the replaced values, so that a retry of the same request is answered, not refused.
	sent, err := store.PayloadDigest(args.CorrectResultArgs)
	if err != nil {
		t.Fatal(err)
	}
	if ans, err := f.st.CommandAnswer(ctx, wfID, "correct-req-1"); err != nil || ans.ArgsSHA256 != sent {
		t.Errorf("ledger digest %q (%v), want the digest of the arguments as sent %q", ans.ArgsSHA256, err, sent)
	}
}

// slowStore is a store whose snapshot works until the activity has heartbeated twice.
type slowStore struct {
	Store
	beats chan struct{}
}

func (s slowStore) TakeSnapshot(ctx context.Context, _ store.SnapshotInput, _ time.Time) (store.Snapshot, error) {
	for range 2 {
		select {
		case <-s.beats:
		case <-ctx.Done():
			return store.Snapshot{}, ctx.Err()
		}
	}
	return store.Snapshot{Digest: "d"}, nil
}

// TestSnapshotHeartbeats: the snapshot heartbeats while it works, so that the workflow's
// heartbeat timeout (seconds) rather than its start-to-close timeout (minutes) notices a
// crashed worker. Without heartbeats the snapshot below never finishes.
func TestSnapshotHeartbeats(t *testing.T) {
	beats := make(chan struct{}, 16)
	acts := New(slowStore{beats: beats}, nil)
	acts.beat = time.Millisecond
	// The SDK batches heartbeats for tens of seconds before the test environment sees them,
	// so the test counts the activity's own heartbeat calls.
	acts.record = func(context.Context) {
		select {
		case beats <- struct{}{}:
		default:
		}
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetTestTimeout(time.Minute)
	env.RegisterActivity(acts)
	v, err := env.ExecuteActivity(acts.SnapshotApplications, workflows.SnapshotRequest{WorkflowID: wfID, SelectionID: selID, Key: "snapshot-1", ClosedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	var snap workflows.Snapshot
	if err := v.Get(&snap); err != nil || snap.Digest != "d" {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
}

// failingStore fails every call with err.
type failingStore struct {
	Store
	err error
}

func (s failingStore) ApplyCommand(context.Context, store.Command) (bool, error) { return false, s.err }

// TestClassify: invalid data and missing rows are non-retryable with their types; transient
// errors are retryable and marked as such; unknown errors are retried.
func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		typ       string
		retryable bool
	}{
		{"invalid data", fmt.Errorf("apply: %w", store.ErrInvalidData), ErrTypeInvalidData, false},
		{"invalid argument", fmt.Errorf("apply: %w", store.ErrInvalidArgument), ErrTypeInvalidRecord, false},
		{"missing row", fmt.Errorf("apply: %w", store.ErrNotFound), ErrTypeRowMissing, false},
		{"conflict", fmt.Errorf("apply: %w", store.ErrConflict), ErrTypeKeyReused, false},
		{"deadline", fmt.Errorf("apply: %w", context.DeadlineExceeded), ErrTypeUnavailable, true},
		{"unknown", errors.New("boom"), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acts := New(failingStore{err: tc.err}, nil)
			var s testsuite.WorkflowTestSuite
			s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(acts)
			_, err := env.ExecuteActivity(acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "k", Seq: 1,
				Kind: workflows.CmdCancel, At: t0, Stage: workflows.StageCancelled})
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("err = %v", err)
			}
			if tc.typ != "" && appErr.Type() != tc.typ {
				t.Errorf("type %q, want %q", appErr.Type(), tc.typ)
			}
			if appErr.NonRetryable() == tc.retryable {
				t.Errorf("non-retryable = %v, want %v", appErr.NonRetryable(), !tc.retryable)
			}
		})
	}
}

// TestWindowReminderReachesTheOwners: a reminder naming applications (CommandRecord.Candidates)
// goes to each application's owner, to no one else and not to the public feed.
func TestWindowReminderReachesTheOwners(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	at := t0.Add(300 * time.Hour)
	stage := workflows.StageAdministrativeScreening
	m := &workflows.Message{Code: workflows.CodeEventWindowReminder, EN: "Reminder: objections may be filed until the end of 2026-03-20.",
		ID: "Pengingat: sanggah dapat diajukan sampai akhir hari 2026-03-20."}
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "event-4", Seq: 4,
		Kind: workflows.EvtObjectionWindowReminder, Actor: workflows.Actor{Subject: "system", Role: workflows.RoleSystem}, At: at, AtWall: at,
		Stage: stage, Phase: workflows.PhaseObjections, Message: m, Candidates: []string{f.apps[0], f.apps[2]}})
	pending, err := f.st.PendingNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range pending {
		if n.Text.ID != m.ID {
			t.Errorf("notification %+v carries another text", n)
		}
		got[n.Recipient] = n.ApplicationID
	}
	if want := map[string]string{"cand-a": f.apps[0], "cand-c": f.apps[2]}; !reflect.DeepEqual(got, want) {
		t.Errorf("reminders to %v, want %v", got, want)
	}
}
