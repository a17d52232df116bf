//go:build libtor

package libtor

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	bine "github.com/cretz/bine/tor"
)

func TestProviderVersion(t *testing.T) {
	v := ProviderVersion()
	if !strings.Contains(v, "0.4.9") {
		t.Errorf("ProviderVersion() = %q, want Tor 0.4.9", v)
	}
}

// TestRunOnce starts the embedded Tor with the network disabled (it opens
// no connection at all), talks to it over the owning control socket,
// checks that Go keeps its signal handlers, that a second start is
// refused, and that HALT makes tor_run_main return.
func TestRunOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	tr, err := bine.Start(ctx, &bine.StartConf{
		ProcessCreator:         Creator(),
		UseEmbeddedControlConn: true,
		DataDir:                dir,
		DisableCookieAuth:      true,
		NoAutoSocksPort:        true,
		ExtraArgs:              []string{"--SocksPort", "0", "--ControlPort", "0", "--Log", "warn stderr"},
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	kv, err := tr.Control.GetInfo("version")
	if err != nil || len(kv) != 1 || !strings.HasPrefix(kv[0].Val, "0.4.9") {
		t.Fatalf("GETINFO version = %v, %v", kv, err)
	}
	conf, err := tr.Control.GetConf("DisableNetwork")
	if err != nil || len(conf) != 1 || conf[0].Val != "1" {
		t.Fatalf("DisableNetwork = %v, %v", conf, err)
	}

	// Tor must not have taken over signal handling: a SIGHUP reaches Go.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	defer signal.Stop(sig)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sig:
	case <-time.After(5 * time.Second):
		t.Error("SIGHUP did not reach Go: Tor installed signal handlers")
	}

	// One Tor per process.
	if _, err := Creator().New(ctx, "--version"); !errors.Is(err, ErrAlreadyStarted) {
		t.Errorf("second New = %v, want ErrAlreadyStarted", err)
	}

	done := make(chan error, 1)
	go func() { done <- tr.Process.Wait() }()
	if err := tr.Control.Signal("HALT"); err != nil {
		t.Logf("HALT reply: %v (Tor may close first)", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tor_run_main did not return after HALT")
	}
	tr.Control.Close()
}
