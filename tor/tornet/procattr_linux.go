package tornet

import "syscall"

// sysProcAttr makes the kernel kill a tor when the thread that forked it
// exits; startChild keeps that thread for the tor's life, so that no tor
// outlives a crashed or killed test, and none dies before its time.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
