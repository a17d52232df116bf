package tornet

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in     string
		status int
		lines  []string
		bad    bool
	}{
		{in: "250 OK\r\n", status: 250, lines: []string{"OK"}},
		{in: "250-ServiceID=abc\r\n250-PrivateKey=ED25519-V3:xyz\r\n250 OK\r\n", status: 250,
			lines: []string{"ServiceID=abc", "PrivateKey=ED25519-V3:xyz", "OK"}},
		{in: "250+circuit-status=\r\n1 BUILT a,b\r\n..dot\r\n.\r\n250 OK\r\n", status: 250,
			lines: []string{"circuit-status=\n1 BUILT a,b\n.dot", "OK"}},
		{in: "650 HS_DESC UPLOADED abc UNKNOWN $X~r0\r\n", status: 650,
			lines: []string{"HS_DESC UPLOADED abc UNKNOWN $X~r0"}},
		{in: "515 Authentication failed\r\n", status: 515, lines: []string{"Authentication failed"}},
		{in: "25 OK\r\n", bad: true},
		{in: "250*OK\r\n", bad: true},
		{in: "250-a\r\n251 b\r\n", bad: true},
		{in: "250-truncated\r\n", bad: true},
	} {
		r, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if tc.bad {
			if err == nil {
				t.Errorf("readReply(%q) = %+v, want an error", tc.in, r)
			}
			continue
		}
		if err != nil || r.status != tc.status || !slices.Equal(r.lines, tc.lines) {
			t.Errorf("readReply(%q) = %d %q, %v; want %d %q", tc.in, r.status, r.lines, err, tc.status, tc.lines)
		}
	}
}

func TestQuoteControl(t *testing.T) {
	if got, want := quoteControl(`a"b\c`), `"a\"b\\c"`; got != want {
		t.Errorf("quoteControl = %s, want %s", got, want)
	}
}

// TestControlConnEvents runs a controlConn against a scripted server: events
// arriving between commands go to subscribers, replies to commands, and a
// command whose context ends does not swallow the next command's reply.
func TestControlConnEvents(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	release := make(chan struct{})
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		expect := func(want string) bool {
			line, err := br.ReadString('\n')
			if err != nil || line != want+"\r\n" {
				t.Errorf("server got %q, %v; want %q", line, err, want)
				return false
			}
			return true
		}
		if !expect(`AUTHENTICATE "pw"`) {
			return
		}
		c.Write([]byte("250 OK\r\n"))
		if !expect("SLOW") {
			return
		}
		<-release
		c.Write([]byte("650 HS_DESC UPLOAD x\r\n250 slow done\r\n"))
		if !expect("GETINFO version") {
			return
		}
		c.Write([]byte("650 HS_DESC UPLOADED x\r\n250-version=0.4.9.11\r\n250 OK\r\n"))
		br.ReadString('\n') // wait for the client to close
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := dialControl(ctx, l.Addr().String(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	events := c.subscribe()
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.command(short, "SLOW"); err == nil {
		t.Fatal("SLOW: got a reply before the server sent one")
	}
	close(release)
	v, err := c.getInfo(ctx, "version")
	if err != nil || v != "0.4.9.11" {
		t.Fatalf("GETINFO version = %q, %v", v, err)
	}
	for _, want := range []string{"HS_DESC UPLOAD x", "HS_DESC UPLOADED x"} {
		select {
		case got := <-events:
			if got != want {
				t.Errorf("event %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatalf("no event %q", want)
		}
	}
	if _, err := c.command(ctx, "BAD\r\nINJECT"); err == nil {
		t.Error("a command with a line break was sent")
	}
}

func TestDialControlRefusesNonLoopback(t *testing.T) {
	if _, err := dialControl(t.Context(), "192.0.2.1:9051", "pw"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dialControl to a non-loopback address: %v", err)
	}
}
