package workflows

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestObjectionDeadlineTimers: an objection filed on Wednesday 12 August 2026 is due by the
// end of its third working day, Tuesday 18 August (the weekend and Independence Day, Monday
// 17 August, do not count). The committee is reminded when one working day remains (the
// start of Tuesday 18), and when Tuesday ends unanswered the chair and the secretariat are
// told and the objection shows overdue. An objection answered in time gets neither. The same
// holds in selection time under a compressed time scale, where the timers fire at the wall
// instants the clock gives.
func TestObjectionDeadlineTimers(t *testing.T) {
	for _, spd := range []int64{0, 60} {
		t.Run(map[int64]string{0: "real time", 60: "one day per minute"}[spd], func(t *testing.T) {
			start := wib(t, "2026-08-03 08:00")
			clock := Clock{Origin: start, SecondsPerDay: spd}
			at := func(s string) time.Time { return clock.Wall(wib(t, s)) }
			list := apps(5, start.Add(time.Minute))
			list[4].Facts.AgeAtClose = 57
			store := &fakeStore{snapshots: [][]SnapshotApplication{list}}
			h := newHarness(t, start, store)
			screening := StageAdministrativeScreening
			steps := []*outcome{
				h.sendAt(at("2026-08-10 09:00"), UpdateRecordResults, RecordResultsArgs{Actor: committee(secretary), Stage: screening,
					Results: []ResultInput{
						{ApplicationID: appID(1), Outcome: OutcomePass}, {ApplicationID: appID(2), Outcome: OutcomePass},
						{ApplicationID: appID(3), Outcome: OutcomePass}, {ApplicationID: appID(4), Outcome: OutcomeFail, Reason: "LHKPN missing"},
						{ApplicationID: appID(5), Outcome: OutcomeFail, Reason: "over the age limit"},
					}}),
				h.sendAt(at("2026-08-10 10:00"), UpdateAdvanceStage, AdvanceArgs{Actor: committee(chair), Stage: screening}),
				h.sendAt(at("2026-08-12 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(4), ApplicationID: appID(4), Stage: screening,
					Reason: "LHKPN was uploaded"}),
				h.sendAt(at("2026-08-12 09:10"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(5), ApplicationID: appID(5), Stage: screening,
					Reason: "I am 56"}),
				h.sendAt(at("2026-08-13 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
					ObjectionID: ObjectionID(screening, appID(5)), Answer: "the birth certificate says 1969"}),
			}
			var before, reminded, overdue *SelectionState
			h.at(at("2026-08-17 23:00"), func() { before = h.state() })
			h.at(at("2026-08-18 09:00"), func() { reminded = h.state() })
			h.at(at("2026-08-19 09:00"), func() { overdue = h.state() })
			steps = append(steps, h.sendAt(at("2026-08-20 09:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"}))
			in := testInput(t)
			in.TimeScale.SecondsPerDay = spd
			h.run(in)
			mustAccept(t, steps...)

			// The instant a timer fires, in selection time: exact at real time; under the
			// scale, within the rounding of one wall millisecond.
			near := func(got time.Time, want string) bool {
				w := wib(t, want)
				return !got.Before(w) && got.Sub(w) < 2*time.Second
			}
			reminders, escalations := store.find(EvtObjectionReminder), store.find(EvtObjectionOverdue)
			if len(reminders) != 1 || len(escalations) != 1 {
				t.Fatalf("%d reminders and %d escalations, want one each: %v", len(reminders), len(escalations), store.kinds())
			}
			r, e := reminders[0], escalations[0]
			if !near(r.At, "2026-08-18 00:00") || !r.AtWall.Equal(clock.Wall(r.At)) {
				t.Errorf("reminder at %s (wall %s), want the start of Tuesday 18 August", r.At, r.AtWall)
			}
			if !near(e.At, "2026-08-19 00:00") || !e.AtWall.Equal(clock.Wall(e.At)) {
				t.Errorf("escalation at %s (wall %s), want the end of Tuesday 18 August", e.At, e.AtWall)
			}
			wantMembers := []string{RecipientAccount(chair), RecipientAccount(secretary), RecipientAccount(member3),
				RecipientAccount(member4), RecipientAccount(member5)}
			if !slices.Equal(r.Recipients, wantMembers) {
				t.Errorf("reminder recipients %v, want %v", r.Recipients, wantMembers)
			}
			if want := []string{RecipientAccount(chair), RecipientSecretariat}; !slices.Equal(e.Recipients, want) {
				t.Errorf("escalation recipients %v, want %v", e.Recipients, want)
			}
			oid := ObjectionID(screening, appID(4))
			for _, rec := range []CommandRecord{r, e} {
				m := rec.Message
				if m == nil || m.Params.Get("application") != appID(4) || m.Params.Get("objection") != oid ||
					m.Params.Get("due") != "2026-08-18T17:00:00Z" || rec.Deadline == nil || rec.Deadline.Objection != oid {
					t.Errorf("%s record: message %+v, deadline %+v", rec.Kind, m, rec.Deadline)
				}
				if rec.Stage != screening || rec.Phase != PhaseObjections {
					t.Errorf("%s record moved the selection to %s/%s", rec.Kind, rec.Stage, rec.Phase)
				}
			}
			if m := r.Message; m.Code != CodeEventObjectionReminder || e.Message.Code != CodeEventObjectionOverdue || !e.Deadline.Overdue {
				t.Errorf("codes %s, %s; overdue %v", m.Code, e.Message.Code, e.Deadline.Overdue)
			}
			objection := func(st *SelectionState, id string) Objection {
				for _, o := range st.Objections {
					if o.ID == id {
						return o
					}
				}
				t.Fatalf("no objection %s", id)
				return Objection{}
			}
			if o := objection(before, oid); o.Reminded || o.Overdue {
				t.Errorf("before Tuesday: %+v", o)
			}
			if o := objection(reminded, oid); !o.Reminded || o.Overdue {
				t.Errorf("on Tuesday: %+v", o)
			}
			if o := objection(overdue, oid); !o.Reminded || !o.Overdue || overdue.Stage != screening {
				t.Errorf("on Wednesday: %+v in %s", o, overdue.Stage)
			}
			if o := objection(overdue, ObjectionID(screening, appID(5))); o.Reminded || o.Overdue {
				t.Errorf("the objection answered in time: %+v", o)
			}
			checkRecords(t, store)
		})
	}
}

