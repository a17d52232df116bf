package murmurtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/internal/childproc"
	"github.com/tumble-voip/tumble/mumble/murmur"
)

// Timeouts for starting and stopping a server.
const (
	startTimeout  = 30 * time.Second       // whole StartProcess, unless ctx ends sooner
	stopTimeout   = 5 * time.Second        // SIGTERM to exit, before SIGKILL
	settleTimeout = 2 * time.Second        // Stop's wait for a 1.5 server to become idle
	settleQuiet   = 150 * time.Millisecond // how long a 1.5 server's log must be unchanged before SIGTERM
	portAttempts  = 5                      // free ports tried when another process takes one
)

// Options configures a server. The zero value starts a Mumble 1.3 server with
// no server password and the server's default limits.
type Options struct {
	// Version selects the server; zero means V13.
	Version Version

	// Password is the server password guests must give. Empty: none.
	Password string

	// SuperUserPassword is set for the SuperUser account before the server
	// starts. If empty, a random one is chosen (see Server.SuperUserPassword).
	SuperUserPassword string

	// Welcome is the welcome text sent in ServerSync. Empty: none.
	Welcome string

	// MaxBandwidth is the per-user voice bandwidth limit in bit/s (ini key
	// bandwidth). Zero: the server's default, 72000 (1.3) or 558000 (1.5).
	MaxBandwidth int

	// MaxUsers is the maximum number of connected users (ini key users).
	// Zero: the server's default, 1000.
	MaxUsers int

	// Channels are permanent channels created (as SuperUser) before Start
	// returns, each a path below the root channel: "A/B" is channel B inside
	// channel A; parents are created as needed. Their ids are in
	// Server.Channels.
	Channels []string

	// Extra holds further ini keys, written verbatim as key=value (quote
	// values yourself where Qt's ini syntax needs it). They override the
	// settings murmurtest writes, except that the server always listens on
	// 127.0.0.1 and the chosen port.
	Extra map[string]string
}

// A Server is a Mumble server process listening on 127.0.0.1. Its exported
// fields are set by Start or StartProcess and must not be changed.
type Server struct {
	// Addr is the server's address, "127.0.0.1:port".
	Addr string
	// Port is the TCP (and UDP) port the server listens on.
	Port int
	// Dir holds the server's ini file, database and log.
	Dir string
	// Version is the server version running.
	Version Version
	// Password is the server password (Options.Password).
	Password string
	// SuperUserPassword is the SuperUser account's password.
	SuperUserPassword string
	// Channels maps each path in Options.Channels, and each parent path they
	// imply, to its channel id. The root channel is id 0.
	Channels map[string]uint32

	fingerprint string
	cert        *x509.Certificate

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // the process's exit status, valid after done

	mu     sync.Mutex
	closed bool
}

// Start starts a server for the test t, configured by opts, in a directory
// from t.TempDir. It returns once the server accepts TLS connections on
// 127.0.0.1 and every channel in opts.Channels exists. The server is stopped
// when the test and its subtests end; if the test failed, the server's log is
// written with t.Log.
//
// The test may end the server earlier with Stop, Kill or Close. On Linux the
// server is also killed if the test process dies.
//
// If the server binary is missing, Start skips the test, or fails it if the
// environment variable TUMBLE_REQUIRE_SERVERS is 1 (as in make test). With
// -short (make check) it skips the test: servers are for the full suite.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Mumble server; skipped with -short")
	}
	if err := Available(opts.Version); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatalf("%v (TUMBLE_REQUIRE_SERVERS=1)", err)
		}
		t.Skipf("%v; set TUMBLE_REQUIRE_SERVERS=1 to fail instead of skipping", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	s, err := StartProcess(ctx, t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		switch err := s.Close(); {
		case err == nil || errors.Is(err, net.ErrClosed):
		case errors.Is(err, ErrStopKilled):
			// A server bug, not the test's: note it, do not fail.
			t.Logf("%v", err)
		default:
			t.Errorf("murmurtest: stop %s server: %v", s.Version, err)
		}
		if t.Failed() {
			t.Logf("murmurtest: log of the %s server on %s:\n%s", s.Version, s.Addr, s.Log())
		}
	})
	return s
}

