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

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Fault injection: the store fails at one activity call site with one class of error, for a
// number of calls or until the test clears it. No selection may end Failed because of it.

// faultClass is a kind of store error, as internal/activities reports it.
type faultClass struct {
	name string
	err  func() error
	// blocked is the reason a system step blocks with; reject the code a command answers.
	blocked BlockedReason
	reject  string
}

var faultClasses = []faultClass{
	{"invalid data", func() error {
		return temporal.NewNonRetryableApplicationError("invalid byte sequence", ErrTypeInvalidData, nil)
	}, BlockedStoreRejectedData, RejectInvalidArgument},
	{"transient", func() error {
		return temporal.NewApplicationError("connection refused", "StoreUnavailable")
	}, BlockedStoreUnavailable, RejectUnavailable},
	{"missing row", func() error {
		return temporal.NewNonRetryableApplicationError("row not found", ErrTypeRowMissing, nil)
	}, BlockedStoreInconsistent, RejectInconsistent},
}

// faultyStore wraps fakeStore and fails at site ("ProjectWindow", "SnapshotApplications" or
// "ApplyCommand:<kind>") while the fault is on: for the first `times` calls there, or until
// clear is called when times is 0.
type faultyStore struct {
	*fakeStore
	mu    sync.Mutex
	site  string
	class faultClass
	times int
	on    bool
	hits  int
}

func (f *faultyStore) fail(site string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on || site != f.site {
		return nil
	}
	f.hits++
	if f.times > 0 && f.hits >= f.times {
		f.on = false
	}
	return f.class.err()
}

func (f *faultyStore) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = false
}

func (f *faultyStore) ProjectWindow(ctx context.Context, w WindowProjection) error {
	if err := f.fail(ActivityProjectWindow); err != nil {
		return err
	}
	return f.fakeStore.ProjectWindow(ctx, w)
}

func (f *faultyStore) SnapshotApplications(ctx context.Context, req SnapshotRequest) (Snapshot, error) {
	if err := f.fail(ActivitySnapshotApplications); err != nil {
		return Snapshot{}, err
	}
	return f.fakeStore.SnapshotApplications(ctx, req)
}

func (f *faultyStore) ApplyCommand(ctx context.Context, rec CommandRecord) error {
	if err := f.fail(ActivityApplyCommand + ":" + rec.Kind); err != nil {
		return err
	}
	return f.fakeStore.ApplyCommand(ctx, rec)
}

// newFaultyHarness is newHarness with the faulty store registered, recording the values the
// workflow gives the blocked search attribute.
func newFaultyHarness(t *testing.T, start time.Time, f *faultyStore) (*harness, *[]string) {
	h := &harness{t: t, store: f.fakeStore, start: start, updates: map[string]*outcome{}}
	h.env = h.suite.NewTestWorkflowEnvironment()
	h.env.SetStartTime(start)
	h.env.SetWorkflowRunTimeout(0)
	h.env.SetTestTimeout(time.Minute)
	h.env.RegisterWorkflow(SelectionWorkflow)
	h.env.RegisterActivity(f)
	var blocked []string
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		key := temporal.NewSearchAttributeKeyKeyword(SearchAttributeBlocked)
		if v, ok := sa.GetKeyword(key); ok {
			blocked = append(blocked, v)
		} else if strings.Contains(fmt.Sprint(sa), SearchAttributeBlocked) {
			// An unset key has a nil value, which the typed getters do not tell from absent.
			blocked = append(blocked, "")
		}
	}).Return(nil)
	return h, &blocked
}

// Every system call site, on the happy path's timeline.
var systemSites = []string{
	ActivityProjectWindow,
	ActivityApplyCommand + ":" + EvtOpened,
	ActivitySnapshotApplications,
	ActivityApplyCommand + ":" + EvtClosed,
	ActivityApplyCommand + ":" + EvtStageOpened,
	ActivityApplyCommand + ":" + EvtShortlistSettled,
}

