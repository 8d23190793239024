package workflows

import (
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

func TestExtensionWhenTooFewApplicants(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	one := apps(1, start.Add(time.Hour))
	store := &fakeStore{snapshots: [][]SnapshotApplication{one, one, apps(3, start.Add(time.Hour))}}
	h := newHarness(t, start, store)
	var st *SelectionState
	// Two extensions of five working days: 13-17 July, then 20-24 July.
	h.at(wib(t, "2026-07-27 09:00"), func() { st = h.state() })
	cancel := h.sendAt(wib(t, "2026-07-27 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))
	mustAccept(t, cancel)

	if len(store.windows) != 3 || store.windows[1].Extension != 1 || store.windows[2].Extension != 2 {
		t.Fatalf("windows = %+v", store.windows)
	}
	if want := time.Date(2026, 7, 24, 17, 0, 0, 0, time.UTC); !store.windows[2].Closes.Equal(want) {
		t.Errorf("second extension closes %s, want %s", store.windows[2].Closes, want)
	}
	if st.Stage != StageAdministrativeScreening || len(st.Applications) != 3 || st.Announcement.Extensions != 2 || st.Announcement.Snapshots != 3 {
		t.Errorf("state after extensions: stage %s, %d applications, %d extensions", st.Stage, len(st.Applications), st.Announcement.Extensions)
	}
	if got := len(store.find(EvtExtended)); got != 2 {
		t.Errorf("%d extension records", got)
	}
}

func TestPostponedWhenStillTooFew(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	store := &fakeStore{snapshots: [][]SnapshotApplication{apps(2, start.Add(time.Hour))}}
	h := newHarness(t, start, store)
	in := testInput(t)
	in.Windows.MaxExtensions = 1
	h.run(in)
	r := h.result()
	if r.Stage != StageCancelled || r.Cancellation == nil || !r.Cancellation.Postponed || r.Cancellation.Stage != StageAnnouncement {
		t.Fatalf("result = %+v", r)
	}
	rec := store.find(EvtPostponed)
	if len(rec) != 1 || len(rec[0].Applications) != 2 || rec[0].Applications[0].State != AppNotSelected {
		t.Errorf("postponement record = %+v", rec)
	}
}

func TestContinueWithTooFew(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	store := &fakeStore{snapshots: [][]SnapshotApplication{apps(2, start.Add(time.Hour))}}
	h := newHarness(t, start, store)
	in := testInput(t)
	in.Windows.MaxExtensions = 0
	in.Windows.WhenTooFew = PolicyContinue
	var st *SelectionState
	h.at(wib(t, "2026-07-13 09:00"), func() { st = h.state() })
	h.sendAt(wib(t, "2026-07-13 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(in)
	if st.Stage != StageAdministrativeScreening || len(st.Applications) != 2 {
		t.Errorf("stage %s with %d applications", st.Stage, len(st.Applications))
	}
}

func TestNoApplicantsPostponesEvenWhenContinuing(t *testing.T) {
	store := &fakeStore{}
	h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
	in := testInput(t)
	in.Windows.MaxExtensions = 0
	in.Windows.WhenTooFew = PolicyContinue
	h.run(in)
	if r := h.result(); r.Stage != StageCancelled || !r.Cancellation.Postponed {
		t.Errorf("result = %+v", r)
	}
}

func TestTimeScaleCompressesDays(t *testing.T) {
	start := wib(t, "2026-07-06 08:00")
	store := &fakeStore{snapshots: [][]SnapshotApplication{apps(3, start.Add(time.Minute))}}
	h := newHarness(t, start, store)
	in := testInput(t)
	in.TimeScale.SecondsPerDay = 60 // one selection day per minute
	var st *SelectionState
	// The window closes 4 days 16 hours of selection time after the start: 280 wall seconds.
	h.at(start.Add(281*time.Second), func() { st = h.state() })
	h.sendAt(start.Add(282*time.Second), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "demo over"})
	h.run(in)
	if st == nil || st.Stage != StageAdministrativeScreening || st.Clock.SecondsPerDay != 60 {
		t.Fatalf("state = %+v", st)
	}
	w := store.windows[0]
	if !w.Closes.Equal(time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC)) || !w.ClosesWall.Equal(start.Add(280*time.Second)) {
		t.Errorf("window closes %s (wall %s)", w.Closes, w.ClosesWall)
	}
	// Both clocks are given for the opening too, and every record carries its wall-clock
	// instant, so that views show open and close times in the same clock.
	if !w.OpensWall.Equal(w.Opens) || !w.Opens.Equal(start) {
		t.Errorf("window opens %s (wall %s), want the start %s", w.Opens, w.OpensWall, start)
	}
	closed := store.find(EvtClosed)[0]
	if !closed.At.Equal(w.Closes) || !closed.AtWall.Equal(w.ClosesWall) {
		t.Errorf("close recorded at %s (wall %s), want %s (wall %s)", closed.At, closed.AtWall, w.Closes, w.ClosesWall)
	}
}

// TestSupplyHolidaysAtYearEnd: an objection window that reaches into 2027 cannot be counted
// until the secretariat supplies the 2027 list; then the stage can be published.
func TestSupplyHolidaysAtYearEnd(t *testing.T) {
	start := wib(t, "2026-12-01 08:00")
	store := &fakeStore{snapshots: [][]SnapshotApplication{apps(3, start.Add(time.Hour))}}
	h := newHarness(t, start, store)
	verdicts := h.sendAt(wib(t, "2026-12-29 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: StageAdministrativeScreening,
		Results: []ResultInput{{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass}, {ApplicationID: appID(3), Outcome: OutcomePass}}})
	refused := h.sendAt(wib(t, "2026-12-30 09:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	byCommittee := h.sendAt(wib(t, "2026-12-30 09:10"), UpdateSupplyHolidays, SupplyHolidaysArgs{Actor: committee(chair), Years: []calendar.Year{year2027(t)}})
	supply := h.sendAt(wib(t, "2026-12-30 09:20"), UpdateSupplyHolidays, SupplyHolidaysArgs{Actor: adminActor, Years: []calendar.Year{year2027(t)}, Reason: "SKB 2027 published"})
	again := h.sendAt(wib(t, "2026-12-30 09:30"), UpdateSupplyHolidays, SupplyHolidaysArgs{Actor: adminActor, Years: []calendar.Year{year2027(t)}})
	advance := h.sendAt(wib(t, "2026-12-30 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: StageAdministrativeScreening})
	h.sendAt(wib(t, "2027-01-05 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
	h.run(testInput(t))
	mustAccept(t, verdicts, supply, advance)
	m := mustReject(t, refused, RejectCalendar)
	if m.Params.Get("year") != "2027" {
		t.Errorf("message %+v", m)
	}
	mustReject(t, byCommittee, RejectWrongActor)
	mustReject(t, again, RejectDuplicate)
	// 30 and 31 December, then 1 January 2027 is a holiday: the third day is Monday 4 January.
	if d := store.find(CmdAdvance)[0].Result.ObjectionDeadline; !d.Equal(time.Date(2027, 1, 4, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("deadline %s", d)
	}
}

func year2027(t *testing.T) calendar.Year {
	return calendar.Year{Year: 2027, Days: []calendar.Holiday{
		{Date: calendar.MustDate("2027-01-01"), Kind: calendar.NationalHoliday, NameEN: "New Year's Day"}}}
}

// TestAnnouncementCloseReminders: the window opened Monday 6 July closes at the end of Friday
// 10 July and is extended twice (to Friday 17 and Friday 24). Before each close the
// candidates who have not finished applying are reminded, once per window, at the start of
// the window's ReminderLeadDays-th working day from its end, addressed to the store's
// recipient that names them, with the close in the message.
func TestAnnouncementCloseReminders(t *testing.T) {
	tests := []struct {
		name      string
		deadlines Deadlines
		want      []string
	}{
		{"defaults", Deadlines{}, []string{"2026-07-10 00:00", "2026-07-17 00:00", "2026-07-24 00:00"}},
		{"two days' lead", Deadlines{ReminderLeadDays: 2}, []string{"2026-07-09 00:00", "2026-07-16 00:00", "2026-07-23 00:00"}},
	}
	closes := []time.Time{
		time.Date(2026, 7, 10, 17, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 17, 17, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 24, 17, 0, 0, 0, time.UTC),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := wib(t, "2026-07-06 08:00")
			one := apps(1, start.Add(time.Hour))
			store := &fakeStore{snapshots: [][]SnapshotApplication{one, one, apps(3, start.Add(time.Hour))}}
			h := newHarness(t, start, store)
			cancel := h.sendAt(wib(t, "2026-07-27 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
			in := testInput(t)
			in.Deadlines = tt.deadlines
			h.run(in)
			mustAccept(t, cancel)

			recs := store.find(EvtAnnouncementReminder)
			if len(recs) != len(tt.want) {
				t.Fatalf("%d reminders, want %d: %v", len(recs), len(tt.want), store.kinds())
			}
			for i, r := range recs {
				at := r.At.In(time.FixedZone("WIB", 7*3600)).Format("2006-01-02 15:04")
				if at != tt.want[i] {
					t.Errorf("reminder %d at %s, want %s", i+1, at, tt.want[i])
				}
				m := r.Message
				if m == nil || m.Code != CodeEventAnnouncementClosing || m.Params.Get("deadline") != closes[i].Format(time.RFC3339) ||
					m.Params.Get("zone") == "" {
					t.Errorf("reminder %d message %+v, want the close %s", i+1, m, closes[i])
				}
				if len(r.Recipients) != 1 || r.Recipients[0] != RecipientUnfinishedApplicants || len(r.Candidates) != 0 ||
					r.Stage != StageAnnouncement || len(r.Applications) != 0 {
					t.Errorf("reminder %d: recipients %v, candidates %v, stage %s", i+1, r.Recipients, r.Candidates, r.Stage)
				}
			}
			checkRecords(t, store)
		})
	}
}
