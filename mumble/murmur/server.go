package murmur

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tumble-voip/tumble/mumble/internal/childproc"
)

// File names inside a server's directory.
const (
	ININame      = "murmur.ini"
	DatabaseName = "murmur.sqlite"
	CertName     = "cert.pem"
	KeyName      = "key.pem"
	pidName      = "murmur.pid"
	lockName     = "murmur.lock"
)

const (
	stopTimeout = 5 * time.Second // SIGTERM to exit, before SIGKILL
	logLines    = 50              // output lines kept in memory
)

// A Server is a running Mumble server process.
type Server struct {
	// Addr is "host:port", where it listens (Config.Host, default
	// 127.0.0.1).
	Addr string
	// Port is the TCP port it listens on.
	Port int
	// Dir is the server's directory (ini, database, certificate).
	Dir string
	// Certificate is the DER encoding of the server's certificate, as seen
	// in a TLS handshake when it started: what clients pin (its SHA-256).
	Certificate []byte

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited and its output is read
	waitErr error
	unlock  func()

	mu    sync.Mutex
	lines []string // the last logLines lines of output
	seen  chan struct{}
	stop  sync.Once
}

// Start starts a Mumble server configured by c with its files in dir
// (created 0700 if missing; an existing database, certificate and key are
// kept, so a room survives restarts). It returns once the server completes
// TLS handshakes with the certificate in dir. ctx bounds the start only.
//
// Failures carry the server's own last error line. If the binary is
// missing the error wraps ErrNoServer.
func Start(ctx context.Context, dir string, c Config) (*Server, error) {
	c, err := c.normalize()
	if err != nil {
		return nil, err
	}
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("murmur: directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("murmur: directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("murmur: directory: %w", err)
	}
	unlock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, bin, dir, c)
	if err != nil {
		unlock()
		return nil, err
	}
	s.unlock = unlock
	return s, nil
}

func start(ctx context.Context, bin, dir string, c Config) (*Server, error) {
	iniPath := filepath.Join(dir, ININame)
	killStale(filepath.Join(dir, pidName), iniPath)
	cert, err := ensureCertificate(filepath.Join(dir, CertName), filepath.Join(dir, KeyName), c.WriteFile)
	if err != nil {
		return nil, err
	}
	// The server creates its database with the umask's permissions:
	// create it first, private (SQLite takes an empty file as a new database).
	db, err := os.OpenFile(filepath.Join(dir, DatabaseName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("murmur: database: %w", err)
	}
	db.Close()
	port := c.Port
	if port == 0 {
		if port, err = freePort(c.Host); err != nil {
			return nil, err
		}
	}
	if err := c.WriteFile(iniPath, FormatINI("written by Tumble", iniSettings(dir, port, &c)), 0o600); err != nil {
		return nil, fmt.Errorf("murmur: write ini: %w", err)
	}
	if err := setSuperUserPassword(ctx, bin, iniPath, dir, c.SuperUserPassword); err != nil {
		return nil, err
	}
	s := &Server{
		Addr: net.JoinHostPort(c.Host, strconv.Itoa(port)),
		Port: port,
		Dir:  dir,
		done: make(chan struct{}),
		seen: make(chan struct{}, 1),
	}
	if err := s.run(bin, iniPath); err != nil {
		return nil, err
	}
	if err := c.WriteFile(filepath.Join(dir, pidName), []byte(strconv.Itoa(s.cmd.Process.Pid)+"\n"), 0o600); err != nil {
		s.Stop()
		return nil, fmt.Errorf("murmur: write pid file: %w", err)
	}
	if err := s.waitListening(ctx, cert); err != nil {
		s.Stop()
		return nil, err
	}
	s.Certificate = cert
	return s, nil
}

// run starts the server process, tied to this process's life (see
// childproc).
func (s *Server) run(bin, iniPath string) error {
	pr, pw := io.Pipe()
	cmd := exec.Command(bin, "-ini", iniPath, "-fg")
	cmd.Dir = s.Dir
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = sysProcAttr()
	err := childproc.Start(cmd, func(err error) {
		pw.Close()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
	})
	if err != nil {
		pw.Close()
		return fmt.Errorf("murmur: run %s: %w", bin, err)
	}
	s.cmd = cmd
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 4096), 64*1024)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			if len(s.lines) > logLines {
				s.lines = s.lines[len(s.lines)-logLines:]
			}
			s.mu.Unlock()
			select {
			case s.seen <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, pr)
	}()
	return nil
}

