package participant

import (
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		format    string
		year      int
		selection string
		seq       int
		want      string
	}{
		{DefaultFormat, 2026, "sel-jpt-01", 7, "2026-sel-jpt-01-0007"},
		{"{seq}", 2026, "s", 12345, "12345"},
		{"JPT/{year}/{seq:3}", 2027, "s", 5, "JPT/2027/005"},
		// A sequence wider than its width is printed whole: numbers never collide.
		{"P{seq:2}", 2026, "s", 123, "P123"},
		{"{selection}.{seq:1}", 2026, "dinkes-2026", 9, "dinkes-2026.9"},
	}
	for _, tt := range tests {
		f, err := Parse(tt.format)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.format, err)
		}
		got, err := f.Number(tt.year, tt.selection, tt.seq)
		if err != nil || got != tt.want {
			t.Errorf("%q.Number(%d, %q, %d) = %q, %v; want %q", tt.format, tt.year, tt.selection, tt.seq, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		format, want string
	}{
		{"", "exactly once, found 0"},
		{"{year}-{selection}", "exactly once, found 0"},
		{"{seq}-{seq:3}", "exactly once, found 2"},
		{"{seq:0}", "width from 1 to 9"},
		{"{seq:10}", "width from 1 to 9"},
		{"{seq:x}", "width from 1 to 9"},
		{"{month}-{seq}", "{month} is not a placeholder"},
		{"{seq", "without its }"},
		{"A#{seq}", "'#' is not allowed"},
		{"A}{seq}", "'}' is not allowed"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.format)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.format, err, tt.want)
		}
	}
}

func TestNumberUnsetAndBadSequence(t *testing.T) {
	if _, err := (Format{}).Number(2026, "s", 1); err != ErrUnset {
		t.Errorf("zero Format: %v, want ErrUnset", err)
	}
	f, _ := Parse("{seq}")
	if _, err := f.Number(2026, "s", 0); err == nil {
		t.Error("sequence 0 accepted")
	}
}
