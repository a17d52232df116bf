//go:build !linux

package murmur

import "syscall"

// sysProcAttr returns nil: only Linux has a parent-death signal.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killStale does nothing where processes cannot be identified safely.
func killStale(pidFile, iniPath string) {}
