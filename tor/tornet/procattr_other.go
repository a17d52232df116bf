//go:build !linux

package tornet

import "syscall"

// sysProcAttr returns the default process attributes: only Linux can tie a
// tor's life to the test process. The torrc's __OwningControllerProcess
// still makes tor exit soon after the test process does.
func sysProcAttr() *syscall.SysProcAttr { return nil }
