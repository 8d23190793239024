package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the unit of the CPU times in /proc/PID/stat: USER_HZ, which Linux fixes at
// 100 on every architecture for the /proc interface whatever the kernel's own HZ.
const clockTicks = 100

// procMeter reads a Linux process's resource use from /proc.
type procMeter struct{ pid int }

// NewProcessMeter measures the process pid through /proc.
func NewProcessMeter(pid int) ProcessMeter { return procMeter{pid: pid} }

// CPU is utime + stime of /proc/PID/stat.
func (m procMeter) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid))
	if err != nil {
		return 0, fmt.Errorf("bench: cpu of process %d: %w", m.pid, err)
	}
	ticks, err := statCPUTicks(b)
	if err != nil {
		return 0, fmt.Errorf("bench: cpu of process %d: %w", m.pid, err)
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// statCPUTicks is utime + stime, in clock ticks, of the contents of /proc/PID/stat.
func statCPUTicks(stat []byte) (int64, error) {
	// The command name (field 2) is in parentheses and may hold spaces or parentheses
	// itself; the fields after its last ')' start with field 3, the state.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// utime and stime are fields 14 and 15, so 11 and 12 after the state (field 3).
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime or stime")
	}
	return utime + stime, nil
}

// PeakRSS is VmHWM of /proc/PID/status.
func (m procMeter) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return 0, fmt.Errorf("bench: peak memory of process %d: %w", m.pid, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: peak memory of process %d: %q", m.pid, line)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("bench: peak memory of process %d: no VmHWM", m.pid)
}

// ResetPeak writes 5 to /proc/PID/clear_refs, which resets VmHWM to the current RSS.
func (m procMeter) ResetPeak() error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", m.pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("bench: reset peak memory of process %d: %w", m.pid, err)
	}
	return nil
}

// SelfCPU is the CPU time (user and system) this process has used: the load generator's,
// so that a reader sees when the generator rather than seleksid is the limit.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("bench: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// childProcAttr has Linux kill seleksid when the bench dies, so that an interrupted run
// leaves no server holding its ports and data directory.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