// TestSystemStepFaultsBlockAndResume: a fault at any system call site blocks the selection
// with the fault's reason (search attribute set, then cleared), the step is retried by itself
// once the fault clears, and the selection completes instead of ending Failed.
func TestSystemStepFaultsBlockAndResume(t *testing.T) {
	for _, site := range systemSites {
		for _, class := range faultClasses {
			t.Run(site+"/"+class.name, func(t *testing.T) {
				// A transient fault must outlast the activity's own retries to block.
				times := 4
				if class.blocked == BlockedStoreUnavailable {
					times = 25
				}
				f := &faultyStore{fakeStore: happyStore(t), site: site, class: class, times: times, on: true}
				h, blocked := newFaultyHarness(t, wib(t, "2026-07-06 08:00"), f)
				s := scriptHappy(t, h)
				h.run(testInput(t))
				r := h.result()
				if r.Stage != StageClosed {
					t.Fatalf("selection ended at %s", r.Stage)
				}
				mustAccept(t, s.screening, s.advance1, s.competency, s.advance2, s.advance3, s.decide, s.appoint)
				if want := []string{string(class.blocked), ""}; !slices.Equal(*blocked, want) {
					t.Errorf("blocked search attribute went %q, want %q", *blocked, want)
				}
				checkRecords(t, f.fakeStore)
			})
		}
	}
}

