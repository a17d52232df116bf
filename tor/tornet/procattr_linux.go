package tornet

import "syscall"

// sysProcAttr makes the kernel kill a tor when the test process that started
// it dies, so that no tor outlives a crashed or killed test.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