// TestObjectionReminderAt: the reminder goes when ReminderLeadDays working days remain, and
// at once when the lead is as long as the period.
func TestObjectionReminderAt(t *testing.T) {
	cal := testInput(t).Calendar
	filed := wib(t, "2026-08-12 09:00")
	tests := []struct {
		d    Deadlines
		want time.Time
	}{
		{Deadlines{}, wib(t, "2026-08-18 00:00")},
		{Deadlines{ReminderLeadDays: 2}, wib(t, "2026-08-14 00:00")},
		{Deadlines{ObjectionAnswerDays: 5, ReminderLeadDays: 1}, wib(t, "2026-08-20 00:00")},
		{Deadlines{ObjectionAnswerDays: 2, ReminderLeadDays: 3}, filed},
	}
	for _, tt := range tests {
		got, err := tt.d.objectionReminderAt(cal, filed)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%+v: %s, %v; want %s", tt.d, got, err, tt.want)
		}
	}
}

// TestAppointmentDeadlineTimers: the shortlist is final at the end of Tuesday 28 July 2026
// (00:00 Wednesday 29 in Jakarta, the day it counts from); the PPK's choice is due by the end
// of the tenth working day after, Wednesday 12 August. The secretariat is reminded when one
// working day remains (the start of Wednesday 12) and told when that day ends without an
// appointment; the selection still waits for the PPK, who may appoint late. With a reminder
// lead longer than the period, the reminder goes as soon as the shortlist is final. An appointment made in time gets neither (TestHappyPath's records).
func TestAppointmentDeadlineTimers(t *testing.T) {
	tests := []struct {
		name                   string
		deadlines              Deadlines
		appointAt              string
		wantReminder, wantLate string // "" for none
	}{
		{"defaults, never appointed", Deadlines{}, "", "2026-08-12 00:00", "2026-08-13 00:00"},
		{"defaults, appointed late", Deadlines{}, "2026-08-14 09:00", "2026-08-12 00:00", "2026-08-13 00:00"},
		{"lead as long as the period", Deadlines{AppointmentDueDays: 2, ReminderLeadDays: 2}, "2026-07-31 09:00", "2026-07-30 00:00", ""},
		{"lead longer than the period", Deadlines{AppointmentDueDays: 2, ReminderLeadDays: 3}, "2026-07-29 09:00", "2026-07-29 00:00", ""},
		{"appointed before the reminder", Deadlines{ReminderLeadDays: 3}, "2026-08-06 09:00", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := happyStore(t)
			h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
			scriptToShortlist(t, h)
			var appoint *outcome
			if tt.appointAt != "" {
				appoint = h.sendAt(wib(t, tt.appointAt), UpdateAppoint, AppointArgs{Actor: adminActor, ApplicationID: appID(2),
					PPKDecreeRef: "800/77/2026", OversightRecommendationRef: "R-77/BKN/2026"})
			}
			var final, reminded, overdue *SelectionState
			h.at(wib(t, "2026-07-29 08:00"), func() { final = h.state() })
			h.at(wib(t, "2026-08-12 09:00"), func() { reminded = h.state() })
			h.at(wib(t, "2026-08-13 09:00"), func() { overdue = h.state() })
			var cancel *outcome
			if tt.appointAt == "" {
				cancel = h.sendAt(wib(t, "2026-08-14 10:00"), UpdateCancel, CancelArgs{Actor: adminActor, Reason: "test over"})
			}
			in := testInput(t)
			in.Deadlines = tt.deadlines
			h.run(in)
			if appoint != nil {
				mustAccept(t, appoint)
			} else {
				mustAccept(t, cancel)
			}

			if final.Phase != PhaseAppointment || !final.ShortlistFinalAt.Equal(wib(t, "2026-07-29 00:00")) {
				t.Fatalf("shortlist final: %s/%s at %s", final.Stage, final.Phase, final.ShortlistFinalAt)
			}
			check := func(kind, code, want string) {
				t.Helper()
				recs := store.find(kind)
				if want == "" {
					if len(recs) != 0 {
						t.Errorf("%d %s records, want none: %v", len(recs), kind, store.kinds())
					}
					return
				}
				if len(recs) != 1 {
					t.Fatalf("%d %s records, want one: %v", len(recs), kind, store.kinds())
				}
				r := recs[0]
				if !r.At.Equal(wib(t, want)) {
					t.Errorf("%s at %s, want %s", kind, r.At, wib(t, want))
				}
				if m := r.Message; m == nil || m.Code != code || m.Params.Get("zone") == "" {
					t.Errorf("%s message %+v", kind, m)
				}
				if !slices.Equal(r.Recipients, []string{RecipientSecretariat}) {
					t.Errorf("%s recipients %v", kind, r.Recipients)
				}
				if r.Stage != StageCommitteeDecision || r.Phase != PhaseAppointment || r.Deadline != nil {
					t.Errorf("%s record at %s/%s, deadline %+v", kind, r.Stage, r.Phase, r.Deadline)
				}
			}
			check(EvtAppointmentReminder, CodeEventAppointmentReminder, tt.wantReminder)
			check(EvtAppointmentOverdue, CodeEventAppointmentOverdue, tt.wantLate)
			if tt.wantLate != "" {
				rem, late := store.find(EvtAppointmentReminder)[0], store.find(EvtAppointmentOverdue)[0]
				if d := late.Message.Params.Get("due"); d != "2026-08-12T17:00:00Z" || rem.Message.Params.Get("due") != d {
					t.Errorf("due %s and %s, want the end of Wednesday 12 August", rem.Message.Params.Get("due"), d)
				}
				if !reminded.AppointmentReminded || reminded.AppointmentOverdue {
					t.Errorf("on Wednesday 12: reminded %v, overdue %v", reminded.AppointmentReminded, reminded.AppointmentOverdue)
				}
				if !overdue.AppointmentOverdue || overdue.Phase != PhaseAppointment {
					t.Errorf("on Thursday 13: overdue %v in %s", overdue.AppointmentOverdue, overdue.Phase)
				}
			}
			checkRecords(t, store)
		})
	}
}