// StartProcess starts a server configured by opts, keeping its files in dir
// (which must exist; the caller removes it). ctx bounds the start only: once
// StartProcess returns, the server runs until Stop, Kill or Close. If the
// binary is missing the error wraps the one from Available.
func StartProcess(ctx context.Context, dir string, opts Options) (*Server, error) {
	opts.Version = opts.Version.normalize()
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	bin, err := serverBinary(opts.Version)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("murmurtest: server directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("murmurtest: server directory %s is not a directory", dir)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("murmurtest: server directory: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	console, err := os.OpenFile(filepath.Join(dir, consoleName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("murmurtest: server log: %w", err)
	}
	defer console.Close() // each process holds its own descriptor

	supw := opts.SuperUserPassword
	if supw == "" {
		supw = rand.Text()
	}
	s := &Server{
		Dir:               dir,
		Version:           opts.Version,
		Password:          opts.Password,
		SuperUserPassword: supw,
	}
	iniPath := filepath.Join(dir, iniName)

	for attempt := 1; ; attempt++ {
		port, err := murmur.FreePort()
		if err != nil {
			return nil, err
		}
		// Written before each murmurd start, which reads it once; no
		// process reads it meanwhile, so a plain write is enough.
		if err := os.WriteFile(iniPath, murmur.FormatINI("written by murmurtest", iniSettings(dir, port, &opts)), 0o600); err != nil {
			return nil, fmt.Errorf("murmurtest: write ini: %w", err)
		}
		if attempt == 1 {
			if err := setSuperUserPassword(ctx, bin, iniPath, dir, supw, console); err != nil {
				return nil, fmt.Errorf("murmurtest: %s server: %w\n%s", s.Version, err, tail(s.Log(), 40))
			}
		}
		err = s.run(ctx, bin, iniPath, port, console)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || attempt == portAttempts {
			return nil, fmt.Errorf("murmurtest: start %s server: %w\n%s", s.Version, err, tail(s.Log(), 40))
		}
	}

	if len(opts.Channels) > 0 {
		ids, err := createChannels(ctx, s.Addr, supw, opts.Channels)
		if err != nil {
			s.Kill()
			return nil, fmt.Errorf("murmurtest: %s server: %w\n%s", s.Version, err, tail(s.Log(), 40))
		}
		s.Channels = ids
	}
	return s, nil
}

var (
	errPortInUse  = errors.New("port taken by another process")
	errNotStarted = errors.New("murmurtest: server was not started by Start or StartProcess")
)

// run starts the server process on port and waits until it completes a TLS
// handshake. On failure the process is gone when run returns.
func (s *Server) run(ctx context.Context, bin, iniPath string, port int, console *os.File) error {
	cmd := exec.Command(bin, "-ini", iniPath, "-fg")
	cmd.Dir = s.Dir
	cmd.Stdout = console
	cmd.Stderr = console
	// Only what this process logs counts: an earlier attempt's lines stay in
	// the same file.
	var logStart int64
	if fi, err := console.Stat(); err == nil {
		logStart = fi.Size()
	}
	done := make(chan struct{})
	s.waitErr = nil
	err := childproc.Start(cmd, func(err error) {
		s.waitErr = err
		close(done)
	})
	if err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	s.cmd = cmd
	s.done = done
	s.Port = port
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	listening := []byte("Server listening on " + s.Addr)
	tcpFailed := []byte("Listen on " + s.Addr + " failed")
	// Without its UDP socket the server would run on, TCP only: take another
	// port rather than hand out a server that differs from a normal one.
	udpFailed := []byte("Failed to bind UDP Socket to " + s.Addr)
	logSince := func() []byte {
		log, _ := os.ReadFile(filepath.Join(s.Dir, consoleName))
		return log[min(logStart, int64(len(log))):]
	}
	failure := func(log []byte) error {
		switch {
		case bytes.Contains(log, udpFailed):
			return fmt.Errorf("%s (UDP): %w", s.Addr, errPortInUse)
		case bytes.Contains(log, tcpFailed) && bytes.Contains(log, []byte("in use")):
			return fmt.Errorf("%s: %w", s.Addr, errPortInUse)
		case bytes.Contains(log, tcpFailed) || bytes.Contains(log, []byte("1 => Stopped")):
			return fmt.Errorf("server did not boot on %s", s.Addr)
		}
		return nil
	}

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return fmt.Errorf("server exited during start: %v", s.waitErr)
		case <-ctx.Done():
			s.Kill()
			return fmt.Errorf("waiting for the server to listen on %s: %w", s.Addr, ctx.Err())
		case <-tick.C:
		}
		log := logSince()
		if err := failure(log); err != nil {
			s.Kill()
			return err
		}
		if !bytes.Contains(log, listening) {
			continue
		}
		cert, err := fetchCertificate(ctx, s.Addr)
		if err != nil {
			continue // the certificate may still be generating
		}
		// The server binds UDP before it can complete a handshake, so by now
		// the log says whether that worked.
		if err := failure(logSince()); err != nil {
			s.Kill()
			return err
		}
		sum := sha256.Sum256(cert.Raw)
		s.cert = cert
		s.fingerprint = hex.EncodeToString(sum[:])
		return nil
	}
}