// TestBlockedStateAndResumeUpdate: while blocked, the state says why, since when and how often
// it was tried; the resume update retries at once (long before the next timer), and it is
// refused when nothing is blocked.
func TestBlockedStateAndResumeUpdate(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	f := &faultyStore{fakeStore: happyStore(t), site: ActivityApplyCommand + ":" + EvtClosed, class: faultClasses[2], on: true}
	h, blocked := newFaultyHarness(t, start, f)
	var during, after *SelectionState
	notBlocked := h.sendAt(wib(t, "2026-07-08 09:00"), UpdateResume, ResumeArgs{Actor: adminActor})
	// The window closes at the end of Friday 10 July (WIB); by 02:00 the retries are 10
	// minutes apart.
	h.at(wib(t, "2026-07-11 02:00"), func() { during = h.state() })
	byCommittee := h.sendAt(wib(t, "2026-07-11 02:01"), UpdateResume, ResumeArgs{Actor: committee(chair)})
	h.at(wib(t, "2026-07-11 02:02"), f.clear)
	resume := h.sendAt(wib(t, "2026-07-11 02:02").Add(time.Second), UpdateResume, ResumeArgs{Actor: adminActor, Reason: "row restored"})
	h.at(wib(t, "2026-07-11 02:02").Add(2*time.Second), func() { after = h.state() })
	h.sendAt(wib(t, "2026-07-13 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))
	if r := h.result(); r.Stage != StageCancelled {
		t.Fatalf("result %+v", r)
	}
	mustReject(t, notBlocked, RejectWrongStage)
	mustReject(t, byCommittee, RejectWrongActor)
	mustAccept(t, resume)
	b := during.Blocked
	if during.Stage != StageAnnouncement || b == nil || b.Reason != BlockedStoreInconsistent || b.Step != StepCloseAnnouncement ||
		b.ErrorType != ErrTypeRowMissing || !b.Since.Equal(wib(t, "2026-07-11 00:00")) || b.Attempts < 5 ||
		b.NextAttempt.Sub(wib(t, "2026-07-11 02:00")) > retryMax {
		t.Fatalf("state while blocked: stage %s, blocked %+v", during.Stage, b)
	}
	if after.Blocked != nil || after.Stage != StageAdministrativeScreening {
		t.Errorf("after resume: stage %s, blocked %+v", after.Stage, after.Blocked)
	}
	// The request is in the store's audit trail like any command.
	if rs := f.find(CmdResume); len(rs) != 1 || rs[0].Actor != adminActor || rs[0].Reason != "row restored" {
		t.Errorf("resume records %+v", rs)
	}
	checkRecords(t, f.fakeStore)
	// The store was shown each failed attempt, then the end of the block.
	ps := f.blocked
	if len(ps) < 2 || ps[0].Blocked == nil || ps[0].Blocked.Reason != BlockedStoreInconsistent || ps[len(ps)-1].Blocked != nil ||
		ps[0].SelectionID != "dinkes-2026-01" {
		t.Errorf("projected blocked states %+v", ps)
	}
	if want := []string{string(BlockedStoreInconsistent), ""}; !slices.Equal(*blocked, want) {
		t.Errorf("blocked search attribute went %q, want %q", *blocked, want)
	}
}

// TestCancelWhileBlocked: a selection blocked for good still ends by cancellation.
func TestCancelWhileBlocked(t *testing.T) {
	f := &faultyStore{fakeStore: happyStore(t), site: ActivitySnapshotApplications, class: faultClasses[0], on: true}
	h, blocked := newFaultyHarness(t, wib(t, "2026-07-06 08:00"), f)
	cancel := h.sendAt(wib(t, "2026-07-14 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "data cannot be repaired"})
	h.run(testInput(t))
	mustAccept(t, cancel)
	if r := h.result(); r.Stage != StageCancelled || r.Cancellation == nil || r.Cancellation.Stage != StageAnnouncement {
		t.Fatalf("result %+v", r)
	}
	if want := []string{string(BlockedStoreRejectedData), ""}; !slices.Equal(*blocked, want) {
		t.Errorf("blocked search attribute went %q, want %q", *blocked, want)
	}
}

// TestCommandStoreFaults: a command whose store write fails is answered with the fault's code
// within its budget, leaves the state as it was and frees the lock: the same command sent
// again once the store is back is applied, and the selection completes.
func TestCommandStoreFaults(t *testing.T) {
	for _, class := range faultClasses {
		t.Run(class.name, func(t *testing.T) {
			f := &faultyStore{fakeStore: happyStore(t), site: ActivityApplyCommand + ":" + CmdDeclareConflict, class: class, on: true}
			h, blocked := newFaultyHarness(t, wib(t, "2026-07-06 08:00"), f)
			args := DeclareConflictArgs{Actor: committee(member3), ApplicationIDs: []string{appID(1)}, Reason: "cousin"}
			failed := h.sendAt(wib(t, "2026-07-13 08:00"), UpdateDeclareConflict, args)
			var st *SelectionState
			h.at(wib(t, "2026-07-13 08:30"), func() { st = h.state(); f.clear() })
			again := h.sendAt(wib(t, "2026-07-13 08:40"), UpdateDeclareConflict, args)
			s := scriptHappy(t, h)
			h.run(testInput(t))
			if r := h.result(); r.Stage != StageClosed {
				t.Fatalf("selection ended at %s", r.Stage)
			}
			var appErr *temporal.ApplicationError
			if !failed.done || !errors.As(failed.err, &appErr) || appErr.Type() != class.reject {
				t.Fatalf("failed command: done=%v err=%v", failed.done, failed.err)
			}
			if m, ok := MessageOf(failed.err); !ok || !strings.HasPrefix(m.Code, "reject.") || rejectType(m.Code) != class.reject {
				t.Errorf("failed command without a message: %+v", m)
			}
			if len(st.Recusals) != 0 || st.Blocked != nil {
				t.Errorf("state changed by a failed command: recusals %+v, blocked %+v", st.Recusals, st.Blocked)
			}
			mustAccept(t, again, s.screening, s.advance1, s.competency, s.advance2, s.advance3, s.decide, s.appoint)
			if len(*blocked) != 0 {
				t.Errorf("a failed command blocked the selection: %q", *blocked)
			}
			checkRecords(t, f.fakeStore)
		})
	}
}

// TestWindowIntoUncoveredYearBlocks: an announcement window that reaches a year without a
// holiday list blocks the selection with the calendar code (it used to fail the workflow);
// supplying the year's list resumes it at once and the window opens.
func TestWindowIntoUncoveredYearBlocks(t *testing.T) {
	start := wib(t, "2026-12-14 08:00")
	store := &fakeStore{}
	f := &faultyStore{fakeStore: store}
	h, blocked := newFaultyHarness(t, start, f)
	in := testInput(t)
	// 20 working days from 14 December 2026 reach into January 2027, which has no list.
	in.Windows.AnnouncementDays = 20
	var during *SelectionState
	h.at(start.Add(time.Hour), func() { during = h.state() })
	supply := h.sendAt(start.Add(2*time.Hour), UpdateSupplyHolidays, SupplyHolidaysArgs{Actor: adminActor, Years: []calendar.Year{year2027(t)}})
	h.run(in)
	mustAccept(t, supply)
	if r := h.result(); r.Stage != StageCancelled || !r.Cancellation.Postponed {
		t.Fatalf("result %+v", r)
	}
	if b := during.Blocked; b == nil || b.Reason != BlockedCalendarNotCovered || b.Year != 2027 || b.Step != StepOpenAnnouncement {
		t.Fatalf("blocked %+v", during.Blocked)
	}
	if len(store.windows) == 0 || !store.windows[0].Opens.Equal(start.Add(2*time.Hour)) {
		t.Errorf("windows %+v", store.windows)
	}
	if want := []string{string(BlockedCalendarNotCovered), ""}; !slices.Equal(*blocked, want) {
		t.Errorf("blocked search attribute went %q, want %q", *blocked, want)
	}
}

// TestContinueAsNewWhileBlocked: a long block does not grow one history without end; the
// next run carries the blocked state on, and resumes when the fault clears.
func TestContinueAsNewWhileBlocked(t *testing.T) {
	f := &faultyStore{fakeStore: happyStore(t), site: ActivityApplyCommand + ":" + EvtClosed, class: faultClasses[0], on: true}
	h1, _ := newFaultyHarness(t, wib(t, "2026-07-06 08:00"), f)
	canAt := wib(t, "2026-07-11 06:00")
	h1.at(canAt, func() { h1.env.SetContinueAsNewSuggested(true) })
	h1.run(testInput(t))
	in := continueAsNewInput(t, h1.env.GetWorkflowError())
	b := in.State.Blocked
	if b == nil || b.Reason != BlockedStoreRejectedData || b.Step != StepCloseAnnouncement || in.State.Stage != StageAnnouncement {
		t.Fatalf("handed-over state: stage %s, blocked %+v", in.State.Stage, b)
	}

	f.clear()
	h2, blocked := newFaultyHarness(t, canAt, f)
	h2.skipPast, h2.idPrefix = true, "run2-"
	s := scriptHappy(t, h2)
	h2.run(in)
	if r := h2.result(); r.Stage != StageClosed {
		t.Fatalf("selection ended at %s", r.Stage)
	}
	mustAccept(t, s.screening, s.advance1, s.appoint)
	if want := []string{""}; !slices.Equal(*blocked, want) {
		t.Errorf("blocked search attribute went %q in the second run, want %q", *blocked, want)
	}
	checkRecords(t, f.fakeStore)
}

// TestActivityTimeoutsRecoverInSeconds: a worker that dies during an activity is noticed in
// seconds, not minutes (found: a pending command stalled 56 s, an announcement close 5 min):
// store writes have short start-to-close timeouts, the snapshot a heartbeat timeout, and
// every activity a bounded schedule-to-close budget, a command's well under a client's wait.
func TestActivityTimeoutsRecoverInSeconds(t *testing.T) {
	store := happyStore(t)
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	type seen struct {
		name                                     string
		startToClose, scheduleToClose, heartbeat time.Duration
		command                                  bool
	}
	var mu sync.Mutex
	var all []seen
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		s := seen{name: info.ActivityType.Name, startToClose: info.StartToCloseTimeout, scheduleToClose: info.ScheduleToCloseTimeout, heartbeat: info.HeartbeatTimeout}
		if s.name == ActivityApplyCommand {
			var rec CommandRecord
			if err := args.Get(&rec); err == nil {
				s.command = rec.Actor.Role != RoleSystem
			}
		}
		mu.Lock()
		all = append(all, s)
		mu.Unlock()
	})
	scriptHappy(t, h)
	h.run(testInput(t))
	if r := h.result(); r.Stage != StageClosed {
		t.Fatalf("selection ended at %s", r.Stage)
	}
	kinds := map[string]bool{}
	for _, s := range all {
		kinds[s.name] = true
		switch {
		case s.name == ActivitySnapshotApplications:
			if s.heartbeat == 0 || s.heartbeat > 10*time.Second || s.scheduleToClose == 0 {
				t.Errorf("snapshot: heartbeat timeout %s, budget %s", s.heartbeat, s.scheduleToClose)
			}
		case s.startToClose > 10*time.Second || s.scheduleToClose == 0:
			t.Errorf("%s: start-to-close %s, budget %s", s.name, s.startToClose, s.scheduleToClose)
		case s.command && s.scheduleToClose > 30*time.Second:
			t.Errorf("a command's store write may take %s", s.scheduleToClose)
		}
	}
	if !kinds[ActivityApplyCommand] || !kinds[ActivityProjectWindow] || !kinds[ActivitySnapshotApplications] {
		t.Errorf("activities seen: %v", kinds)
	}
}
