package tor

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor/tornet"
)

// Integration tests against the private Tor network of package tornet.
// This file needs no cgo: it holds the shared helpers and the socks-mode
// test; embedded_test.go (build tag libtor) adds the embedded Tor.

// sharedNet is the private network started by TestMain in libtor builds;
// nil otherwise, and then each integration test starts its own.
var sharedNet *tornet.Network

// privateNet returns the private network for t, starting one if TestMain
// did not (the network's logs are then in t's log if t fails). It skips
// the test in -short mode, and when tor is missing (fails instead with
// TUMBLE_REQUIRE_SERVERS=1).
func privateNet(t *testing.T) *tornet.Network {
	t.Helper()
	if sharedNet != nil {
		sharedNet.LogOnFailure(t)
		return sharedNet
	}
	if testing.Short() {
		t.Skip("private Tor network tests skipped in -short mode")
	}
	return tornet.StartT(t, tornet.Options{})
}

// echoServer listens on 127.0.0.1 and echoes every connection's bytes.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// echoRoundTrip writes a line on c and expects it back.
func echoRoundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	msg := "ping " + time.Now().String() + "\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg {
		t.Fatalf("echo: %q, %v", got, err)
	}
}
