package flows

import (
	"slices"
	"testing"
	"time"
)

func TestAnnouncementDays(t *testing.T) {
	for _, tc := range []struct {
		name          string
		intake        time.Duration
		secondsPerDay int64
		want          int
	}{
		{"real days", time.Hour, 0, 1},
		{"a partial day and the whole days the intake needs", 6 * time.Second, 2, 4},
		{"an intake shorter than a day", time.Second, 2, 2},
		{"at most 60 working days", 10 * time.Minute, 2, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plan{intake: tc.intake, secondsPerDay: tc.secondsPerDay}
			if got := p.announcementDays(); got != tc.want {
				t.Errorf("announcementDays() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestExpectedShortlist checks the ranking the driver expects from the scores it gives: the
// first candidates to apply, less those screened out, and only above the final pass mark.
func TestExpectedShortlist(t *testing.T) {
	apps := func(n int) []string {
		out := make([]string, n)
		for k := range out {
			out[k] = "a" + string(rune('0'+k%10)) + string(rune('a'+k/10))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		n    int
		want []int
	}{
		{"one applicant", 1, []int{0}},
		{"six applicants", 6, []int{0, 1, 2}},
		{"the tenth is screened out", 12, []int{0, 1, 2}},
		{"nobody above the final pass mark", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{apps: apps(tc.n)}
			var want []string
			for _, k := range tc.want {
				want = append(want, r.apps[k])
			}
			if got := r.expectedShortlist(); !slices.Equal(got, want) {
				t.Errorf("expectedShortlist() = %v, want %v", got, want)
			}
		})
	}
	// The pass marks fall where scoreOf says: the final one (65) after candidate 3,000, the
	// competency test's (60) after 3,500.
	if scoreOf(3000) != 65 || scoreOf(3001) >= 65 || scoreOf(3500) != 60 || scoreOf(3501) >= 60 {
		t.Errorf("the pass marks fall at other candidates than documented: %v %v %v %v", scoreOf(3000), scoreOf(3001), scoreOf(3500), scoreOf(3501))
	}
}

func TestWallOf(t *testing.T) {
	open := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	openWall := time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		scale float64
		t     time.Time
		want  time.Time
	}{
		{"real time", 1, open.Add(48 * time.Hour), open.Add(48 * time.Hour)},
		{"two seconds a day", 43200, open.Add(48 * time.Hour), openWall.Add(4 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := selectionJSON{TimeScale: tc.scale, StageOpenTime: open, StageOpenWallTime: openWall}
			if got := s.wallOf(tc.t); !got.Equal(tc.want) {
				t.Errorf("wallOf(%s) = %s, want %s", tc.t, got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name       string
		attempt    int
		retryAfter string
		lo, hi     time.Duration
	}{
		{"first retry", 1, "", 25 * time.Millisecond, 50 * time.Millisecond},
		{"capped", 20, "", time.Second, 2 * time.Second},
		{"the server's Retry-After", 3, "2", 2 * time.Second, 2*time.Second + 100*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				if d := backoff(tc.attempt, tc.retryAfter); d < tc.lo || d > tc.hi {
					t.Fatalf("backoff(%d, %q) = %s, want within [%s, %s]", tc.attempt, tc.retryAfter, d, tc.lo, tc.hi)
				}
			}
		})
	}
}
