package tornet

import (
	"slices"
	"strings"
	"testing"
)

// TestTorrcSafety checks every kind of torrc for what keeps a network off
// the real Tor network: TestingTorNetwork, the network's own authorities
// only, listeners on 127.0.0.1 only, no exit relays.
func TestTorrcSafety(t *testing.T) {
	n := &Network{
		dir:            "/tmp/tornet-test",
		hashedPassword: "16:00",
		dirAuthorities: []string{
			"DirAuthority a0 orport=20001 no-v2 v3ident=" + strings.Repeat("A", 40) + " 127.0.0.1:20002 " + strings.Repeat("B", 40),
			"DirAuthority a1 orport=20003 no-v2 v3ident=" + strings.Repeat("C", 40) + " 127.0.0.1:20004 " + strings.Repeat("D", 40),
			"DirAuthority a2 orport=20005 no-v2 v3ident=" + strings.Repeat("E", 40) + " 127.0.0.1:20006 " + strings.Repeat("F", 40),
		},
	}
	for _, nd := range []*node{
		{name: "a0", kind: authority, dir: "/tmp/tornet-test/a0", orPort: 20001, dirPort: 20002},
		{name: "r0", kind: relay, dir: "/tmp/tornet-test/r0"},
		{name: "onion", kind: onionHost, dir: "/tmp/tornet-test/onion"},
		{name: "client", kind: client, dir: "/tmp/tornet-test/client"},
	} {
		conf := map[string][]string{}
		for l := range strings.Lines(n.torrc(nd)) {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			k, v, _ := strings.Cut(l, " ")
			conf[k] = append(conf[k], v)
		}
		if got := conf["TestingTorNetwork"]; len(got) != 1 || got[0] != "1" {
			t.Errorf("%s: TestingTorNetwork %q, want 1", nd.name, got)
		}
		if got := conf["DirAuthority"]; len(got) != 3 {
			t.Errorf("%s: %d DirAuthority lines, want 3", nd.name, len(got))
		}
		for _, k := range []string{"AlternateDirAuthority", "FallbackDir", "Bridge", "UseBridges"} {
			if _, ok := conf[k]; ok {
				t.Errorf("%s: has %s", nd.name, k)
			}
		}
		ports := 0
		for k, vs := range conf {
			if !strings.HasSuffix(k, "Port") {
				continue
			}
			for _, v := range vs {
				ports++
				addr, _, _ := strings.Cut(v, " ")
				if addr != "0" && !strings.HasPrefix(addr, "127.0.0.1:") {
					t.Errorf("%s: %s %s is not on 127.0.0.1", nd.name, k, v)
				}
			}
		}
		if ports < 2 {
			t.Errorf("%s: only %d port lines", nd.name, ports)
		}
		if nd.kind == authority || nd.kind == relay {
			if got := conf["ExitPolicy"]; len(got) != 1 || got[0] != "reject *:*" {
				t.Errorf("%s: ExitPolicy %q, want reject *:*", nd.name, got)
			}
			if got := conf["ExitRelay"]; len(got) != 1 || got[0] != "0" {
				t.Errorf("%s: ExitRelay %q, want 0", nd.name, got)
			}
		}
	}
}

// TestClientTorrc checks that ClientTorrc carries TestingTorNetwork and the
// network's DirAuthority lines, and nothing that would make a client a
// relay.
func TestClientTorrc(t *testing.T) {
	n := &Network{dirAuthorities: []string{"DirAuthority a0 x", "DirAuthority a1 y", "DirAuthority a2 z"}}
	lines := n.ClientTorrc()
	for _, want := range append([]string{"TestingTorNetwork 1", "UseEntryGuards 0"}, n.dirAuthorities...) {
		if !slices.Contains(lines, want) {
			t.Errorf("ClientTorrc lacks %q: %q", want, lines)
		}
	}
	for _, l := range lines {
		if k, _, _ := strings.Cut(l, " "); strings.HasSuffix(k, "Port") || k == "DataDirectory" {
			t.Errorf("ClientTorrc sets %s, which is the client's own business", l)
		}
	}
}
