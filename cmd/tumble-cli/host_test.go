//go:build libtor

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	qrreader "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmur"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/tor/tornet"
)

// hostProc is a running tumble-cli whose JSON events are read as they come.
type hostProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan map[string]any
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// startHostProc starts tumble-cli --json with args (after an optional
// subcommand in args[0]).
func startHostProc(ctx context.Context, t testing.TB, args ...string) *hostProc {
	t.Helper()
	if len(args) > 0 && args[0] == "host" {
		args = append([]string{"host", "--json"}, args[1:]...)
	} else {
		args = append([]string{"--json"}, args...)
	}
	l := &hostProc{events: make(chan map[string]any, 100), done: make(chan struct{})}
	l.cmd = exec.CommandContext(ctx, cliPath, args...)
	l.cmd.Env = append(os.Environ(), "TUMBLE_PASSWORD=")
	l.cmd.Stderr = &l.stderr
	out, err := l.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				l.events <- ev
			}
		}
		close(l.events)
		l.err = l.cmd.Wait()
	}()
	t.Cleanup(func() {
		l.cmd.Process.Kill()
		for range l.events {
		}
		<-l.done
	})
	return l
}

// wait returns the next event of kind, failing the test if the process
// ends first.
func (l *hostProc) wait(t testing.TB, kind string) map[string]any {
	t.Helper()
	for ev := range l.events {
		if ev["event"] == kind {
			return ev
		}
		if ev["event"] == "error" || ev["event"] == "disconnected" {
			t.Logf("event %v", ev)
		}
	}
	<-l.done
	t.Fatalf("tumble-cli ended (%v) before a %s event:\n%s", l.err, kind, l.stderr.String())
	return nil
}

// finish waits for the process to end and returns its remaining events.
func (l *hostProc) finish() []map[string]any {
	var evs []map[string]any
	for ev := range l.events {
		evs = append(evs, ev)
	}
	<-l.done
	return evs
}

// stop asks the host to stop its room and waits until it has ended
// cleanly.
func (l *hostProc) stop(t testing.TB) {
	t.Helper()
	fmt.Fprintln(l.stdin, "stop")
	l.finish()
	if l.err != nil {
		t.Fatalf("host: %v\n%s", l.err, l.stderr.String())
	}
}

