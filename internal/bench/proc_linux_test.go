package bench

import (
	"os"
	"testing"
)

func TestStatCPUTicks(t *testing.T) {
	tests := []struct {
		name, stat string
		want       int64
		wantErr    bool
	}{
		{"plain", "1234 (seleksid) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0 100 0 0", 325, false},
		// A command name may hold spaces and parentheses: only the last ')' ends it.
		{"odd name", "99 (a) b (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 10, false},
		{"no name", "1234 seleksid S 1", 0, true},
		{"short", "1234 (seleksid) S 1 2 3", 0, true},
		{"not a number", "1234 (x) S 1 1234 1234 0 -1 0 0 0 0 0 x 75 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statCPUTicks([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("statCPUTicks(%q) = %d, %v; want %d, error %v", tt.stat, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestProcessMeterSelf reads this test process: its peak memory is at least the memory it
// holds, and a reset peak reads again.
func TestProcessMeterSelf(t *testing.T) {
	m := NewProcessMeter(os.Getpid())
	if _, err := m.CPU(); err != nil {
		t.Fatalf("CPU: %v", err)
	}
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	peak, err := m.PeakRSS()
	if err != nil {
		t.Fatalf("PeakRSS: %v", err)
	}
	if peak < int64(len(held)) {
		t.Errorf("peak RSS %d bytes with %d bytes touched, want at least that", peak, len(held))
	}
	if err := m.ResetPeak(); err != nil {
		t.Fatalf("ResetPeak: %v", err)
	}
	if _, err := m.PeakRSS(); err != nil {
		t.Fatalf("PeakRSS after reset: %v", err)
	}
	if held[len(held)-1] != byte(len(held)-1) {
		t.Fatal("held memory changed")
	}
}
