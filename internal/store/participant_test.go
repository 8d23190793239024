package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// testParticipantNumbers: concurrent submissions get the sequences 1..N of their selection
// exactly once, each rendered by the format the caller passes; a retry keeps its number; a
// withdrawn application keeps its number and the next one continues after it; another
// selection counts from 1; lists order by the sequence.
func testParticipantNumbers(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-p")
	openWindow(t, s, "sel-q")
	format := func(zone string, seq int) (string, error) { return fmt.Sprintf("JPT/%s/%03d", zone, seq), nil }
	const n = 120
	apps := make([]Application, n)
	errs := parallel(n, func(i int) error {
		in := newSubmission("sel-p", i, t0.Add(time.Duration(i)*time.Millisecond))
		in.ParticipantNumber = format
		a, err := s.SubmitApplication(ctx, in)
		apps[i] = a
		return err
	})
	seen := map[int]string{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submission %d: %v", i, err)
		}
		a := apps[i]
		if prev, dup := seen[a.ParticipantSeq]; dup {
			t.Fatalf("sequence %d given to %s and %s", a.ParticipantSeq, prev, a.ID)
		}
		seen[a.ParticipantSeq] = a.ID
		if want := fmt.Sprintf("JPT/TIME_ZONE_WIB/%03d", a.ParticipantSeq); a.ParticipantNumber != want {
			t.Errorf("application %s: number %q, want %q", a.ID, a.ParticipantNumber, want)
		}
	}
	for seq := 1; seq <= n; seq++ {
		if _, ok := seen[seq]; !ok {
			t.Fatalf("sequence %d was never given: numbers are not sequential (%d given)", seq, len(seen))
		}
	}

	// A retry answers the first number.
	retry := newSubmission("sel-p", 5, t0.Add(5*time.Millisecond))
	retry.ParticipantNumber = format
	again, err := s.SubmitApplication(ctx, retry)
	if err != nil || again.ParticipantNumber != apps[5].ParticipantNumber {
		t.Fatalf("retry: %q, %v; want %q", again.ParticipantNumber, err, apps[5].ParticipantNumber)
	}

	// Withdrawn numbers are never reused.
	if _, err := s.WithdrawBeforeClose(ctx, WithdrawInput{SelectionID: "sel-p", ApplicationID: seen[n], RequestID: "w",
		Actor: Actor{Subject: "cand-x", Role: "ROLE_ADMIN"}, Reason: "surat", Now: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	next := newSubmission("sel-p", n+1, t0.Add(2*time.Hour))
	next.ParticipantNumber = format
	a, err := s.SubmitApplication(ctx, next)
	if err != nil || a.ParticipantSeq != n+1 {
		t.Fatalf("after a withdrawal: sequence %d, %v; want %d", a.ParticipantSeq, err, n+1)
	}

	// Another selection counts on its own; without a format the number is the sequence.
	other, err := s.SubmitApplication(ctx, newSubmission("sel-q", 0, t0))
	if err != nil || other.ParticipantSeq != 1 || other.ParticipantNumber != "1" {
		t.Fatalf("other selection: %d %q, %v; want 1 \"1\"", other.ParticipantSeq, other.ParticipantNumber, err)
	}

	// The list in participant-number order, descending, starts at the last one.
	page, err := s.ListApplications(ctx, "sel-p", ListOptions{OrderBy: "participant_number desc", PageSize: 3})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("list: %+v, %v", page, err)
	}
	for i, it := range page.Items {
		if it.ParticipantSeq != n+1-i {
			t.Errorf("item %d: sequence %d, want %d", i, it.ParticipantSeq, n+1-i)
		}
	}
	page, err = s.ListApplications(ctx, "sel-p", ListOptions{OrderBy: "participant_number desc", PageSize: 3, PageToken: page.NextPageToken})
	if err != nil || len(page.Items) == 0 || page.Items[0].ParticipantSeq != n-2 {
		t.Fatalf("second page: %+v, %v", page.Items, err)
	}
	rep, err := s.VerifyChain(ctx, "sel-p")
	if err != nil || !rep.OK {
		t.Fatalf("chain = %+v, %v", rep, err)
	}
}
