// Package pulsetest starts a private PulseAudio server for tests of real
// sound devices: a pulseaudio daemon of its own, reachable only through a
// Unix socket in a temporary directory, with null sinks standing in for
// speakers and their monitors for microphones. Nothing reaches the
// machine's own sound system or hardware.
//
// miniaudio (and so voice/device) finds the server through the
// environment that Env returns; tests in one process set it with
// t.Setenv before they open a device.Context.
package pulsetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config configures a Server.
type Config struct {
	// Sinks names the null sinks to create (48 kHz mono). Each sink NAME
	// comes with a source NAME.monitor that captures what is played into
	// it. If empty, one sink "speaker".
	Sinks []string
	// Binary is the pulseaudio executable. If empty, "pulseaudio" from
	// PATH.
	Binary string
}

// Server is a running private PulseAudio server.
type Server struct {
	dir    string
	socket string
	cmd    *exec.Cmd
	log    *logBuffer
	exited chan struct{}

	mu     sync.Mutex
	sinks  map[string]string // sink name -> module index
	closed bool
}

// ErrNoPulseAudio reports that the pulseaudio executable was not found.
var ErrNoPulseAudio = errors.New("pulsetest: pulseaudio not found (apt-get install pulseaudio)")

// Start starts a server and waits until it answers.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	bin := cfg.Binary
	if bin == "" {
		bin = "pulseaudio"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, ErrNoPulseAudio
	}
	for _, tool := range []string{"pactl"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("pulsetest: %s not found (apt-get install pulseaudio-utils)", tool)
		}
	}
	sinks := cfg.Sinks
	if len(sinks) == 0 {
		sinks = []string{"speaker"}
	}
	for _, s := range sinks {
		if s == "" || strings.ContainsAny(s, " \t\n=\"'") {
			return nil, fmt.Errorf("pulsetest: bad sink name %q", s)
		}
	}
	dir, err := os.MkdirTemp("", "pulsetest-")
	if err != nil {
		return nil, fmt.Errorf("pulsetest: %w", err)
	}
	s := &Server{dir: dir, socket: filepath.Join(dir, "native"), log: new(logBuffer),
		exited: make(chan struct{}), sinks: map[string]string{}}
	clientConf := filepath.Join(dir, "client.conf")
	if err := os.WriteFile(clientConf, []byte("autospawn = no\n"), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pulsetest: %w", err)
	}
	// -n: no default script, so only the modules named here load: no
	// hardware detection, no network modules, no X11 or D-Bus.
	args := []string{"-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
		"--disable-shm=yes", "--log-target=stderr",
		"-L", "module-native-protocol-unix auth-anonymous=1 socket=" + s.socket}
	s.cmd = exec.Command(path, args...)
	s.cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir,
		"PULSE_CLIENTCONFIG="+clientConf)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.Dir = dir
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pulsetest: start pulseaudio: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	for _, name := range sinks {
		if err := s.AddSink(ctx, name); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.SetDefaults(ctx, sinks[0], sinks[0]+".monitor"); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		if _, err := s.pactl(ctx, "info"); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("pulsetest: pulseaudio exited: %s", strings.TrimSpace(s.log.String()))
		case <-ctx.Done():
			return fmt.Errorf("pulsetest: pulseaudio did not answer: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Env returns the environment variables that make PulseAudio clients,
// miniaudio's among them, use this server and never start one of their
// own.
func (s *Server) Env() []string {
	return []string{"PULSE_SERVER=unix:" + s.socket, "PULSE_CLIENTCONFIG=" + filepath.Join(s.dir, "client.conf")}
}

// pactl runs pactl against the server.
func (s *Server) pactl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "pactl", args...)
	cmd.Env = append(os.Environ(), s.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pulsetest: pactl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// AddSink creates a 48 kHz mono null sink and its monitor source.
func (s *Server) AddSink(ctx context.Context, name string) error {
	idx, err := s.pactl(ctx, "load-module", "module-null-sink", "sink_name="+name, "rate=48000", "channels=1",
		"sink_properties=device.description="+name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.sinks[name] = idx
	s.mu.Unlock()
	return nil
}

// RemoveSink removes a sink and its monitor as if the device had been
// unplugged: streams on them are killed.
func (s *Server) RemoveSink(ctx context.Context, name string) error {
	s.mu.Lock()
	idx, ok := s.sinks[name]
	delete(s.sinks, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("pulsetest: no sink %q", name)
	}
	_, err := s.pactl(ctx, "unload-module", idx)
	return err
}

// SetDefaults sets the default sink and source.
func (s *Server) SetDefaults(ctx context.Context, sink, source string) error {
	if _, err := s.pactl(ctx, "set-default-sink", sink); err != nil {
		return err
	}
	_, err := s.pactl(ctx, "set-default-source", source)
	return err
}

// Log returns what the server has logged.
func (s *Server) Log() string { return s.log.String() }

// logBuffer collects the server's output; the process writes while tests
// may read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return os.RemoveAll(s.dir)
}
