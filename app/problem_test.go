package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/app/apptest"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor"
)

// TestClassifyMessages: every failure gets a sentence that says what
// happened and what to do, never the raw error, which is kept in Detail.
func TestClassifyMessages(t *testing.T) {
	b := Bookmark{Label: "srv", Address: "example.org", Port: 64738, Username: "u"}
	withPW := b
	withPW.Password = "pw"
	cases := []struct {
		name  string
		b     Bookmark
		err   error
		kind  ProblemKind
		retry bool
		want  string // in Message
	}{
		{"server password missing", b, &mumble.RejectError{Type: mumble.RejectWrongServerPW}, ProblemWrongPassword, false, "needs a server password"},
		{"server password refused", withPW, &mumble.RejectError{Type: mumble.RejectWrongServerPW}, ProblemWrongPassword, false, "refused the server password"},
		{"user registered elsewhere", b, &mumble.RejectError{Type: mumble.RejectWrongUserPW}, ProblemWrongPassword, false, "registered on srv with another certificate"},
		{"user password refused", withPW, &mumble.RejectError{Type: mumble.RejectWrongUserPW}, ProblemWrongPassword, false, "refused the password of the registered user"},
		{"client auth missing", b, &tor.SOCKSError{Code: 0xF4}, ProblemClientAuthRequired, false, "admits only clients with an authorization key"},
		{"client auth bad", b, &tor.SOCKSError{Code: 0xF5}, ProblemClientAuthRequired, false, "rejected the bookmark's client authorization key"},
		{"onion offline", b, fmt.Errorf("tor: dial x: %w", &tor.SOCKSError{Code: 0xF0}), ProblemOther, true, "offline, or the address is wrong"},
		{"onion intro failed", b, &tor.SOCKSError{Code: 0xF2}, ProblemOther, true, "could not get through"},
		{"onion rend failed", b, &tor.SOCKSError{Code: 0xF3}, ProblemOther, true, "could not get through"},
		{"onion intro timeout", b, &tor.SOCKSError{Code: 0xF7}, ProblemOther, true, "could not get through"},
		{"onion invalid", b, &tor.SOCKSError{Code: 0xF1}, ProblemOther, true, "Tell its operator"},
		{"onion bad address", b, &tor.SOCKSError{Code: 0xF6}, ProblemOther, false, "not a valid onion address"},
		{"socks general failure", b, &tor.SOCKSError{Code: 0x01}, ProblemOther, true, "may be offline or refuse connections from Tor"},
		{"socks not allowed", b, &tor.SOCKSError{Code: 0x02}, ProblemOther, false, "port 64738"},
		{"socks host unreachable", b, &tor.SOCKSError{Code: 0x04}, ProblemOther, true, "Check the address"},
		{"socks refused", b, &tor.SOCKSError{Code: 0x05}, ProblemOther, true, "no server is running on that port"},
		{"socks ttl", b, &tor.SOCKSError{Code: 0x06}, ProblemOther, true, "did not answer in time"},
		{"socks port closed", b, fmt.Errorf("tor: dial: %w: %w", tor.ErrSOCKSUnreachable, syscall.ECONNREFUSED), ProblemTorFailed, true, "is Tor running there"},
		{"tor exited", b, fmt.Errorf("tor: %w", tor.ErrTorExited), ProblemTorFailed, false, "restart Tumble"},
		{"tor not ready", b, fmt.Errorf("tor: %w", tor.ErrNotReady), ProblemOther, true, "Wait for the Tor bar"},
		{"no embedded tor", b, &torError{err: tor.ErrNoEmbeddedTor}, ProblemTorFailed, false, "SOCKS port in Settings > Network"},
		{"tor over tor", b, &torError{err: tor.ErrTorOverTor}, ProblemTorFailed, false, "gateway's SOCKS port"},
		{"no transport", b, &torError{err: tor.ErrNoTransport}, ProblemTorFailed, false, "not installed"},
		{"bootstrap stuck, hint", b, &torError{err: errors.New("x"), status: tor.Status{Hint: "The network may block Tor: use bridges."}}, ProblemTorFailed, false, "use bridges"},
		{"bootstrap failed", b, &torError{err: errors.New("x")}, ProblemTorFailed, false, "turn on bridges"},
		{"onion without tor", b, errOnionNeedsTor, ProblemOther, false, "Turn Tor on"},
		{"timeout", b, fmt.Errorf("dial: %w", context.DeadlineExceeded), ProblemOther, true, "did not answer in time"},
		{"net timeout", b, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, ProblemOther, true, "did not answer in time"},
		{"refused direct", b, &net.OpError{Op: "dial", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, ProblemOther, true, "no server is running"},
		{"dns", b, &net.DNSError{Err: "no such host", Name: "example.org", IsNotFound: true}, ProblemOther, false, "example.org could not be found"},
		{"tls alert", b, fmt.Errorf("mumble: tls: %w", tls.AlertError(40)), ProblemOther, true, "TLS"},
		{"tls record", b, tls.RecordHeaderError{Msg: "not TLS"}, ProblemOther, true, "TLS"},
		{"in use", b, &mumble.RejectError{Type: mumble.RejectUsernameInUse}, ProblemOther, true, "choose another user name"},
		{"invalid user", b, &mumble.RejectError{Type: mumble.RejectInvalidUsername}, ProblemOther, false, "does not accept the user name u"},
		{"full", b, &mumble.RejectError{Type: mumble.RejectServerFull}, ProblemOther, true, "full"},
		{"kicked", b, &lostError{err: &mumble.KickedError{Reason: "bye"}}, ProblemOther, false, "srv removed you"},
		{"ping timeout", b, &lostError{err: mumble.ErrPingTimeout}, ProblemOther, true, "The connection was lost: srv stopped answering"},
		{"server closed", b, &lostError{err: mumble.ErrServerClosed}, ProblemOther, true, "The connection was lost: srv closed the connection"},
		{"lost, reset", b, &lostError{err: syscall.ECONNRESET}, ProblemOther, true, "The connection to srv was lost"},
		{"lost, tor down", b, &lostError{err: mumble.ErrServerClosed, torDown: true, tor: tor.Status{Progress: 80}}, ProblemOther, true, "because Tor stopped working"},
		{"lost, tor exited", b, &lostError{err: mumble.ErrServerClosed, torDown: true, tor: tor.Status{Err: tor.ErrTorExited}}, ProblemTorFailed, false, "no longer running"},
		{"lost, tor network down", b, &lostError{err: mumble.ErrPingTimeout, torDown: true,
			tor: tor.Status{Mode: tor.ModeEmbedded, Ready: true, NetworkDown: true, NetworkProblem: "No circuit got an answer for 30s"}},
			ProblemOther, true, "because Tor lost the network, not because of the server: No circuit got an answer for 30s."},
		{"lost, external tor down", b, &lostError{err: mumble.ErrServerClosed, torDown: true,
			tor: tor.Status{Mode: tor.ModeSOCKS, Ready: true, NetworkDown: true, NetworkProblem: "The Tor at 127.0.0.1:9050 does not answer"}},
			ProblemOther, true, "the Tor Tumble uses stopped working, not because of the server: The Tor at 127.0.0.1:9050 does not answer."},
		{"lost through an external tor", b, &lostError{err: mumble.ErrServerClosed, tor: tor.Status{Mode: tor.ModeSOCKS, Ready: true}},
			ProblemOther, true, "Tumble cannot see which"},
		{"unknown", b, errors.New("strange"), ProblemOther, true, "Could not connect to srv."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, retry := classify(tc.b, tc.err)
			if p.Kind != tc.kind || retry != tc.retry || !strings.Contains(p.Message, tc.want) {
				t.Errorf("classify(%v) = %+v, retry %v; want %v, retry %v, message with %q", tc.err, p, retry, tc.kind, tc.retry, tc.want)
			}
			if p.Detail != tc.err.Error() {
				t.Errorf("Detail = %q, want the raw error %q", p.Detail, tc.err)
			}
			for _, raw := range []string{"SOCKS reply", "context deadline", "0x", "mumble:", "tor:"} {
				if strings.Contains(p.Message, raw) {
					t.Errorf("Message %q shows raw error text %q", p.Message, raw)
				}
			}
		})
	}
	if p, _ := classify(b, &mumble.RejectError{Type: mumble.RejectWrongServerPW}); !p.PasswordNeeded {
		t.Error("a missing server password is not marked PasswordNeeded")
	}
	if p, _ := classify(withPW, &mumble.RejectError{Type: mumble.RejectWrongServerPW}); p.PasswordNeeded {
		t.Error("a refused server password is marked PasswordNeeded")
	}
}

