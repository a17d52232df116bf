//go:build !linux

package murmur

import "syscall"

// sysProcAttr returns nil: the server stays in Tumble's process group.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killStale does nothing where processes cannot be identified safely.
func killStale(pidFile, iniPath string) {}
