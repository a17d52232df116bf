// Package apptest holds the test helpers that the tests of package app and
// of package ui share: loopback listeners standing for a remote server (one
// counting the connections it gets, one that never answers) and a
// SuperUser client for changing a test server.
//
// Only tests import it (TestOnlyTestsImport checks). It does not import
// package app, so that app's own tests can use it.
package apptest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// Tracker starts a loopback listener standing for a remote server that
// descriptions and messages point at. It returns the listener's base URL
// ("http://127.0.0.1:port") and a function returning how many connections
// it accepted; a privacy test expects none. The listener is closed, and
// its goroutine joined, when the test ends.
func Tracker(t testing.TB) (base string, connections func() int64) {
	t.Helper()
	var n atomic.Int64
	addr := listen(t, func(conn net.Conn, _ <-chan struct{}) {
		n.Add(1)
		conn.Close()
	})
	return "http://" + addr, n.Load
}

// Blackhole is a loopback listener that accepts connections and never
// answers: a server or a Tor SOCKS port that keeps an attempt hanging.
type Blackhole struct {
	// Addr is the listener's address, host:port.
	Addr string
	// Accepted receives each accepted connection; the test may read it to
	// see the client close its side. Connections not taken are closed when
	// the test ends.
	Accepted <-chan net.Conn
}

// NewBlackhole starts a Blackhole; it is closed, its goroutine joined and
// its connections closed when the test ends.
func NewBlackhole(t testing.TB) *Blackhole {
	t.Helper()
	accepted := make(chan net.Conn, 16)
	// Runs after listen's cleanup (cleanups run last added first), when
	// nothing sends any more.
	t.Cleanup(func() {
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	})
	addr := listen(t, func(conn net.Conn, done <-chan struct{}) {
		select {
		case accepted <- conn:
		case <-done:
			conn.Close()
		}
	})
	return &Blackhole{Addr: addr, Accepted: accepted}
}

// listen starts a listener on 127.0.0.1 and one goroutine that passes each
// accepted connection to handle, and returns the listener's address. When
// the test ends the listener is closed, done (handle's second argument)
// is closed and the goroutine joined.
func listen(t testing.TB, handle func(conn net.Conn, done <-chan struct{})) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			handle(conn, done)
		}
	})
	t.Cleanup(func() {
		ln.Close()
		close(done)
		wg.Wait()
	})
	return ln.Addr().String()
}

// SuperUser connects to srv as SuperUser with package mumble, for changing
// what a test needs changed on the server (descriptions, channels). The
// client is closed when the test ends.
func SuperUser(t testing.TB, srv *murmurtest.Server) *mumble.Client {
	t.Helper()
	var d net.Dialer
	c, err := mumble.Dial(t.Context(), srv.Addr, &mumble.Config{Username: "SuperUser", Password: srv.SuperUserPassword,
		DialContext: d.DialContext, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
