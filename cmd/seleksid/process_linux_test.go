package main

import "syscall"

// childProcAttr has Linux kill the seleksid child when the test process dies, so that an
// interrupted test run leaves no server holding its ports and data directory.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
