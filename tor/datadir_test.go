package tor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirectoryPerProcess: a data directory in use (locked by another
// Tor user) is skipped for BASE-2 and so on; a released one is taken again.
func TestDataDirectoryPerProcess(t *testing.T) {
	base := filepath.Join(t.TempDir(), "tor")
	s := &Server{DataDir: base}
	d1, l1, amnesic, err := s.dataDirectory()
	if err != nil || d1 != base || amnesic {
		t.Fatalf("first: %s %v %v", d1, amnesic, err)
	}
	d2, l2, _, err := s.dataDirectory()
	if err != nil || d2 != base+"-2" {
		t.Fatalf("second: %s %v, want %s-2", d2, err, base)
	}
	l1.Release()
	d3, l3, _, err := s.dataDirectory()
	if err != nil || d3 != base {
		t.Fatalf("after release: %s %v, want %s", d3, err, base)
	}
	var locks = []interface{ Release() error }{l2, l3}
	for range maxDataDirs - 2 {
		_, l, _, err := s.dataDirectory()
		if err != nil {
			t.Fatal(err)
		}
		locks = append(locks, l)
	}
	_, _, _, err = s.dataDirectory()
	if err == nil || !strings.Contains(err.Error(), base) || !strings.Contains(err.Error(), "in use by other Tumble") {
		t.Errorf("all in use: %v, want one line naming %s", err, base)
	}
	for _, l := range locks {
		l.Release()
	}
}

// TestTestingTorrcNeverUsesTheRealDataDir: a test network's torrc without
// an explicit data directory gets a temporary one, not the user's.
func TestTestingTorrcNeverUsesTheRealDataDir(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	os.Chmod(rt, 0o700)
	s := &Server{Torrc: []string{"TestingTorNetwork 1"}, AllowTestingNetwork: true}
	dir, l, amnesic, err := s.dataDirectory()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !amnesic || filepath.Dir(dir) != rt {
		t.Errorf("test network data directory %s (amnesic %v), want a temporary one in %s", dir, amnesic, rt)
	}
	if _, err := os.Stat(filepath.Join(cfg, "tumble")); err == nil {
		t.Error("the user's configuration directory was written")
	}
}
