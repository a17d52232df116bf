// Package childproc starts child processes that die with this process.
//
// On Linux the kernel sends a child its parent-death signal (Pdeathsig) when
// the thread that forked it exits, not when the process does. The Go runtime
// ends a thread when a goroutine locked to it returns without unlocking, so a
// child forked from an ordinary goroutine dies whenever the runtime later
// hands that thread to such a goroutine: the murmur package's server
// goroutine is one, and a private Tor network's relays died with the first
// room a test stopped. Start forks and waits from one goroutine that keeps
// its thread locked, so no other goroutine can run on that thread or end it.
package childproc

import (
	"os/exec"
	"runtime"
)

// Start starts cmd so that the kernel kills it (SIGKILL) if this process
// dies, where the system can (Linux), and returns once it has started or
// failed to. Once cmd has exited, exited is called with cmd.Wait's result,
// on a goroutine of its own. Start adds the death signal to
// cmd.SysProcAttr, creating it if nil.
func Start(cmd *exec.Cmd, exited func(error)) error {
	setDeathSignal(cmd)
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, the child's parent, ends with the
		// goroutine, once the child has exited.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}

// Run starts cmd as Start does and waits for it to exit.
func Run(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	if err := Start(cmd, func(err error) { done <- err }); err != nil {
		return err
	}
	return <-done
}