// TestObjectionWindowReminders: in the happy script, app-0005 fails the screening published
// Monday 13 July with objections until the end of Wednesday 15; app-0004 fails the
// competency test published Thursday 16 with objections until the end of Monday 20. Each is
// reminded (as the owner of the application) at the start of the window's last working day,
// once, with the window's close; a candidate who has objected is not, and a stage that
// eliminated nobody reminds nobody.
func TestObjectionWindowReminders(t *testing.T) {
	tests := []struct {
		name      string
		deadlines Deadlines
		objection bool // app-0005 objects to the screening result on Tuesday 14
		want      map[string][]string
	}{
		{"defaults", Deadlines{}, false, map[string][]string{
			"2026-07-15 00:00": {appID(5)}, "2026-07-20 00:00": {appID(4)}}},
		{"two days' lead", Deadlines{ReminderLeadDays: 2}, false, map[string][]string{
			"2026-07-14 00:00": {appID(5)}, "2026-07-17 00:00": {appID(4)}}},
		{"a lead longer than the window", Deadlines{ReminderLeadDays: 5}, false, map[string][]string{
			"2026-07-13 10:00": {appID(5)}, "2026-07-16 10:00": {appID(4)}}},
		{"the candidate objected", Deadlines{}, true, map[string][]string{"2026-07-20 00:00": {appID(4)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := happyStore(t)
			h := newHarness(t, wib(t, "2026-07-06 08:00"), store)
			s := scriptHappy(t, h)
			var objection, answer *outcome
			if tt.objection {
				objection = h.sendAt(wib(t, "2026-07-14 09:00"), UpdateFileObjection, FileObjectionArgs{Actor: candidate(5),
					ApplicationID: appID(5), Stage: StageAdministrativeScreening, Reason: "I am 56"})
				answer = h.sendAt(wib(t, "2026-07-14 10:00"), UpdateAnswerObjection, AnswerObjectionArgs{Actor: committee(chair),
					ObjectionID: ObjectionID(StageAdministrativeScreening, appID(5)), Answer: "the birth certificate says 1969"})
			}
			in := testInput(t)
			in.Deadlines = tt.deadlines
			h.run(in)
			mustAccept(t, s.screening, s.advance1, s.competency, s.advance2, s.advance3, s.decide, s.appoint)
			if tt.objection {
				mustAccept(t, objection, answer)
			}
			got := map[string][]string{}
			for _, r := range store.find(EvtObjectionWindowReminder) {
				at := r.At.In(time.FixedZone("WIB", 7*3600)).Format("2006-01-02 15:04")
				if _, dup := got[at]; dup {
					t.Errorf("two reminders at %s", at)
				}
				got[at] = r.Candidates
				m := r.Message
				if m == nil || m.Code != CodeEventWindowReminder || m.Params.Get("stage") != string(r.Stage) ||
					m.Params.Get("deadline") == "" || len(r.Recipients) != 0 || r.Phase != PhaseObjections {
					t.Errorf("reminder at %s: message %+v, recipients %v, phase %s", at, m, r.Recipients, r.Phase)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reminders %v, want %v (records %v)", got, tt.want, store.kinds())
			}
			checkRecords(t, store)
		})
	}
}
