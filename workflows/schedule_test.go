package workflows

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// TestScheduledAnnouncementOpensOnTime: a selection created on Monday 6 July 2026 with its
// announcement scheduled for Monday 20 July 08:00 WIB is public in StageScheduled until then,
// takes no window, and opens by itself at that instant (time skipping through the durable
// timer), counting its window from there.
func TestScheduledAnnouncementOpensOnTime(t *testing.T) {
	tests := []struct {
		name          string
		secondsPerDay int64
		// wallOpen is when the opening is reached in workflow (wall) time.
		wallOpen func(start, opens time.Time) time.Time
	}{
		{"real time", 0, func(_, opens time.Time) time.Time { return opens }},
		// 14 days of selection time at one minute per day.
		{"time scale", 60, func(start, _ time.Time) time.Time { return start.Add(14 * time.Minute) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := wib(t, "2026-07-06 08:00")
			opens := wib(t, "2026-07-20 08:00")
			store := &fakeStore{snapshots: [][]SnapshotApplication{apps(3, opens.Add(time.Hour))}}
			h := newHarness(t, start, store)
			in := testInput(t)
			in.TimeScale.SecondsPerDay = tc.secondsPerDay
			in.AnnouncementOpensAt = opens
			wallOpen := tc.wallOpen(start, opens)
			var before, after *SelectionState
			var windowsBefore int
			h.at(wallOpen.Add(-time.Second), func() {
				before = h.state()
				store.mu.Lock()
				windowsBefore = len(store.windows)
				store.mu.Unlock()
			})
			h.at(wallOpen.Add(time.Second), func() { after = h.state() })
			h.sendAt(wallOpen.Add(2*time.Second), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
			h.run(in)

			if before == nil || before.Stage != StageScheduled || before.Announcement.Opens != (time.Time{}) || windowsBefore != 0 {
				t.Fatalf("before the opening: state %+v, %d windows projected", before, windowsBefore)
			}
			if after == nil || after.Stage != StageAnnouncement || after.Phase != PhaseOpen {
				t.Fatalf("after the opening: state %+v", after)
			}
			if !after.Announcement.Opens.Equal(opens) || !after.StageOpenedAt.Equal(opens) {
				t.Errorf("opened at %s (stage opened %s), want %s", after.Announcement.Opens, after.StageOpenedAt, opens)
			}
			// Five working days from Monday 20 July: until the end of Friday 24 July.
			if want := wib(t, "2026-07-25 00:00"); !after.Announcement.Closes.Equal(want) {
				t.Errorf("closes %s, want %s", after.Announcement.Closes, want)
			}
			// The store compares the wall clock with the window's bounds: both are wall time,
			// the opening before the close, however the selection's clock runs.
			if w := store.windows[0]; !w.Opens.Equal(wallOpen) || !w.Opens.Before(w.ClosesWall) {
				t.Errorf("projected window opens %s, closes (wall) %s; want it to open at %s", w.Opens, w.ClosesWall, wallOpen)
			}
			if kinds := store.kinds(); len(kinds) < 2 || kinds[0] != EvtScheduled || kinds[1] != EvtOpened {
				t.Errorf("records %v, want %s then %s", kinds, EvtScheduled, EvtOpened)
			}
			if rec := store.find(EvtScheduled); len(rec) != 1 || rec[0].Stage != StageScheduled || rec[0].Message == nil ||
				rec[0].Message.Code != CodeEventScheduled || rec[0].Message.Params.Get("opens") == "" {
				t.Errorf("scheduled record %+v", rec)
			}
		})
	}
}

// TestCancelWhileScheduled: the secretariat cancels a scheduled selection before its
// announcement opens; it ends cancelled from StageScheduled and never opens.
func TestCancelWhileScheduled(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	store := &fakeStore{}
	h := newHarness(t, start, store)
	in := testInput(t)
	in.AnnouncementOpensAt = wib(t, "2026-08-03 08:00")
	cancel := h.sendAt(wib(t, "2026-07-10 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "rencana berubah"})
	h.run(in)
	mustAccept(t, cancel)
	r := h.result()
	if r.Stage != StageCancelled || r.Cancellation == nil || r.Cancellation.Stage != StageScheduled {
		t.Fatalf("result %+v", r)
	}
	if len(store.windows) != 0 || len(store.find(EvtOpened)) != 0 {
		t.Errorf("the announcement opened: windows %+v, records %v", store.windows, store.kinds())
	}
	if got := store.kinds(); len(got) != 2 || got[0] != EvtScheduled || got[1] != CmdCancel {
		t.Errorf("records %v", got)
	}
	// The run ended when the cancel was applied, not at the scheduled opening.
	if now := h.env.Now(); !now.Before(wib(t, "2026-08-03 08:00")) {
		t.Errorf("workflow ran until %s", now)
	}
}

// TestPlanAnnouncementWindow: the plan counts the announcement, every extension and the
// first objection window as the workflow does, and names the first one that reaches a year
// with no holiday list.
func TestPlanAnnouncementWindow(t *testing.T) {
	shipped, err := calendar.Build(calendar.WIB, nil)
	if err != nil {
		t.Fatal(err)
	}
	with2027, err := calendar.Build(calendar.WIB, []calendar.Year{year2027(t)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cal      calendar.Calendar
		open     string
		w        Windows
		wantPart PlanPart
		wantLast string
		latest   string
	}{
		{"fits in 2026", shipped, "2026-11-30 10:00", Windows{AnnouncementDays: 5, ExtensionDays: 3, MaxExtensions: 1, ObjectionDays: 3},
			"", "2026-12-04", "2026-12-09"},
		// From Monday 30 November the 22nd working day is 31 December (24 and 25 December are off).
		{"announcement reaches 2027", shipped, "2026-11-30 10:00", Windows{AnnouncementDays: 25, ObjectionDays: 3}, PlanAnnouncement, "", ""},
		{"an extension reaches 2027", shipped, "2026-11-30 10:00", Windows{AnnouncementDays: 15, ExtensionDays: 10, MaxExtensions: 1, ObjectionDays: 1},
			PlanExtensions, "", ""},
		{"the objection window reaches 2027", shipped, "2026-11-30 10:00", Windows{AnnouncementDays: 20, ObjectionDays: 3}, PlanObjections, "", ""},
		// Two extensions of five days: 30 and 31 December, 4-6 January (1 January is off), then 7-13 January.
		{"2027 supplied", with2027, "2026-11-30 10:00", Windows{AnnouncementDays: 20, ExtensionDays: 5, MaxExtensions: 2, ObjectionDays: 5},
			"", "2026-12-29", "2027-01-13"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanAnnouncementWindow(tc.cal, tc.w, wib(t, tc.open))
			if tc.wantPart != "" {
				var pe *PlanError
				if !errors.As(err, &pe) || pe.Part != tc.wantPart || pe.UncoveredYear() != 2027 {
					t.Fatalf("error %v, want the %s window to reach 2027", err, tc.wantPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.LastDay.String() != tc.wantLast || p.LatestLastDay.String() != tc.latest {
				t.Errorf("last day %s, latest %s; want %s, %s", p.LastDay, p.LatestLastDay, tc.wantLast, tc.latest)
			}
			if end, _ := tc.cal.EndOf(p.LastDay); !end.Equal(p.Closes) || p.ObjectionCloses.Before(p.LatestCloses) {
				t.Errorf("plan %+v", p)
			}
		})
	}
}

// TestCancelRightAfterCreation: a cancel that arrives while a new selection is still
// recording its first step (the schedule, or the opening of the announcement) waits for it,
// then applies: the selection ends cancelled, with the records in order and numbered without
// a gap.
func TestCancelRightAfterCreation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opens string
		first string
	}{
		{"scheduled", "2026-08-03 08:00", EvtScheduled},
		{"opens at once", "", EvtOpened},
	} {
		t.Run(tc.name, func(t *testing.T) { cancelRightAfterCreation(t, tc.opens, tc.first) })
	}
}

func cancelRightAfterCreation(t *testing.T, opens, first string) {
	start := wib(t, "2026-07-06 08:00")
	store := &fakeStore{}
	h := newHarness(t, start, store)
	in := testInput(t)
	if opens != "" {
		in.AnnouncementOpensAt = wib(t, opens)
	}
	// The first record's store write holds until the cancel has been accepted (its validator
	// passed), so that the cancel's handler runs while the first step is under way.
	var (
		once, issued sync.Once
		accepted     = make(chan struct{})
		cancelErr    error
		completed    bool
	)
	store.onApply = func(rec CommandRecord) {
		if rec.Kind != first {
			return
		}
		issued.Do(func() {
			go h.env.UpdateWorkflow(UpdateCancel, "req-cancel-early", &testsuite.TestUpdateCallback{
				OnAccept:   func() { once.Do(func() { close(accepted) }) },
				OnReject:   func(err error) { cancelErr = err; once.Do(func() { close(accepted) }) },
				OnComplete: func(_ any, err error) { cancelErr, completed = err, true },
			}, CancelArgs{Actor: adminActor, Reason: "salah jadwal"})
			<-accepted
		})
	}
	h.run(in)
	if !completed || cancelErr != nil {
		t.Fatalf("cancel: completed %v, %v", completed, cancelErr)
	}
	if r := h.result(); r.Stage != StageCancelled {
		t.Fatalf("result %+v", r)
	}
	kinds := store.kinds()
	if len(kinds) != 2 || kinds[0] != first || kinds[1] != CmdCancel {
		t.Fatalf("records %v", kinds)
	}
	for i, r := range store.records {
		if r.Seq != int64(i+1) {
			t.Errorf("record %d (%s) has seq %d", i, r.Kind, r.Seq)
		}
	}
}

// TestScheduledOpeningBlocks: a scheduled opening that cannot be projected blocks the
// selection at the step that failed (opening the announcement), and it opens by itself once
// the store is back.
func TestScheduledOpeningBlocks(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	opens := wib(t, "2026-07-20 08:00")
	f := &faultyStore{fakeStore: &fakeStore{snapshots: [][]SnapshotApplication{apps(3, opens.Add(time.Hour))}},
		site: ActivityProjectWindow, class: faultClasses[1], on: true}
	h, _ := newFaultyHarness(t, start, f)
	in := testInput(t)
	in.AnnouncementOpensAt = opens
	var blocked, after *SelectionState
	h.at(opens.Add(time.Minute), func() { blocked = h.state(); f.clear() })
	h.at(opens.Add(time.Hour), func() { after = h.state() })
	h.sendAt(opens.Add(2*time.Hour), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(in)
	if blocked == nil || blocked.Blocked == nil || blocked.Blocked.Step != StepOpenAnnouncement || blocked.Stage != StageScheduled {
		t.Fatalf("while the store is away: %+v", blocked)
	}
	if after == nil || after.Blocked != nil || after.Stage != StageAnnouncement {
		t.Fatalf("once the store is back: %+v", after)
	}
}
