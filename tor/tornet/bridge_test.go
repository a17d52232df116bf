package tornet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBridgeLineTemplate(t *testing.T) {
	tmpl := "# obfs4 torrc client bridge line\n#\n# This file is an automatically generated bridge line...\n\nBridge obfs4 <IP ADDRESS>:<PORT> <FINGERPRINT> cert=abc iat-mode=0\n"
	fpr := "b0 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D\n"
	got, err := bridgeLine(tmpl, fpr, "127.0.0.2:20001")
	if want := "obfs4 127.0.0.2:20001 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=abc iat-mode=0"; got != want || err != nil {
		t.Errorf("bridgeLine = %q, %v; want %q", got, err, want)
	}
	if _, err := bridgeLine("nothing", fpr, "127.0.0.2:1"); err == nil {
		t.Error("no template: no error")
	}
	if _, err := bridgeLine(tmpl, "b0 XYZ", "127.0.0.2:1"); err == nil {
		t.Error("bad fingerprint file: no error")
	}
}

// TestBridge starts a network with an obfs4 bridge and a standalone client
// tor that knows only the bridge line, and reaches an onion service
// through it.
func TestBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("private Tor network tests skipped in -short mode")
	}
	opts := Options{Bridge: true}
	n := StartT(t, opts)
	line := n.BridgeLine()
	if !strings.HasPrefix(line, "obfs4 "+n.BridgeAddr()+" ") || !strings.Contains(line, " cert=") {
		t.Fatalf("bridge line %q", line)
	}
	relays, err := n.RelayAddrs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(relays) < 2*numAuthorities+numRelays+1 {
		t.Errorf("relay addresses: %v", relays)
	}
	for _, a := range relays {
		if strings.HasPrefix(a, BridgeHost+":") {
			t.Errorf("relay address %s on the bridge host", a)
		}
	}

	// A client tor with only the bridge.
	nd := &node{name: "bclient", kind: client, dir: filepath.Join(n.Dir(), "bclient")}
	if err := os.MkdirAll(nd.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	torrc := strings.ReplaceAll(n.torrc(nd), "UseEntryGuards 0\n", "") +
		"UseBridges 1\nClientTransportPlugin obfs4 exec " + Obfs4Proxy + "\nBridge " + line + "\n"
	if err := os.WriteFile(filepath.Join(nd.dir, torrcName), []byte(torrc), 0o600); err != nil {
		t.Fatal(err)
	}
	n.nodes = append(n.nodes, nd) // killed by Close, logs in Logs
	ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
	defer cancel()
	if err := n.launchAll(ctx, []*node{nd}); err != nil {
		t.Fatal(err)
	}
	c, err := dialControl(ctx, nd.controlAddr, n.password)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := waitBootstrapped(ctx, c); err != nil {
		t.Fatalf("bridge client: %v", err)
	}
	socks, err := socksListener(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := n.AddOnionService(ctx, startEcho(t), mumblePort, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := echoVia(ctx, socks, "bridge", s); err != nil {
		t.Fatalf("echo through the bridge: %v", err)
	}
	// The client's guard is the bridge.
	v, err := c.getInfo(ctx, "entry-guards")
	if err != nil {
		t.Fatal(err)
	}
	fpr := strings.Fields(line)[2]
	if !strings.Contains(v, fpr) {
		t.Errorf("entry guards %q do not name the bridge %s", v, fpr)
	}
}
