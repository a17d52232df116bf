package tor

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/cretz/bine/process"
)

// refusingCreator fails the test if a Tor would be started.
type refusingCreator struct{ t *testing.T }

func (c refusingCreator) New(context.Context, ...string) (process.Process, error) {
	c.t.Error("a Tor process was created")
	return nil, errors.New("test: no Tor here")
}

func TestStartEmbeddedWithoutTor(t *testing.T) {
	s := &Server{Mode: ModeEmbedded, rootDir: t.TempDir(), DataDir: t.TempDir()}
	err := s.Start(context.Background())
	if !errors.Is(err, ErrNoEmbeddedTor) || err.Error() != "tor: built without embedded Tor (build with -tags libtor)" {
		t.Errorf("Start = %v", err)
	}
	if err2 := s.Start(context.Background()); err2 != err {
		t.Errorf("second Start = %v, want the remembered %v", err2, err)
	}
	if _, err := s.Up(context.Background()); !errors.Is(err, ErrNoEmbeddedTor) {
		t.Errorf("Up = %v", err)
	}
	if _, err := s.Dial(context.Background(), "tcp", "example.com:80"); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Dial = %v", err)
	}
	if st := s.Status(); st.Err != err || st.Ready {
		t.Errorf("status after failed Start = %+v", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestTestingNetworkRefused(t *testing.T) {
	for _, lines := range [][]string{
		{"TestingTorNetwork 1"},
		{"# comment", "  testingtornetwork   1  "},
		{"TestingTorNetwork\t1"},
		{"+TestingTorNetwork 1"},
	} {
		s := &Server{Mode: ModeEmbedded, rootDir: t.TempDir(), DataDir: t.TempDir(), Torrc: lines, Creator: refusingCreator{t}}
		err := s.Start(context.Background())
		if !errors.Is(err, ErrTestingNetwork) || !strings.HasPrefix(err.Error(), "tor: ") {
			t.Errorf("Start with %q = %v, want ErrTestingNetwork", lines, err)
		}
	}
	s := &Server{Mode: ModeEmbedded, rootDir: t.TempDir(), DataDir: t.TempDir(), Torrc: []string{"UseBridges 1\nTestingTorNetwork 1"}, Creator: refusingCreator{t}}
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "line break") {
		t.Errorf("Start with a multi-line element = %v", err)
	}
	if err := checkTorrc([]string{"TestingTorNetwork 1"}, true); err != nil {
		t.Errorf("allowed testing network refused: %v", err)
	}
	if err := checkTorrc([]string{"TestingTorNetwork 0", "UseBridges 1", "", "# TestingTorNetwork 1"}, false); err != nil {
		t.Errorf("harmless torrc refused: %v", err)
	}
}

func TestCloseBeforeStart(t *testing.T) {
	s := &Server{Mode: ModeOff}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Start after Close = %v", err)
	}
	if _, err := s.Dial(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Dial after Close = %v", err)
	}
	if err := s.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	if st := s.Status(); !errors.Is(st.Err, net.ErrClosed) {
		t.Errorf("status = %+v", st)
	}
}

func TestParseListenerAddr(t *testing.T) {
	for in, want := range map[string]string{
		`"127.0.0.1:9050"`:                    "127.0.0.1:9050",
		`127.0.0.1:41234`:                     "127.0.0.1:41234",
		`"[::1]:9050" "127.0.0.1:1"`:          "[::1]:9050",
		`"0.0.0.0:9050" "127.0.0.1:9150"`:     "127.0.0.1:9150",
		`"unix:/run/tor/socks" "127.0.0.1:5"`: "127.0.0.1:5",
	} {
		if got, err := parseListenerAddr(in); err != nil || got != want {
			t.Errorf("parseListenerAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", `"0.0.0.0:9050"`, `"127.0.0.1:0"`, "garbage"} {
		if _, err := parseListenerAddr(bad); err == nil {
			t.Errorf("parseListenerAddr(%q) succeeded", bad)
		}
	}
}
