//go:build !linux

package childproc

import "os/exec"

// setDeathSignal does nothing: only Linux ties a child's life to its
// parent's.
func setDeathSignal(*exec.Cmd) {}
