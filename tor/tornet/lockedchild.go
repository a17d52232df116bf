package tornet

import (
	"os/exec"
	"runtime"
)

// startChild starts cmd with sysProcAttr and returns once it has started or
// failed to; once cmd has exited, exited is called with cmd.Wait's result.
//
// Linux sends the parent-death signal when the thread that forked the child
// exits, not the process, and the Go runtime ends a thread when a goroutine
// locked to it returns (mumble/murmur's server goroutine does, by design). A
// tor forked from an ordinary goroutine died with the first room a test in
// the same binary stopped (a CI run: the network's three relays, killed in
// mid-test). So one goroutine forks and waits with its thread locked: no
// other goroutine runs on that thread or ends it. (mumble/internal/childproc
// is the same for Mumble servers; tor/ may not import it.)
func startChild(cmd *exec.Cmd, exited func(error)) error {
	cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the child
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}

// runChild runs cmd as startChild starts it and waits for it to exit.
func runChild(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	if err := startChild(cmd, func(err error) { done <- err }); err != nil {
		return err
	}
	return <-done
}
