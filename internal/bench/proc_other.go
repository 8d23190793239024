//go:build !linux

package bench

import (
	"errors"
	"syscall"
	"time"
)

// errNoProc is what the meter says where there is no Linux /proc.
var errNoProc = errors.New("bench: process figures need Linux (/proc)")

type noMeter struct{}

// NewProcessMeter measures nothing outside Linux; the figures are left out.
func NewProcessMeter(int) ProcessMeter { return noMeter{} }

func (noMeter) CPU() (time.Duration, error) { return 0, errNoProc }
func (noMeter) PeakRSS() (int64, error)     { return 0, errNoProc }
func (noMeter) ResetPeak() error            { return errNoProc }

// SelfCPU is not measured outside Linux.
func SelfCPU() (time.Duration, error) { return 0, errNoProc }

func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