// waitListening waits until the server logs that it listens and completes
// a TLS handshake presenting cert (DER).
func (s *Server) waitListening(ctx context.Context, cert []byte) error {
	// With obfuscate=true the server writes addresses as "<<hash:port>>".
	port := ":" + strconv.Itoa(s.Port)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("murmur: the server exited during start: %s", s.errorLine())
		case <-ctx.Done():
			return fmt.Errorf("murmur: waiting for the server to listen on %s: %w (%s)", s.Addr, ctx.Err(), s.errorLine())
		case <-s.seen:
		}
		out := s.Output()
		if hasLine(out, "Listen on ", port, "failed") || hasLine(out, "Failed to bind", port) {
			return fmt.Errorf("murmur: port %d: %s", s.Port, s.errorLine())
		}
		if !hasLine(out, "Server listening on ", port) {
			continue
		}
		got, err := handshake(ctx, s.Addr)
		if err != nil {
			return fmt.Errorf("murmur: TLS handshake with the server: %w", err)
		}
		if !bytes.Equal(got, cert) {
			return fmt.Errorf("murmur: the server presents another certificate than the one in %s", filepath.Join(s.Dir, CertName))
		}
		return nil
	}
}

// hasLine reports whether a line of out contains every one of parts.
func hasLine(out string, parts ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// handshake completes a TLS handshake with addr and returns the server
// certificate's DER encoding.
func handshake(ctx context.Context, addr string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} // pinned by the caller
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	certs := c.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	return certs[0].Raw, nil
}

// setSuperUserPassword runs the server once with -readsupw, which creates
// the database if needed, sets the SuperUser password and exits. The
// password goes through stdin, never the command line.
func setSuperUserPassword(ctx context.Context, bin, iniPath, dir, password string) error {
	cmd := exec.CommandContext(ctx, bin, "-ini", iniPath, "-readsupw")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(password)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = sysProcAttr()
	err := childproc.Run(cmd)
	if err == nil && bytes.Contains(out.Bytes(), []byte("Superuser password set")) {
		return nil
	}
	line := lastErrorLine(strings.Split(out.String(), "\n"))
	if err != nil {
		return fmt.Errorf("murmur: set SuperUser password: %v: %s", err, line)
	}
	return fmt.Errorf("murmur: set SuperUser password: the server did not confirm it: %s", line)
}

// Output returns the server's recent output lines.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// errorLine returns the server's most telling recent output line.
func (s *Server) errorLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := lastErrorLine(s.lines)
	if s.waitErr != nil {
		line += " (" + s.waitErr.Error() + ")"
	}
	return line
}

// lastErrorLine returns the last line that looks like an error (or else the
// last non-empty line), without the server's time stamp.
func lastErrorLine(lines []string) string {
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if last == "" {
			last = l
		}
		low := strings.ToLower(l)
		for _, w := range []string{"fatal", "error", "fail", "cannot", "could not", "unable", "not "} {
			if strings.Contains(low, w) {
				return stripStamp(l)
			}
		}
	}
	if last == "" {
		return "(no output)"
	}
	return stripStamp(last)
}

// stripStamp removes the server's "<W>2026-12-04 06:00:00.123 " prefix.
func stripStamp(l string) string {
	if len(l) > 3 && l[0] == '<' && l[2] == '>' {
		if _, rest, ok := strings.Cut(l[3:], " "); ok {
			if _, rest2, ok := strings.Cut(rest, " "); ok {
				return rest2
			}
		}
	}
	return l
}

// Done returns a channel closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns why the server exited (its last error line), or nil while it
// runs.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return fmt.Errorf("murmur: the server exited: %s", s.errorLine())
	default:
		return nil
	}
}

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop stops the server (SIGTERM, then SIGKILL after 5 s), waits for it to
// exit and releases its directory. Stopping twice does nothing.
func (s *Server) Stop() error {
	var err error
	s.stop.Do(func() {
		if e := s.cmd.Process.Signal(syscall.SIGTERM); e != nil && !errors.Is(e, os.ErrProcessDone) {
			err = fmt.Errorf("murmur: stop server %d: %w", s.Pid(), e)
		}
		select {
		case <-s.done:
		case <-time.After(stopTimeout):
			s.cmd.Process.Kill()
			<-s.done
			err = fmt.Errorf("murmur: the server did not exit %v after SIGTERM; killed it", stopTimeout)
		}
		os.Remove(filepath.Join(s.Dir, pidName))
		if s.unlock != nil {
			s.unlock()
		}
	})
	return err
}

// FreePort returns a port that is free on 127.0.0.1 for both TCP and UDP
// (a Mumble server binds both) at the time of the call.
func FreePort() (int, error) { return freePort("127.0.0.1") }

// freePort returns a port free on host for both TCP and UDP.
func freePort(host string) (int, error) {
	tcp, udp := "tcp4", "udp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		tcp, udp = "tcp6", "udp6"
	}
	var lastErr error
	for range 20 {
		l, err := net.Listen(tcp, net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("murmur: find a free port on %s: %w", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket(udp, net.JoinHostPort(host, strconv.Itoa(port)))
		l.Close()
		if err != nil {
			lastErr = err
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, fmt.Errorf("murmur: find a port free for TCP and UDP on %s: %w", host, lastErr)
}
