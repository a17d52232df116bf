package murmur

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startT starts a server for t in dir, skipping when no server is installed
// (failing with TUMBLE_REQUIRE_SERVERS=1).
func startT(t *testing.T, dir string, c Config) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, dir, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestStartPrivacyDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "room")
	c := Config{Name: "Our room", Welcome: "Hi, \"friends\"", Password: GeneratePassword(), SuperUserPassword: GeneratePassword(), CertRequired: true}
	s := startT(t, dir, c)
	if _, err := x509.ParseCertificate(s.Certificate); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ININame))
	if err != nil {
		t.Fatal(err)
	}
	ini := ParseINI(data)
	want := map[string]string{
		"host": "127.0.0.1", "port": strconv.Itoa(s.Port), "autobanAttempts": "0", "logfile": "", "logdays": "-1",
		"allowping": "false", "sendversion": "false", "bonjour": "false", "registerPassword": "", "registerUrl": "",
		"registerHostname": "", "opusthreshold": "0", "allowhtml": "false", "serverpassword": c.Password,
		"welcometext": c.Welcome, "registerName": c.Name, "bandwidth": strconv.Itoa(DefaultBandwidth),
		"users": strconv.Itoa(DefaultMaxUsers), "certrequired": "true", "rememberchannel": "false",
		"channelnestinglimit": strconv.Itoa(ChannelNestingLimit), "textmessagelength": strconv.Itoa(TextMessageLength),
		"ice": "", "dbus": "",
	}
	for k, v := range want {
		if got, ok := ini[k]; !ok || got != v {
			t.Errorf("ini %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	for _, name := range []string{"", ININame, CertName, KeyName, DatabaseName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		perm := fi.Mode().Perm()
		if (name == "" && perm != 0o700) || (name != "" && perm&0o077 != 0) {
			t.Errorf("%s: mode %v", filepath.Join(dir, name), perm)
		}
	}
	// No log file anywhere in the directory.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(strings.ToLower(e.Name()), "log") {
			t.Errorf("log file %s", e.Name())
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the certificate.
	c.Port = 0
	s2 := startT(t, dir, c)
	if !bytes.Equal(s2.Certificate, s.Certificate) {
		t.Error("the certificate changed over a restart")
	}
	// A second Start on the same directory is refused.
	if _, err := Start(t.Context(), dir, c); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Start: %v", err)
	}
}

func TestStartPortInUse(t *testing.T) {
	first := startT(t, t.TempDir(), Config{SuperUserPassword: "x"})
	_, err := Start(t.Context(), t.TempDir(), Config{SuperUserPassword: "x", Port: first.Port})
	if err == nil {
		t.Fatal("second server on the same port started")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), strconv.Itoa(first.Port)) {
		t.Errorf("error does not name the port: %v", err)
	}
}

// TestStartListenAddress: with Host set (a Linux loopback alias stands in
// for a Whonix Workstation's address) the server listens there and only
// there.
func TestStartListenAddress(t *testing.T) {
	dir := t.TempDir()
	s := startT(t, dir, Config{SuperUserPassword: "x", Host: "127.0.0.2"})
	if want := "127.0.0.2:" + strconv.Itoa(s.Port); s.Addr != want {
		t.Errorf("Addr %s, want %s", s.Addr, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, ININame))
	if err != nil {
		t.Fatal(err)
	}
	if h := ParseINI(data)["host"]; h != "127.0.0.2" {
		t.Errorf("ini host=%s", h)
	}
	if fp, err := handshake(t.Context(), s.Addr); err != nil || !bytes.Equal(fp, s.Certificate) {
		t.Errorf("handshake on %s: %s, %v", s.Addr, fp, err)
	}
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.Port)); err == nil {
		c.Close()
		t.Errorf("the server also listens on 127.0.0.1:%d", s.Port)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{},
		{SuperUserPassword: "a\nb"},
		{SuperUserPassword: "x", MaxUsers: -1},
		{SuperUserPassword: "x", Bandwidth: 10},
		{SuperUserPassword: "x", Port: 70000},
		{SuperUserPassword: "x", Name: "a\nb"},
		{SuperUserPassword: "x", Host: "gateway.example"},
		{SuperUserPassword: "x", Host: "0.0.0.0"},
	} {
		if _, err := Start(t.Context(), t.TempDir(), c); err == nil || !strings.HasPrefix(err.Error(), "murmur: ") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// TestKillParentLeavesNoServer runs a helper process that starts a server,
// kills the helper with SIGKILL and checks that the server is gone.
func TestKillParentLeavesNoServer(t *testing.T) {
	if os.Getenv("MURMUR_TEST_HELPER_DIR") != "" {
		helperMain()
		return
	}
	if _, err := Binary(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillParentLeavesNoServer$")
	cmd.Env = append(os.Environ(), "MURMUR_TEST_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	pid := 0
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("helper did not start a server")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Wait (by polling the kernel's process table) until the server is gone.
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("server %d still runs after its parent was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func helperMain() {
	s, err := Start(context.Background(), os.Getenv("MURMUR_TEST_HELPER_DIR"), Config{SuperUserPassword: "x"})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("PID", s.Pid())
	// Start more goroutines so the starting thread is not the only one.
	select {}
}

func TestLastErrorLine(t *testing.T) {
	got := lastErrorLine([]string{"<W>2026-12-04 06:00:00.123 Server listening", "<F>2026-12-04 06:00:00.200 Failed to open database", ""})
	if got != "Failed to open database" {
		t.Errorf("got %q", got)
	}
	if got := lastErrorLine(nil); got != "(no output)" {
		t.Errorf("got %q", got)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNoServer), ErrNoServer) {
		t.Fatal("wrap")
	}
}
