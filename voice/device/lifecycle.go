package device

import (
	"fmt"
	"sync"
)

// lifecycle is the start-once, close-once bookkeeping of the pure-Go
// devices (Null, File): one goroutine started by Start, stopped through
// stop, signalling done when it has returned. mu also guards the embedding
// device's own fields.
type lifecycle struct {
	mu      sync.Mutex
	started bool
	closed  bool
	stop    chan struct{}
	done    chan struct{} // closed by the device's goroutine when it returns
}

// start runs run in a goroutine the first time; what names the device in
// the error after Close.
func (l *lifecycle) start(what string, run func()) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("device: %s closed", what)
	}
	if !l.started {
		l.started = true
		go run()
	}
	return nil
}

// close stops the goroutine, if it was started, and waits for it to return
// (so a callback in progress finishes). Later calls do nothing.
func (l *lifecycle) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	started := l.started
	close(l.stop)
	l.mu.Unlock()
	if started {
		<-l.done
	}
}