// disconnectedOrWaiting is the end of a failed attempt.
func disconnectedOrWaiting(st State) bool {
	return st.Phase == PhaseDisconnected || st.Phase == PhaseReconnectWait
}

// TestProblemsFromRealFailures: real SOCKS replies, a closed SOCKS port, a
// closed server port, a server that never answers and real murmur refusals
// reach the user as their sentences, with the raw error in Detail.
func TestProblemsFromRealFailures(t *testing.T) {
	onionBookmark := func(c *Controller) Bookmark {
		b, err := c.SaveBookmark(Bookmark{Label: "hidden", Address: newTestOnion(t), Port: 64738, Username: "ivy"})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		code       byte
		want, raw  string
		wantTorBar bool
	}{
		{0xF0, "cannot be found on the Tor network", "descriptor not found", false},
		{0xF2, "could not get through", "introduction failed", false},
		{0x01, "refuse connections from Tor", "general SOCKS server failure", false},
		{0x05, "no server is running on that port", "connection refused", false},
	} {
		t.Run(fmt.Sprintf("socks reply %#x", tc.code), func(t *testing.T) {
			socks := newSOCKSResponder(t, tc.code)
			c := newTestController(t, ControllerConfig{TorMode: "socks=" + socks.ln.Addr().String()})
			c.Connect(onionBookmark(c).ID)
			st := waitFor(t, c, "failure", disconnectedOrWaiting)
			if !strings.Contains(st.Problem.Message, tc.want) || !strings.Contains(st.Problem.Detail, tc.raw) {
				t.Errorf("Problem = %+v; want a message with %q and the detail %q", st.Problem, tc.want, tc.raw)
			}
		})
	}

	t.Run("socks port closed", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := newTestController(t, ControllerConfig{TorMode: "socks=" + addr})
		c.Connect(onionBookmark(c).ID)
		st := waitFor(t, c, "failure", disconnectedOrWaiting)
		if st.Problem.Kind != ProblemTorFailed || !strings.Contains(st.Problem.Message, "is Tor running there") ||
			!strings.Contains(st.Problem.Detail, "refused") {
			t.Errorf("Problem = %+v; want Tor's SOCKS port not answering", st.Problem)
		}
	})

	t.Run("server port closed", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := newTestController(t, ControllerConfig{})
		c.Connect(addServerBookmark(t, c, addr, "ann", "").ID)
		st := waitFor(t, c, "failure", disconnectedOrWaiting)
		if !strings.Contains(st.Problem.Message, "no server is running on that port") {
			t.Errorf("Problem = %+v; want a refused connection", st.Problem)
		}
	})

	t.Run("server silent", func(t *testing.T) {
		bh := apptest.NewBlackhole(t)
		c := newTestController(t, ControllerConfig{ConnectTimeout: 300 * time.Millisecond})
		c.Connect(addServerBookmark(t, c, bh.Addr, "ann", "").ID)
		st := waitFor(t, c, "failure", disconnectedOrWaiting)
		if !strings.Contains(st.Problem.Message, "did not answer in time") {
			t.Errorf("Problem = %+v; want a timeout", st.Problem)
		}
	})

	t.Run("password needed", func(t *testing.T) {
		srv := murmurtest.Start(t, murmurtest.Options{Password: "right horse"})
		c := newTestController(t, ControllerConfig{})
		c.Connect(addServerBookmark(t, c, srv.Addr, "dave", "").ID)
		st := waitFor(t, c, "refused", disconnectedOrWaiting)
		if st.Problem.Kind != ProblemWrongPassword || !st.Problem.PasswordNeeded ||
			!strings.Contains(st.Problem.Message, "needs a server password") {
			t.Errorf("Problem = %+v; want a server password needed", st.Problem)
		}
	})
}
