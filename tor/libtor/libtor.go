//go:build libtor

package libtor

/*
#cgo LDFLAGS: -ltor -Wl,-Bstatic -levent -lssl -lcrypto -lz -Wl,-Bdynamic -lm -lpthread -ldl

#include <stdlib.h>
#include <tor_api.h>

static char **libtor_argv_new(int n) { return calloc((size_t)n + 1, sizeof(char *)); }
static void libtor_argv_set(char **argv, int i, char *s) { argv[i] = s; }
static void libtor_argv_free(char **argv, int n) {
	for (int i = 0; i < n; i++) free(argv[i]);
	free(argv);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cretz/bine/process"
)

// ErrAlreadyStarted is returned when Tor has already been started in this
// process; see the package documentation.
var ErrAlreadyStarted = errors.New("libtor: Tor was already started in this process; in-process restart is unsafe (use one Tor per process)")

// started is process-wide on purpose: Tor's own state is process-wide, and
// it is what makes a second start unsafe.
var started atomic.Bool

// ProviderVersion returns the version string of the linked Tor, e.g.
// "tor 0.4.9.11".
func ProviderVersion() string {
	return C.GoString(C.tor_api_get_provider_version())
}

// Creator returns a process.Creator for the embedded Tor. The command line
// it is given (by bine's tor.Start) is passed to Tor after
// --__DisableSignalHandlers 1. Use it with tor.StartConf's
// UseEmbeddedControlConn; only one process may ever be started.
func Creator() process.Creator { return creator{} }

type creator struct{}

// New implements process.Creator.
func (creator) New(ctx context.Context, args ...string) (process.Process, error) {
	if started.Load() {
		return nil, ErrAlreadyStarted
	}
	if ctx == nil {
		ctx = context.Background()
	}
	argv := append([]string{"tor", "--__DisableSignalHandlers", "1"}, args...)
	return &proc{ctx: ctx, args: argv, done: make(chan struct{})}, nil
}

// proc is one run of tor_run_main.
type proc struct {
	ctx  context.Context
	args []string

	mu      sync.Mutex
	cfg     *C.tor_main_configuration_t
	control net.Conn
	running bool

	done chan struct{} // closed when tor_run_main has returned
	code int           // its result, valid after done
}

// config returns the Tor configuration object, creating it on first use.
// p.mu must be held.
func (p *proc) config() (*C.tor_main_configuration_t, error) {
	if p.cfg == nil {
		p.cfg = C.tor_main_configuration_new()
		if p.cfg == nil {
			return nil, errors.New("libtor: tor_main_configuration_new failed")
		}
	}
	return p.cfg, nil
}

// EmbeddedControlConn implements process.Process. It must be called before
// Start; the connection is Tor's owning controller: authenticated from the
// start, and closing it makes Tor exit.
func (p *proc) EmbeddedControlConn() (net.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return nil, errors.New("libtor: EmbeddedControlConn must be called before Start")
	}
	if p.control != nil {
		return nil, errors.New("libtor: EmbeddedControlConn called twice")
	}
	cfg, err := p.config()
	if err != nil {
		return nil, err
	}
	fd := C.tor_main_configuration_setup_control_socket(cfg)
	if fd == C.INVALID_TOR_CONTROL_SOCKET {
		return nil, errors.New("libtor: cannot create the control socket pair")
	}
	f := os.NewFile(uintptr(fd), "tor-control")
	conn, err := net.FileConn(f)
	f.Close() // FileConn dups the descriptor
	if err != nil {
		return nil, fmt.Errorf("libtor: control socket: %w", err)
	}
	p.control = conn
	return conn, nil
}

// Start implements process.Process: it runs tor_run_main on its own
// goroutine (and OS thread) and returns at once. Cancelling the context
// given to Creator.New closes the owning control connection, which makes
// Tor shut down.
func (p *proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return errors.New("libtor: Start called twice")
	}
	if !started.CompareAndSwap(false, true) {
		return ErrAlreadyStarted
	}
	cfg, err := p.config()
	if err != nil {
		return err
	}
	n := len(p.args)
	argv := C.libtor_argv_new(C.int(n))
	for i, a := range p.args {
		C.libtor_argv_set(argv, C.int(i), C.CString(a))
	}
	if rc := C.tor_main_configuration_set_command_line(cfg, C.int(n), argv); rc != 0 {
		C.libtor_argv_free(argv, C.int(n))
		return fmt.Errorf("libtor: tor_main_configuration_set_command_line: error %d", int(rc))
	}
	p.running = true
	go func() {
		code := int(C.tor_run_main(cfg))
		// Tor is done with its configuration and command line now.
		p.mu.Lock()
		C.tor_main_configuration_free(p.cfg)
		p.cfg = nil
		p.mu.Unlock()
		C.libtor_argv_free(argv, C.int(n))
		p.code = code
		close(p.done)
	}()
	if p.control != nil {
		ctl := p.control
		stop := context.AfterFunc(p.ctx, func() { ctl.Close() })
		go func() {
			<-p.done
			stop()
		}()
	}
	return nil
}

// Wait implements process.Process: it blocks until tor_run_main returns and
// reports a non-zero result as an error.
func (p *proc) Wait() error {
	p.mu.Lock()
	running := p.running
	p.mu.Unlock()
	if !running {
		return errors.New("libtor: Wait called before Start")
	}
	<-p.done
	if p.code != 0 {
		return fmt.Errorf("libtor: tor_run_main returned %d", p.code)
	}
	return nil
}
