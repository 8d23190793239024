//go:build !linux

package clustertest

import "syscall"

// childProcAttr sets nothing where there is no parent-death signal.
func childProcAttr() *syscall.SysProcAttr { return nil }
