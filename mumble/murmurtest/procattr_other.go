//go:build !linux

package murmurtest

import "syscall"

// sysProcAttr returns the default process attributes: only Linux can tie a
// server's life to the test process.
func sysProcAttr() *syscall.SysProcAttr { return nil }
