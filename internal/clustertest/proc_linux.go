package clustertest

import "syscall"

// childProcAttr has Linux kill the server when the test process dies, so that an interrupted
// test run leaves no server holding its ports and databases.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