// settle waits until the server has logged nothing for quiet, or ctx is done.
func (s *Server) settle(ctx context.Context, quiet time.Duration) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	lastSize := int64(-1)
	lastChange := time.Now()
	for {
		if fi, err := os.Stat(filepath.Join(s.Dir, consoleName)); err == nil && fi.Size() != lastSize {
			lastSize, lastChange = fi.Size(), time.Now()
		}
		if time.Since(lastChange) >= quiet {
			return
		}
		select {
		case <-s.done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// setSuperUserPassword runs the server once with -readsupw, which creates the
// database, sets the SuperUser password and exits.
func setSuperUserPassword(ctx context.Context, bin, iniPath, dir, password string, console *os.File) error {
	cmd := exec.CommandContext(ctx, bin, "-ini", iniPath, "-readsupw")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(password)
	cmd.Stdout = console
	cmd.Stderr = console
	if err := childproc.Run(cmd); err != nil {
		return fmt.Errorf("set SuperUser password: %w", err)
	}
	log, _ := os.ReadFile(filepath.Join(dir, consoleName))
	if !bytes.Contains(log, []byte("Superuser password set")) {
		return errors.New("set SuperUser password: the server did not confirm it")
	}
	return nil
}

// fetchCertificate does a TLS handshake with addr and returns the server's
// leaf certificate.
func fetchCertificate(ctx context.Context, addr string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := dialControl(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.conn.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	certs := c.conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, fmt.Errorf("TLS handshake with %s: no certificate", addr)
	}
	return certs[0], nil
}

// Fingerprint returns the hex-encoded SHA-256 digest of the server's leaf
// certificate (its DER bytes), as seen in a TLS handshake with Addr when the
// server started.
func (s *Server) Fingerprint() string { return s.fingerprint }

// Certificate returns the server's leaf certificate as seen when it started.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Pid returns the server's process id, or 0 for a Server that was not
// started by Start or StartProcess.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Log returns what the server has logged so far.
func (s *Server) Log() string {
	out, err := os.ReadFile(filepath.Join(s.Dir, consoleName))
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	if extra, err := os.ReadFile(filepath.Join(s.Dir, logfileName)); err == nil && len(extra) > 0 {
		out = append(append(out, "--- "+logfileName+"\n"...), extra...)
	}
	return string(out)
}

// LogMark returns a mark of how much the server has logged so far, for
// WaitUser.
func (s *Server) LogMark() int {
	return len(s.Log())
}

// WaitUser waits until the server has logged, after mark (LogMark; 0 for
// the whole log), that the user name authenticated or, if channel is not
// empty, moved into the channel of that name (Murmur logs "Moved
// name:session(id) to channel[id:parent]"). It returns an error if the
// server exits or ctx is done first. Tests use it to start talking only
// once a listener is in place.
func (s *Server) WaitUser(ctx context.Context, mark int, name, channel string) error {
	if s.done == nil {
		return errNotStarted
	}
	re := userEvent(name, "Authenticated")
	if channel != "" {
		re = regexp.MustCompile(`> Moved ` + regexp.QuoteMeta(name) + `:\d+\(-?\d+\) to ` + regexp.QuoteMeta(channel) + `\[`)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if log := s.Log(); mark <= len(log) && re.MatchString(log[mark:]) {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("murmurtest: waiting for %s: the server exited", name)
		case <-ctx.Done():
			return fmt.Errorf("murmurtest: waiting for %s in %q: %w", name, channel, ctx.Err())
		case <-tick.C:
		}
	}
}

// UserOnline reports whether the server's log last says of a user called
// name that it authenticated, rather than that its connection closed.
func (s *Server) UserOnline(name string) bool {
	m := userEvent(name, "Authenticated|Connection closed").FindAllStringSubmatch(s.Log(), -1)
	return len(m) > 0 && m[len(m)-1][1] == "Authenticated"
}

// userEvent matches the server's log lines "<session:name(id)> event" of
// a user called name, for the events in the alternation events.
func userEvent(name, events string) *regexp.Regexp {
	return regexp.MustCompile(`:` + regexp.QuoteMeta(name) + `\(-?\d+\)> (` + events + `)`)
}

// Running reports whether the server process is still running.
func (s *Server) Running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// ErrStopKilled is wrapped by the error Stop and Close return when the server
// did not exit within 5 seconds of SIGTERM and was killed instead.
var ErrStopKilled = errors.New("murmurtest: server did not exit after SIGTERM; killed it")

// Stop stops the server gracefully (SIGTERM) and waits for it to exit. If it
// has not exited within 5 seconds, Stop kills it and returns an error
// wrapping ErrStopKilled. Stopping a server that has already exited does
// nothing.
//
// The Mumble 1.5 server sometimes deadlocks when SIGTERM arrives while it is
// still busy with a connection that just closed (measured: 8 of 150 stops
// right after a client disconnected). So for V15, Stop first waits until the
// server has logged nothing for 150 ms (at most 2 s).
func (s *Server) Stop() error {
	if s.done == nil {
		return errNotStarted
	}
	if !s.Running() {
		return nil
	}
	if s.Version == V15 {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		s.settle(ctx, settleQuiet)
		cancel()
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("murmurtest: stop server %d: %w", s.Pid(), err)
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(stopTimeout):
		s.Kill()
		return fmt.Errorf("%w (pid %d, %s server, %v after SIGTERM)", ErrStopKilled, s.Pid(), s.Version, stopTimeout)
	}
}

// Kill ends the server abruptly (SIGKILL), as a crash would, and waits for it
// to exit: its port refuses connections when Kill returns and connected
// clients see their connections reset. Killing a server that has already
// exited does nothing.
func (s *Server) Kill() error {
	if s.done == nil {
		return errNotStarted
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("murmurtest: kill server %d: %w", s.Pid(), err)
	}
	<-s.done
	return nil
}

// Close stops the server like Stop if it is still running. It does not remove
// Dir. Closing a Server a second time returns net.ErrClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return net.ErrClosed
	}
	return s.Stop()
}

// checkOptions rejects options the server cannot be configured with.
func checkOptions(opts *Options) error {
	switch {
	case opts.MaxBandwidth < 0:
		return fmt.Errorf("murmurtest: negative MaxBandwidth %d", opts.MaxBandwidth)
	case opts.MaxUsers < 0:
		return fmt.Errorf("murmurtest: negative MaxUsers %d", opts.MaxUsers)
	case strings.ContainsAny(opts.SuperUserPassword, "\r\n"):
		return errors.New("murmurtest: SuperUserPassword contains a line break")
	}
	if err := checkChannelPaths(opts.Channels); err != nil {
		return err
	}
	if err := checkExtra(opts.Extra); err != nil {
		return err
	}
	for _, k := range []string{"host", "port"} {
		if _, ok := opts.Extra[k]; ok {
			return fmt.Errorf("murmurtest: Options.Extra may not set %q", k)
		}
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
