package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// testGroupCommit runs one group commit of submissions to a selection, some of which must be
// refused, and checks that each is answered for itself: the refused ones store nothing, the
// others commit with consecutive participant numbers and audit events, and a request sent
// twice in the batch is one application.
func testGroupCommit(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-g")
	submit(t, s, newSubmission("sel-g", 0, t0.Add(time.Minute)))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	late := newSubmission("sel-g", 5, t0.Add(300*time.Hour)) // after the window
	sameNIP := newSubmission("sel-g", 6, t0.Add(time.Minute))
	sameNIP.Candidate.NIP = nip(0)
	reused := newSubmission("sel-g", 7, t0.Add(time.Minute))
	reused.RequestID = newSubmission("sel-g", 1, t0).RequestID // other content
	tests := []struct {
		name    string
		ctx     context.Context
		in      SubmitInput
		want    error // nil: stored
		sameAs  int   // index of the item whose application it must be, or -1
		ownSeat bool
	}{
		{"new", ctx, newSubmission("sel-g", 1, t0.Add(time.Minute)), nil, -1, true},
		{"closed window", ctx, late, ErrFailedPrecondition, -1, false},
		{"new after a refusal", ctx, newSubmission("sel-g", 2, t0.Add(time.Minute)), nil, -1, true},
		{"same NIP as a stored one", ctx, sameNIP, ErrConflict, -1, false},
		{"retry within the batch", ctx, newSubmission("sel-g", 2, t0.Add(time.Minute)), nil, 2, false},
		{"request ID reused", ctx, reused, ErrConflict, -1, false},
		{"caller gone", cancelled, newSubmission("sel-g", 8, t0.Add(time.Minute)), context.Canceled, -1, false},
		{"new at the end", ctx, newSubmission("sel-g", 3, t0.Add(time.Minute)), nil, -1, true},
	}
	batch := make([]*submitItem, len(tests))
	for i, tc := range tests {
		in, reqSHA, err := prepareSubmission(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		batch[i] = &submitItem{ctx: tc.ctx, in: in, reqSHA: reqSHA}
	}
	// What one submission stores beside its application, counted on the first one.
	notices := count(t, s, "notifications", "selection_id = ?", "sel-g")
	events := count(t, s, "audit_events", "selection_id = ?", "sel-g")
	if err := s.submitBatch(ctx, batch); err != nil {
		t.Fatalf("batch: %v", err)
	}
	seats := map[int]bool{}
	for i, tc := range tests {
		it := batch[i]
		if !errors.Is(it.err, tc.want) || (tc.want == nil) != (it.err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, it.err, tc.want)
			continue
		}
		if tc.want != nil {
			if it.out.id != "" {
				t.Errorf("%s: refused but answered application %q", tc.name, it.out.id)
			}
			continue
		}
		if tc.sameAs >= 0 && it.out.id != batch[tc.sameAs].out.id {
			t.Errorf("%s: application %q, want %q", tc.name, it.out.id, batch[tc.sameAs].out.id)
		}
		app, err := s.GetApplication(ctx, "sel-g", it.out.id)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.ownSeat {
			if seats[app.ParticipantSeq] {
				t.Errorf("%s: participant seq %d given twice", tc.name, app.ParticipantSeq)
			}
			seats[app.ParticipantSeq] = true
		}
	}
	for seq := 1; seq <= 4; seq++ {
		if seq > 1 && !seats[seq] {
			t.Errorf("participant seq %d not given; given %v", seq, seats)
		}
	}
	if n := count(t, s, "applications", "selection_id = ?", "sel-g"); n != 4 {
		t.Errorf("%d applications, want 4", n)
	}
	if n := count(t, s, "candidates", "selection_id = ?", "sel-g"); n != 4 {
		t.Errorf("%d candidates, want 4 (a refused submission left its candidate row)", n)
	}
	if n := count(t, s, "notifications", "selection_id = ?", "sel-g"); n != 4*notices {
		t.Errorf("%d notifications, want %d", n, 4*notices)
	}
	rep, err := s.VerifyChain(ctx, "sel-g")
	if err != nil || !rep.OK || rep.EventsChecked != events+3 {
		t.Fatalf("chain = %+v, %v; want %d events, linked", rep, err, events+3)
	}
}

