//go:build !cgo

package voice

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/device"
)

// TestCallWithoutCgo: in a build without cgo a Call has no sound, says so,
// and still tells who is talking from the packets; listing devices fails
// with device.ErrNoCgo.
func TestCallWithoutCgo(t *testing.T) {
	for _, d := range []Devices{SystemDevices, NullDevices, NoDevices} {
		c, err := NewCall(CallConfig{Devices: d, Send: DefaultSendConfig(), OnPacket: func(Packet) { t.Error("a packet was sent") }})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %s", d, c.Description())
		if !strings.Contains(c.Description(), "built without cgo") {
			t.Errorf("%v: description %q does not say that the build has no sound", d, c.Description())
		}
		c.HandlePacket(9, 0, []byte{0xff}, false, time.Now())
		waitEvent(t, c.Events(), TalkStart, 9)
		c.HandlePacket(9, 2, nil, true, time.Now())
		waitEvent(t, c.Events(), TalkStop, 9)
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := device.List(); !errors.Is(err, device.ErrNoCgo) {
		t.Errorf("device.List() error %v, want device.ErrNoCgo", err)
	}
}
