package tornet

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// TestDialSOCKS checks, against a scripted SOCKS5 server, that the host is
// sent as a name (address type 3) with the user name and password, and that
// a failure reply comes back as a *socksError with its code.
func TestDialSOCKS(t *testing.T) {
	const host = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
	for _, reply := range []byte{0x00, 0xF4} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			var req bytes.Buffer
			read := func(n int) []byte {
				b := make([]byte, n)
				io.ReadFull(c, b)
				req.Write(b)
				return b
			}
			read(3) // 05 01 02
			c.Write([]byte{0x05, 0x02})
			read(1)               // 01
			read(int(read(1)[0])) // user
			read(int(read(1)[0])) // password
			c.Write([]byte{0x01, 0x00})
			read(4)               // 05 01 00 03
			read(int(read(1)[0])) // host
			read(2)               // port
			got <- req.Bytes()
			c.Write([]byte{0x05, reply, 0x00, 0x01, 0, 0, 0, 0, 0, 0})
			if reply == 0 {
				io.Copy(c, c)
			}
		}()
		conn, err := dialSOCKS(t.Context(), l.Addr().String(), "alice", "pw", host, 64738)
		want := []byte{0x05, 0x01, 0x02, 0x01, 5, 'a', 'l', 'i', 'c', 'e', 2, 'p', 'w', 0x05, 0x01, 0x00, 0x03, byte(len(host))}
		want = append(append(want, host...), 0xFC, 0xE2) // port 64738
		if req := <-got; !bytes.Equal(req, want) {
			t.Errorf("request bytes\n% x\nwant\n% x", req, want)
		}
		var se *socksError
		switch {
		case reply == 0 && err != nil:
			t.Errorf("reply 0: %v", err)
		case reply == 0:
			conn.Close()
		case !errors.As(err, &se) || se.Code != reply:
			t.Errorf("reply %#x: got %v, want a socksError with that code", reply, err)
		}
		l.Close()
	}
}

func TestDialSOCKSBadArguments(t *testing.T) {
	for _, tc := range []struct {
		proxy, host string
		port        int
	}{
		{"192.0.2.1:9050", "x.onion", 80}, // not loopback
		{"127.0.0.1:9050", "", 80},
		{"127.0.0.1:9050", "x.onion", 0},
		{"127.0.0.1:9050", string(make([]byte, 256)), 80},
	} {
		if c, err := dialSOCKS(t.Context(), tc.proxy, "", "", tc.host, tc.port); err == nil {
			c.Close()
			t.Errorf("dialSOCKS(%q, %q, %d) succeeded", tc.proxy, tc.host, tc.port)
		}
	}
}
