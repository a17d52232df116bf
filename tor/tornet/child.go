package tornet

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// DeadBridgeLine returns the network's obfs4 bridge line with the address
// of a free port on BridgeHost instead of the bridge's: a bridge that
// refuses connections, for tests of a Tor stuck behind it.
func (n *Network) DeadBridgeLine() (string, error) {
	f := strings.Fields(n.bridgeLine)
	if len(f) < 2 {
		return "", fmt.Errorf("tornet: the network has no bridge (Options.Bridge)")
	}
	l, err := net.Listen("tcp", net.JoinHostPort(BridgeHost, "0"))
	if err != nil {
		return "", fmt.Errorf("tornet: dead bridge address: %w", err)
	}
	f[1] = l.Addr().String()
	l.Close()
	return strings.Join(f, " "), nil
}

// RunChildTest runs the test named test of the running test binary in a
// child process, with env (KEY=VALUE) added to its environment, and fails
// t unless that test passed there. The embedded Tor starts once per
// process, so a test that needs one of its own runs as a child.
func RunChildTest(ctx context.Context, t testing.TB, test string, env ...string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^"+test+"$", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("child %s:\n%s", test, out)
	if err != nil {
		t.Fatalf("child %s: %v", test, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+test+" ") {
		t.Fatalf("child: %s did not pass (skipped or not run)", test)
	}
}
