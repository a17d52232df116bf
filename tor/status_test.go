package tor

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseBootstrap(t *testing.T) {
	cases := []struct {
		in   string
		want bootstrapPhase
	}{
		{`NOTICE BOOTSTRAP PROGRESS=0 TAG=starting SUMMARY="Starting"`,
			bootstrapPhase{Severity: "NOTICE", Progress: 0, Tag: "starting", Summary: "Starting"}},
		{`NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors SUMMARY="Asking for relay descriptors"`,
			bootstrapPhase{Severity: "NOTICE", Progress: 45, Tag: "requesting_descriptors", Summary: "Asking for relay descriptors"}},
		{`NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"`,
			bootstrapPhase{Severity: "NOTICE", Progress: 100, Tag: "done", Summary: "Done"}},
		{`WARN BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="Connecting to a relay" WARNING="Connection refused" REASON=CONNECTREFUSED COUNT=3 RECOMMENDATION=ignore HOSTID="$AB" HOSTADDR="127.0.0.1:5000"`,
			bootstrapPhase{Severity: "WARN", Progress: 5, Tag: "conn", Summary: "Connecting to a relay",
				Warning: "Connection refused", Reason: "CONNECTREFUSED", Recommendation: "ignore",
				HostID: "$AB", HostAddr: "127.0.0.1:5000"}},
		{`WARN BOOTSTRAP PROGRESS=10 TAG=x SUMMARY="a \"quoted\" \\ word\n" WARNING="oct\101l" FUTURE`,
			bootstrapPhase{Severity: "WARN", Progress: 10, Tag: "x", Summary: "a \"quoted\" \\ word\n", Warning: "octAl"}},
	}
	for _, c := range cases {
		got, err := parseBootstrap(c.in)
		if err != nil || got != c.want {
			t.Errorf("parseBootstrap(%q) =\n %+v, %v\nwant %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{
		``,
		`NOTICE CIRCUIT_ESTABLISHED`,
		`DEBUG BOOTSTRAP PROGRESS=1`,
		`NOTICE BOOTSTRAP TAG=x`,
		`NOTICE BOOTSTRAP PROGRESS=101`,
		`NOTICE BOOTSTRAP PROGRESS=-1`,
		`NOTICE BOOTSTRAP PROGRESS=5 SUMMARY="unterminated`,
		`NOTICE BOOTSTRAP PROGRESS=5 SUMMARY="bad \777 escape"`,
	} {
		if _, err := parseBootstrap(bad); err == nil {
			t.Errorf("parseBootstrap(%q) succeeded", bad)
		}
	}
}

func TestStatusString(t *testing.T) {
	cases := []struct {
		st   Status
		want string
	}{
		{Status{Progress: 45, Summary: "Asking for relay descriptors"}, "Tor 45%: Asking for relay descriptors"},
		{Status{Progress: 5, Summary: "Connecting to a relay", Warning: "Connection refused", Reason: "CONNECTREFUSED"},
			"Tor 5%: Connecting to a relay: problem: Connection refused (CONNECTREFUSED)"},
		{Status{Ready: true, Progress: 100}, "Tor ready"},
		{Status{Mode: ModeOff, Ready: true}, "Tor off: direct connections (not protected)"},
		{Status{Err: errors.New("tor: boom")}, "Tor stopped: tor: boom"},
	}
	for _, c := range cases {
		if got := c.st.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
	if !(Status{Warning: "x"}).Stalled() || (Status{}).Stalled() {
		t.Error("Stalled")
	}
}

// recv reads one Status or fails after a while.
func recv(t *testing.T, ch <-chan Status) (Status, bool) {
	t.Helper()
	select {
	case st, ok := <-ch:
		return st, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no status delivered")
		return Status{}, false
	}
}

func TestSubscribe(t *testing.T) {
	s := &Server{}
	s.init()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := s.Subscribe(ctx)
	if st, _ := recv(t, ch); st.Progress != 0 || st.Ready {
		t.Errorf("first status = %+v", st)
	}

	s.applyBootstrap(bootstrapPhase{Progress: 10, Tag: "conn_done", Summary: "Connected to a relay"})
	if st, _ := recv(t, ch); st.Progress != 10 || st.Tag != "conn_done" {
		t.Errorf("status = %+v", st)
	}
	// A stall: Tor's own words come through.
	s.applyBootstrap(bootstrapPhase{Severity: "WARN", Progress: 10, Tag: "conn_done", Summary: "Connected to a relay",
		Warning: "No route to host", Reason: "NOROUTE", Recommendation: "warn"})
	st, _ := recv(t, ch)
	if !st.Stalled() || st.Warning != "No route to host" || st.Reason != "NOROUTE" || st.Recommendation != "warn" {
		t.Errorf("stalled status = %+v", st)
	}
	// Progress clears the warning.
	s.applyBootstrap(bootstrapPhase{Progress: 50, Tag: "loading_descriptors", Summary: "Loading relay descriptors"})
	if st, _ := recv(t, ch); st.Warning != "" || st.Progress != 50 {
		t.Errorf("status after progress = %+v", st)
	}

	// A slow reader gets the latest value, not a backlog.
	for p := 51; p < 90; p++ {
		s.applyBootstrap(bootstrapPhase{Progress: p, Tag: "loading_descriptors"})
	}
	if st, _ := recv(t, ch); st.Progress != 89 {
		t.Errorf("coalesced status = %+v, want progress 89", st)
	}
	s.applyBootstrap(bootstrapPhase{Progress: 100, Tag: "done", Summary: "Done"})
	if st, _ := recv(t, ch); !st.Ready || st.Progress != 100 || st.Tag != "done" || st.Summary != "Done" {
		t.Errorf("final status = %+v", st)
	}
	select {
	case <-s.ready:
	default:
		t.Error("ready not signalled")
	}

	// A second subscriber, cancelled: its channel closes.
	ctx2, cancel2 := context.WithCancel(context.Background())
	ch2 := s.Subscribe(ctx2)
	if st, _ := recv(t, ch2); !st.Ready {
		t.Errorf("late subscriber got %+v", st)
	}
	cancel2()
	if _, ok := recv(t, ch2); ok {
		t.Error("channel of a cancelled subscription not closed")
	}

	// Close delivers a final status with Err and closes the channel.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, ok := recv(t, ch)
	if !ok || !errors.Is(st.Err, net.ErrClosed) || st.Ready || !strings.HasPrefix(st.Err.Error(), "tor: ") {
		t.Errorf("status at Close = %+v, %v", st, ok)
	}
	if _, ok := recv(t, ch); ok {
		t.Error("channel not closed after Close")
	}
	// Subscribing to a stopped Server gives the final status and a closed channel.
	ch3 := s.Subscribe(context.Background())
	if st, _ := recv(t, ch3); st.Err == nil {
		t.Errorf("status of a closed server = %+v", st)
	}
	if _, ok := recv(t, ch3); ok {
		t.Error("channel of a closed server not closed")
	}
}