// running reports whether pid is a live (not zombie) process.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestHostRoom(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	roomDir, inviteDir, qr := filepath.Join(dir, "room"), filepath.Join(dir, "invites"), filepath.Join(dir, "qr.png")
	os.Mkdir(inviteDir, 0o700)
	hostArgs := []string{"host", "--tor", "embedded", "--torrc", w.torrc, "--tor-data-dir", filepath.Join(dir, "tor"),
		"--room-dir", roomDir, "--client-auth", "--guest", "alice,bob", "--invite-dir", inviteDir, "--qr", qr,
		"--name", "Test room", "--welcome", "Welcome!"}
	host := startHostProc(ctx, t, hostArgs...)
	ready := host.wait(t, "room-ready")
	host.wait(t, "invite")
	host.wait(t, "invite")
	onion := ready["onion"].(string)
	t.Logf("room %s ready in %.1f s", onion, ready["seconds"])

	// The ini has the privacy defaults; the server keeps no log.
	data, err := os.ReadFile(filepath.Join(roomDir, "server", murmur.ININame))
	if err != nil {
		t.Fatal(err)
	}
	ini := murmur.ParseINI(data)
	for k, v := range map[string]string{"autobanAttempts": "0", "logfile": "", "logdays": "-1", "allowping": "false",
		"sendversion": "false", "bonjour": "false", "registerPassword": "", "opusthreshold": "0", "allowhtml": "false",
		"host": "127.0.0.1", "welcometext": "Welcome!", "registerName": "Test room"} {
		if ini[k] != v {
			t.Errorf("ini %s = %q, want %q", k, ini[k], v)
		}
	}
	if len(ini["serverpassword"]) < 20 {
		t.Errorf("server password %q is not a strong generated one", ini["serverpassword"])
	}

	// The QR code holds alice's invitation.
	aliceLink, _ := os.ReadFile(filepath.Join(inviteDir, "alice.link"))
	f, err := os.Open(qr)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrreader.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != strings.TrimSpace(string(aliceLink)) {
		t.Fatalf("QR code: %v, %v; want %s", res, err, aliceLink)
	}

	// Bob joins first and listens; alice sends a tone and a text; bob
	// answers with a text once alice is there.
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone, 440, 3*time.Second)
	rec := filepath.Join(dir, "rec")
	guest := []string{"--tor", "embedded", "--torrc", w.torrc, "--amnesic"}
	bob := startHostProc(ctx, t, append(guest, "--link-file", filepath.Join(inviteDir, "bob.link"), "--record-dir", rec, "--for", "70s",
		"--wait-for-user", "alice", "--say", "hello from bob")...)
	bob.wait(t, "connected")
	alice := startHostProc(ctx, t, append(guest, "--link-file", filepath.Join(inviteDir, "alice.link"), "--send-wav", tone, "--say", "hello from alice", "--record-dir", filepath.Join(dir, "rec-alice"), "--for", "20s")...)
	aliceEvents := alice.finish()
	if alice.err != nil {
		t.Fatalf("alice: %v\n%s", alice.err, alice.stderr.String())
	}
	aliceGot := false
	for _, ev := range aliceEvents {
		aliceGot = aliceGot || (ev["event"] == "text" && ev["from"] == "bob" && ev["message"] == "hello from bob")
	}
	if !aliceGot {
		t.Errorf("alice did not get bob's text; her events: %v", aliceEvents)
	}
	gotText := false
	for !gotText {
		ev := bob.wait(t, "text")
		gotText = ev["message"] == "hello from alice" && ev["from"] == "alice"
	}

	// A guest without a key cannot even reach the server.
	eve := startHostProc(ctx, t, append(guest, "--server", onion+":64738", "--user", "eve")...)
	eve.finish()
	if eve.err == nil || !strings.Contains(eve.stderr.String(), "client authorization required") {
		t.Errorf("eve without a key: %v\n%s", eve.err, eve.stderr.String())
	}

	// Revoke alice: bob stays connected, alice cannot come back.
	fmt.Fprintln(host.stdin, "revoke alice")
	host.wait(t, "revoked")
	alice2 := startHostProc(ctx, t, append(guest, "--link-file", filepath.Join(inviteDir, "alice.link"))...)
	alice2.finish()
	if alice2.err == nil || !strings.Contains(alice2.stderr.String(), "client authorization") {
		t.Errorf("alice after revocation: %v\n%s", alice2.err, alice2.stderr.String())
	}
	t.Logf("alice after revocation: %s", strings.TrimSpace(alice2.stderr.String()))
	bobEvents := bob.finish()
	if bob.err != nil {
		t.Fatalf("bob: %v\n%s", bob.err, bob.stderr.String())
	}
	for _, ev := range bobEvents {
		if ev["event"] == "disconnected" && ev["reason"] != "client closed" { // the end of --for
			t.Errorf("bob was disconnected: %v", ev)
		}
	}
	alicePCM := readWAV(t, filepath.Join(rec, "alice.wav"))
	voiced, freq := toneStats(alicePCM)
	if math.Abs(freq-440) > 5 || voiced < 3*time.Second*90/100 {
		t.Errorf("bob recorded %v at %.1f Hz from alice, want ~3 s at 440 Hz", voiced, freq)
	}

	// A permanent channel, created by the SuperUser (on loopback: the
	// host's own view), is in the database the restarted room uses.
	createChannelAsSuperUser(ctx, t, roomDir, ready["server"].(string), ready["fingerprint"].(string), "Kept")

	// Stop the host: no server remains; restart: same address and
	// certificate, and the channel is still there for a guest.
	pid := int(ready["server_pid"].(float64))
	host.stop(t)
	if running(pid) {
		t.Errorf("murmurd %d still runs after the host stopped", pid)
	}
	host2 := startHostProc(ctx, t, hostArgs...)
	ready2 := host2.wait(t, "room-ready")
	if ready2["onion"] != onion || ready2["fingerprint"] != ready["fingerprint"] {
		t.Errorf("restart: %v %v, want %v %v", ready2["onion"], ready2["fingerprint"], onion, ready["fingerprint"])
	}
	bob2 := startHostProc(ctx, t, append(guest, "--link-file", filepath.Join(inviteDir, "bob.link"), "--channel", "Test room/Kept")...)
	bob2.finish()
	if bob2.err != nil {
		t.Errorf("bob joining the channel Kept after the restart: %v\n%s", bob2.err, bob2.stderr.String())
	}
	// kill -9 of the host leaves no murmurd.
	pid2 := int(ready2["server_pid"].(float64))
	host2.cmd.Process.Signal(syscall.SIGKILL)
	host2.finish()
	waitGone(t, pid2)
}

