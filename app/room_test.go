package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/tor"
)

func TestCheckListenAddress(t *testing.T) {
	for _, ok := range []string{"127.0.0.1", "127.0.0.2"} { // Linux: all of 127/8
		if err := CheckListenAddress(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for addr, want := range map[string]string{
		"gateway.example": "not an IP address",
		"10.0.0.1:64738":  "not an IP address",
		"0.0.0.0":         "every network",
		"::":              "every network",
		"192.0.2.1":       "not an address of this machine", // TEST-NET-1
	} {
		err := CheckListenAddress(addr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", addr, err, want)
		}
	}
}

func TestOpenRoomBadListenSavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "room")
	if _, err := OpenRoom(dir, false, RoomConfig{Listen: "192.0.2.1"}); err == nil {
		t.Fatal("a room with a foreign listen address opened")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the rejected room left %s: %v", dir, err)
	}
	r, err := OpenRoom(dir, false, RoomConfig{Listen: "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenRoom(dir, false, r.Config())
	if err != nil || r2.Config().Listen != "127.0.0.2" {
		t.Fatalf("reopened: %+v, %v", r2, err)
	}
}

func TestGatewaySetupLines(t *testing.T) {
	g := &GatewaySetup{Mode: tor.ModeSOCKS, Dir: DefaultGatewayDir, Addr: "10.137.0.12:41234"}
	want := []string{"HiddenServiceDir /var/lib/tor/tumble-room/", "HiddenServicePort 64738 10.137.0.12:41234"}
	if got := g.Torrc(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Torrc %q, want %q", got, want)
	}
	text := g.Lines()
	for _, s := range append(want, "/var/lib/tor/tumble-room/hostname", `EXTERNAL_OPEN_PORTS+=" 41234 "`) {
		if !strings.Contains(text, s) {
			t.Errorf("Lines lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "<") {
		t.Errorf("Lines has a placeholder:\n%s", text)
	}
	local := (&GatewaySetup{Mode: tor.ModeSOCKS, Dir: "/g/", Addr: "127.0.0.1:5000"}).Lines()
	if !strings.Contains(local, "HiddenServicePort 64738 127.0.0.1:5000") || !strings.Contains(local, "only a Tor on this machine") {
		t.Errorf("loopback Lines:\n%s", local)
	}
}
