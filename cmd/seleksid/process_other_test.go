//go:build !linux

package main

import "syscall"

// childProcAttr is empty where the parent's death cannot be tied to the child's; the test's
// cleanup still kills the child.
func childProcAttr() *syscall.SysProcAttr { return nil }