// createChannelAsSuperUser logs in to the room's server at addr (on
// loopback) as SuperUser with the password in roomDir/room.json and creates
// the permanent channel name under the root.
func createChannelAsSuperUser(ctx context.Context, t *testing.T, roomDir, addr, fingerprint, name string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(roomDir, "room.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		SuperUserPassword string `json:"superuser_password"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.SuperUserPassword == "" {
		t.Fatalf("room.json: %v", err)
	}
	fp, err := mumble.ParseFingerprint(fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mumble.Dial(ctx, addr, &mumble.Config{Username: "SuperUser", Password: st.SuperUserPassword,
		DialContext: murmurtest.LoopbackDial, PinnedFingerprint: fp})
	if err != nil {
		t.Fatalf("SuperUser login: %v", err)
	}
	defer c.Close()
	ch, err := c.CreateChannel(ctx, 0, name, false)
	if err != nil {
		t.Fatalf("create channel %s: %v", name, err)
	}
	if ch.Temporary {
		t.Fatalf("channel %s is temporary", name)
	}
}

// waitGone waits until pid has exited (the kernel kills it through the
// parent-death signal), failing after 10 s.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("murmurd %d still runs after its Tumble was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostAmnesic(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	host := startHostProc(ctx, t, "host", "--tor", "embedded", "--torrc", w.torrc, "--amnesic", "--guest", "carol")
	ready := host.wait(t, "room-ready")
	inv := host.wait(t, "invite")
	if !strings.Contains(inv["link"].(string), ready["onion"].(string)) {
		t.Errorf("invite %v for %v", inv, ready["onion"])
	}
	roomDir := ready["dir"].(string)
	if _, err := os.Stat(roomDir); err != nil {
		t.Fatal(err)
	}
	host.stop(t)
	if _, err := os.Stat(roomDir); !os.IsNotExist(err) {
		t.Errorf("amnesic room directory %s remains: %v", roomDir, err)
	}
	if running(int(ready["server_pid"].(float64))) {
		t.Error("murmurd still runs")
	}
}

