package murmur

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr puts the server in a process group of its own (childproc adds
// the death signal that keeps it from outliving a killed Tumble).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killStale kills the server whose pid pidFile names if it still runs with
// iniPath: one left over from a Tumble that died without Pdeathsig's help.
// The caller holds the directory lock, so it is not another Tumble's.
func killStale(pidFile, iniPath string) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !bytes.Contains(cmdline, []byte(iniPath)) {
		return
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
