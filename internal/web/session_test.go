package web

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// TestSafeNext: a return address stays on this site, whatever a link or form carries.
func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/lamaran", "/lamaran"},
		{"/seleksi/a?x=1#b", "/seleksi/a?x=1#b"},
		{"", "/"},
		{"lamaran", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/a\\b", "/"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // a path on this site
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSelectionNow: deadlines of a selection with compressed days are compared on its own
// calendar; others on the wall clock.
func TestSelectionNow(t *testing.T) {
	wall := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	openWall := wall.Add(-10 * time.Second)
	open := time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)
	scaled := &seleksiv1.Selection{TimeScale: 8640, StageOpenTime: timestamppb.New(open), StageOpenWallTime: timestamppb.New(openWall)}
	if got, want := selectionNow(scaled, wall), open.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("scaled: %s, want %s (10 s at 8640x is a day)", got, want)
	}
	plain := &seleksiv1.Selection{StageOpenTime: timestamppb.New(open), StageOpenWallTime: timestamppb.New(openWall)}
	if got := selectionNow(plain, wall); !got.Equal(wall) {
		t.Errorf("unscaled: %s, want the wall clock %s", got, wall)
	}
}
