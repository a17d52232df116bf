package murmurtest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// A Recorder is a TLS-terminating proxy in front of a server: clients
// connect to Addr (pinning Fingerprint), it connects to the server and
// relays every frame both ways, recording it. It sees exactly what the
// server sees.
type Recorder struct {
	// Addr is the loopback address clients connect to.
	Addr string

	fingerprint string
	ln          net.Listener
	target      *Server
	wg          sync.WaitGroup

	mu     sync.Mutex
	frames []Frame
	conns  []net.Conn
	nextID int
}

// A Frame is one recorded Mumble frame.
type Frame struct {
	Conn       int  // connection number, from 1
	FromClient bool // client to server
	Type       uint16
	Payload    []byte
}

// maxRecordedFrame bounds a frame's payload (servers allow 8 MB).
const maxRecordedFrame = 8 << 20

// StartRecorder starts a recording proxy for srv; it stops when the test
// ends.
func StartRecorder(t testing.TB, srv *Server) *Recorder {
	t.Helper()
	cert := SelfSignedCert(t, "murmurtest recorder")
	sum := sha256.Sum256(cert.Certificate[0])
	fp := hex.EncodeToString(sum[:])
	ln, err := tls.Listen("tcp4", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("murmurtest: recorder: %v", err)
	}
	r := &Recorder{Addr: ln.Addr().String(), fingerprint: fp, ln: ln, target: srv}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

// Fingerprint returns the hex SHA-256 of the recorder's certificate, for
// clients to pin.
func (r *Recorder) Fingerprint() string { return r.fingerprint }

// Frames returns a copy of the frames recorded so far.
func (r *Recorder) Frames() []Frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Frame(nil), r.frames...)
}

func (r *Recorder) close() {
	r.ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *Recorder) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.nextID++
		id := r.nextID
		r.conns = append(r.conns, c)
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.relay(id, c)
		}()
	}
}

// relay connects client c to the server and copies frames both ways
// until either side closes.
func (r *Recorder) relay(id int, c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up, err := dialControl(ctx, r.target.Addr)
	if err != nil {
		return
	}
	hctx, hcancel := context.WithTimeout(ctx, 5*time.Second)
	err = up.conn.HandshakeContext(hctx)
	hcancel()
	if err != nil || !r.pinned(up.conn) {
		up.Close()
		return
	}
	r.mu.Lock()
	r.conns = append(r.conns, up.conn)
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { r.copyFrames(id, true, bufio.NewReader(c), up.conn); done <- struct{}{} }()
	go func() { r.copyFrames(id, false, up.r, c); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
}

func (r *Recorder) pinned(c *tls.Conn) bool {
	certs := c.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return false
	}
	sum := sha256.Sum256(certs[0].Raw)
	return hex.EncodeToString(sum[:]) == r.target.Fingerprint()
}

func (r *Recorder) copyFrames(id int, fromClient bool, src io.Reader, dst io.Writer) {
	var hdr [6]byte
	for {
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[2:])
		if n > maxRecordedFrame {
			return
		}
		buf := make([]byte, 6+int(n))
		copy(buf, hdr[:])
		if _, err := io.ReadFull(src, buf[6:]); err != nil {
			return
		}
		r.mu.Lock()
		r.frames = append(r.frames, Frame{Conn: id, FromClient: fromClient, Type: binary.BigEndian.Uint16(hdr[:]), Payload: buf[6:]})
		r.mu.Unlock()
		if _, err := dst.Write(buf); err != nil {
			return
		}
	}
}

// String describes a frame for test logs.
func (f Frame) String() string {
	dir := "server->client"
	if f.FromClient {
		dir = "client->server"
	}
	return fmt.Sprintf("conn %d %s type %d, %d bytes", f.Conn, dir, f.Type, len(f.Payload))
}

// LoopbackDial dials like net.Dialer but refuses anything not on loopback:
// a DialContext for test clients (tests reach nothing outside loopback).
func LoopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test dialer: refusing non-loopback address %q", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