// TestHostGateway is the Whonix variant: Tumble in socks mode cannot
// publish an onion service, so the room's server listens on --listen
// (127.0.0.2, a loopback alias, stands in for the Workstation's address)
// and a separate Tor of the private network, the "Gateway", is given
// exactly the torrc lines Tumble printed; a guest then joins through the
// onion service the Gateway publishes.
func TestHostGateway(t *testing.T) {
	w := setupTorWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("gateway-room-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gwDir := filepath.Join(dir, "gateway")
	if err := os.Mkdir(gwDir, 0o700); err != nil {
		t.Fatal(err)
	}
	hsDir := filepath.Join(gwDir, "tumble-room") + "/"
	hostArgs := []string{"host", "--tor", "socks=" + w.net.SOCKSAddr(), "--listen", "127.0.0.2", "--room-dir", filepath.Join(dir, "room"),
		"--password-file", pwFile, "--gateway-dir", hsDir, "--name", "Gateway room"}
	host := startHostProc(ctx, t, hostArgs...)
	gw := host.wait(t, "room-gateway")
	server := gw["server"].(string)
	if !strings.HasPrefix(server, "127.0.0.2:") {
		t.Fatalf("server on %s, want 127.0.0.2", server)
	}
	torrc := gw["torrc"].(string)
	if want := "HiddenServiceDir " + hsDir + "\nHiddenServicePort 64738 " + server; torrc != want {
		t.Errorf("gateway lines:\n%s\nwant:\n%s", torrc, want)
	}
	// murmurd listens on 127.0.0.2, not on 127.0.0.1.
	data, err := os.ReadFile(filepath.Join(gw["dir"].(string), "server", murmur.ININame))
	if err != nil {
		t.Fatal(err)
	}
	if h := murmur.ParseINI(data)["host"]; h != "127.0.0.2" {
		t.Errorf("ini host=%s", h)
	}
	c, err := net.Dial("tcp", server)
	if err != nil {
		t.Fatalf("nothing listens on %s: %v", server, err)
	}
	c.Close()
	_, port, _ := net.SplitHostPort(server)
	if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
		c.Close()
		t.Errorf("the server also listens on 127.0.0.1:%s", port)
	}

	// The Gateway: a tor of the private network with the printed lines.
	logFile := filepath.Join(gwDir, "info.log")
	lines := append(w.net.ClientTorrc(), "DataDirectory "+filepath.Join(gwDir, "data"), "SocksPort 0",
		"Log info file "+logFile, fmt.Sprintf("__OwningControllerProcess %d", os.Getpid()), torrc)
	torrcFile := filepath.Join(dir, "gateway.torrc")
	if err := os.WriteFile(torrcFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gwTor := exec.CommandContext(ctx, tornet.DefaultTor, "-f", torrcFile)
	var gwOut strings.Builder
	gwTor.Stdout, gwTor.Stderr = &gwOut, &gwOut
	if err := gwTor.Start(); err != nil {
		t.Fatal(err)
	}
	gwDone := make(chan struct{})
	go func() { gwTor.Wait(); close(gwDone) }()
	t.Cleanup(func() { gwTor.Process.Kill(); <-gwDone })
	// Wait until the Gateway has uploaded the descriptor (a guest asking
	// earlier would not ask the same directories again for 15 minutes).
	for {
		log, _ := os.ReadFile(logFile)
		if strings.Contains(string(log), "Uploading hidden service descriptor: finished with status 200") {
			break
		}
		select {
		case <-gwDone:
			t.Fatalf("the gateway tor exited:\n%s\n%s", gwOut.String(), log)
		case <-ctx.Done():
			t.Fatalf("the gateway never uploaded its descriptor:\n%s", lastLines(string(log), 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
	hostname, err := os.ReadFile(filepath.Join(hsDir, "hostname"))
	if err != nil {
		t.Fatal(err)
	}
	onion := strings.TrimSpace(string(hostname))

	guest := startHostProc(ctx, t, append(w.embedded(), "--server", onion+":64738", "--user", "gus",
		"--password-file", pwFile, "--say", "hello through the gateway")...)
	conn := guest.wait(t, "connected")
	guest.finish()
	if guest.err != nil {
		t.Fatalf("guest: %v\n%s", guest.err, guest.stderr.String())
	}
	t.Logf("guest joined %s through the gateway: %v", onion, conn)

	pid := int(gw["server_pid"].(float64))
	host.stop(t)
	// Read once the process has ended: its standard error is complete then
	// (and no longer written while read).
	if !strings.Contains(host.stderr.String(), torrc) {
		t.Errorf("the printed text lacks the torrc lines:\n%s", host.stderr.String())
	}
	if running(pid) {
		t.Errorf("murmurd %d still runs after the host stopped", pid)
	}
	// Restarted, the room keeps the port the gateway was given.
	host2 := startHostProc(ctx, t, hostArgs...)
	gw2 := host2.wait(t, "room-gateway")
	if gw2["torrc"] != torrc {
		t.Errorf("after a restart the gateway lines are\n%s\nnot\n%s", gw2["torrc"], torrc)
	}
	host2.stop(t)
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
