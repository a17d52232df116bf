package tor

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
)

// socksRequest is what the test SOCKS server saw from one client.
type socksRequest struct {
	Methods  []byte
	User     string
	Pass     string
	Atyp     byte
	Host     string // name for ATYP 3, IP text otherwise
	Port     uint16
	Greeting bool // only a greeting arrived (a probe)
}

// socksServer is a minimal SOCKS5 server on 127.0.0.1 for tests. It
// records every request and answers with reply; on success it echoes what
// the client sends. It never connects anywhere.
type socksServer struct {
	t     *testing.T
	ln    net.Listener
	reply byte // CONNECT reply code
	// silent, if set, makes the server accept connections and never answer.
	silent bool

	mu       sync.Mutex
	conns    int
	requests []socksRequest
	wg       sync.WaitGroup
}

func newSOCKSServer(t *testing.T, reply byte) *socksServer {
	t.Helper()
	return startSOCKSServer(t, reply, false)
}

// newSilentSOCKSServer returns a SOCKS server that accepts connections and
// never answers.
func newSilentSOCKSServer(t *testing.T) *socksServer {
	t.Helper()
	return startSOCKSServer(t, 0, true)
}

func startSOCKSServer(t *testing.T, reply byte, silent bool) *socksServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socksServer{t: t, ln: ln, reply: reply, silent: silent}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *socksServer) Addr() string { return s.ln.Addr().String() }

func (s *socksServer) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *socksServer) Requests() []socksRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]socksRequest(nil), s.requests...)
}

func (s *socksServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *socksServer) record(r socksRequest) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

func (s *socksServer) handle(c net.Conn) {
	if s.silent {
		io.Copy(io.Discard, c)
		return
	}
	var r socksRequest
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(c, hdr); err != nil || hdr[0] != 5 {
		return
	}
	r.Methods = make([]byte, hdr[1])
	if _, err := io.ReadFull(c, r.Methods); err != nil {
		return
	}
	method := byte(0xFF)
	for _, m := range r.Methods {
		if m == 2 {
			method = 2
		}
	}
	if method == 0xFF {
		for _, m := range r.Methods {
			if m == 0 {
				method = 0
			}
		}
	}
	c.Write([]byte{5, method})
	if method == 0xFF {
		return
	}
	if method == 2 {
		b := make([]byte, 2)
		if _, err := io.ReadFull(c, b); err != nil {
			r.Greeting = true
			s.record(r)
			return
		}
		user := make([]byte, b[1])
		io.ReadFull(c, user)
		pl := make([]byte, 1)
		io.ReadFull(c, pl)
		pass := make([]byte, pl[0])
		io.ReadFull(c, pass)
		r.User, r.Pass = string(user), string(pass)
		c.Write([]byte{1, 0})
	}
	req := make([]byte, 4)
	if _, err := io.ReadFull(c, req); err != nil {
		return
	}
	r.Atyp = req[3]
	switch req[3] {
	case 1, 4:
		ip := make([]byte, 4)
		if req[3] == 4 {
			ip = make([]byte, 16)
		}
		io.ReadFull(c, ip)
		a, _ := netip.AddrFromSlice(ip)
		r.Host = a.String()
	case 3:
		l := make([]byte, 1)
		io.ReadFull(c, l)
		name := make([]byte, l[0])
		io.ReadFull(c, name)
		r.Host = string(name)
	}
	p := make([]byte, 2)
	if _, err := io.ReadFull(c, p); err != nil {
		return
	}
	r.Port = binary.BigEndian.Uint16(p)
	s.record(r)
	c.Write([]byte{5, s.reply, 0, 1, 0, 0, 0, 0, 0, 0})
	if s.reply == 0 {
		io.Copy(c, c) // echo
	}
}
