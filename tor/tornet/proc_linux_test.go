package tornet

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A procSocket is one line of /proc/net/{tcp,tcp6,udp,udp6}.
type procSocket struct {
	proto         string
	local, remote net.IP
	localPort     int
	state         string // "0A" is TCP LISTEN
}

// checkLoopbackOnly fails t unless every socket of every tor of n is bound to
// a loopback address and, if connected, connected to one. It also checks
// that each tor has the listeners it should, so the check cannot pass
// vacuously.
func checkLoopbackOnly(t *testing.T, n *Network) {
	t.Helper()
	table := map[string]procSocket{} // by inode
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		if err := readProcNet(proto, table); err != nil {
			t.Fatal(err)
		}
	}
	for _, nd := range n.nodes {
		pid := nd.pid()
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatalf("tor %s: %v", nd.name, err)
		}
		listeners := 0
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
			if err != nil {
				continue
			}
			inode, ok := strings.CutPrefix(link, "socket:[")
			if !ok {
				continue
			}
			s, ok := table[strings.TrimSuffix(inode, "]")]
			if !ok {
				continue // not an IP socket (unix socket, netlink)
			}
			if !s.local.IsLoopback() {
				t.Errorf("tor %s has a %s socket on %s:%d", nd.name, s.proto, s.local, s.localPort)
			}
			if !s.remote.IsUnspecified() && !s.remote.IsLoopback() {
				t.Errorf("tor %s has a %s socket connected to %s", nd.name, s.proto, s.remote)
			}
			if s.proto == "tcp" && s.state == "0A" {
				listeners++
			}
		}
		// Authorities: ORPort, DirPort, ControlPort; relays: ORPort,
		// ControlPort; onion-service and client tors: SocksPort, ControlPort.
		want := map[nodeKind]int{authority: 3, relay: 2, onionHost: 2, client: 2}[nd.kind]
		if listeners != want {
			t.Errorf("tor %s (%s) has %d TCP listeners on 127.0.0.1, want %d", nd.name, nd.kind, listeners, want)
		}
	}
}

// readProcNet adds the sockets of /proc/net/<proto> to table, by inode.
func readProcNet(proto string, table map[string]procSocket) error {
	f, err := os.Open("/proc/net/" + proto)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 10 {
			continue
		}
		local, port, err := parseProcAddr(fl[1])
		if err != nil {
			return fmt.Errorf("/proc/net/%s: %w", proto, err)
		}
		remote, _, err := parseProcAddr(fl[2])
		if err != nil {
			return fmt.Errorf("/proc/net/%s: %w", proto, err)
		}
		table[fl[9]] = procSocket{proto: proto, local: local, remote: remote, localPort: port, state: fl[3]}
	}
	return sc.Err()
}

// parseProcAddr parses "0100007F:1F90": the IP in host byte order (little
// endian here) in 32-bit words, and the port.
func parseProcAddr(s string) (net.IP, int, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, fmt.Errorf("address %q", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, 0, fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("port in %q", s)
	}
	return net.IP(b), int(port), nil
}

// rss returns the resident memory of all of n's tor processes, in bytes.
func (n *Network) rss() (int64, error) {
	var total int64
	for _, nd := range n.nodes {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", nd.pid()))
		if err != nil {
			return 0, err
		}
		for l := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				if err != nil {
					return 0, fmt.Errorf("VmRSS %q: %w", v, err)
				}
				total += kb << 10
			}
		}
	}
	return total, nil
}

// processExists reports whether a process with this id exists.
func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// idleCPU returns the CPU time n's tors use during d, as a fraction of one
// core.
func (n *Network) idleCPU(d time.Duration) (float64, error) {
	ticks := func() (int64, error) {
		var sum int64
		for _, nd := range n.nodes {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", nd.pid()))
			if err != nil {
				return 0, err
			}
			// Fields after the parenthesized command: utime and stime are
			// the 12th and 13th.
			_, rest, ok := strings.Cut(string(data), ") ")
			f := strings.Fields(rest)
			if !ok || len(f) < 13 {
				return 0, fmt.Errorf("/proc/%d/stat: unexpected format", nd.pid())
			}
			for _, s := range f[11:13] {
				v, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return 0, err
				}
				sum += v
			}
		}
		return sum, nil
	}
	before, err := ticks()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	time.Sleep(d)
	after, err := ticks()
	if err != nil {
		return 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return float64(after-before) / hz / time.Since(t0).Seconds(), nil
}