// testSubmitAnswer: SubmitApplication answers a new application from the rows it stored
// rather than reading them back; the answer must be what a read returns, and a retry of the
// request (which does read) must answer the same.
func testSubmitAnswer(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-a")
	in := newSubmission("sel-a", 1, t0.Add(90*time.Minute+123456789))
	got := submit(t, s, in)
	checkGetApplication(t, s, "sel-a", got.ID)
	read, err := s.GetApplication(ctx, "sel-a", got.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Only GetApplication reads the selection's intake facts with the application; the
	// answers of writes leave them out.
	read.Intake = nil
	if !reflect.DeepEqual(got, read) {
		t.Errorf("submit answered\n%+v\nread back\n%+v", got, read)
	}
	if again := submit(t, s, in); !reflect.DeepEqual(again, read) {
		t.Errorf("a retry answered\n%+v\nread back\n%+v", again, read)
	}
}

// testGroupCommitAsOneByOne: a group commit stores exactly what its submissions would have
// stored one transaction each, in the same order: the same audit events (sequence numbers,
// payloads, previous hashes and hashes), the same head, version and update time of the
// selection, the same participant numbers, notifications and proof-of-registration jobs,
// with refusals in between leaving no trace in either.
func testGroupCommitAsOneByOne(t *testing.T, open factory) {
	ctx := context.Background()
	inputs := func() []*submitItem {
		var items []*submitItem
		for i := range 7 {
			in := newSubmission("sel-o", i, t0.Add(time.Duration(i+1)*time.Minute))
			in.ID = "app-o" + itoa(i)
			in.ParticipantNumber = func(zone string, seq int) (string, error) { return zone + "-" + itoa(seq), nil }
			switch i {
			case 2: // a duplicate NIP: refused in its savepoint
				in.Candidate.NIP = nip(1)
			case 4: // a retry of submission 3
				in = items[3].in
			case 5: // refused after taking its participant number, which the next one gets
				in.ParticipantNumber = func(string, int) (string, error) { return "", errors.New("no number format") }
			}
			in, reqSHA, err := prepareSubmission(in)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, &submitItem{ctx: ctx, in: in, reqSHA: reqSHA})
		}
		return items
	}
	type stored struct {
		sel    selectionRow
		events []auditRow
		apps   []applicationRow
		notes  []notificationRow
		jobs   []officialJobRow
	}
	read := func(s *Store) stored {
		var st stored
		if err := s.db.Take(&st.sel, "id = ?", "sel-o").Error; err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			dest  any
			order string
		}{{&st.events, "seq"}, {&st.apps, "participant_seq"}, {&st.notes, "id"}, {&st.jobs, "kind, subject"}} {
			if err := s.db.Where("selection_id = ?", "sel-o").Order(q.order).Find(q.dest).Error; err != nil {
				t.Fatal(err)
			}
		}
		for i := range st.apps {
			st.apps[i].CandidateID = "" // random
		}
		return st
	}
	refused := func(i int) bool { return i == 2 || i == 5 }
	alone, group := open(t, true), open(t, true)
	openWindow(t, alone, "sel-o")
	openWindow(t, group, "sel-o")
	for i, it := range inputs() {
		err := alone.submitBatch(ctx, []*submitItem{it})
		if refused(i) != (err != nil) {
			t.Fatalf("alone, submission %d: %v", i, err)
		}
	}
	batch := inputs()
	if err := group.submitBatch(ctx, batch); err != nil {
		t.Fatalf("group: %v", err)
	}
	for i, it := range batch {
		if refused(i) != (it.err != nil) {
			t.Fatalf("group, submission %d: %v", i, it.err)
		}
	}
	want, got := read(alone), read(group)
	if len(got.events) < 4 || len(got.apps) != 4 {
		t.Fatalf("group stored %d events and %d applications, want at least 4 and 4", len(got.events), len(got.apps))
	}
	for k, a := range got.apps {
		if a.ParticipantSeq != k+1 {
			t.Errorf("application %s has participant number %d, want %d: a refusal's number is given to the next", a.ID, a.ParticipantSeq, k+1)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("a group commit stored\n%+v\none by one\n%+v", got, want)
	}
}
