package voice

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// nextEvent returns the Call's next event, failing after 10 s.
func nextEvent(t *testing.T, events <-chan CallEvent) CallEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event channel closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return CallEvent{}
}

// waitEvent reads events until one of kind (and, for talk events, of
// session) arrives and returns it.
func waitEvent(t *testing.T, events <-chan CallEvent, kind CallEventKind, session uint32) CallEvent {
	t.Helper()
	for {
		ev := nextEvent(t, events)
		t.Logf("event %v session %d %s %v", ev.Kind, ev.Session, ev.Device, ev.Err)
		if ev.Kind == kind && (kind != TalkStart && kind != TalkStop || ev.Session == session) {
			return ev
		}
	}
}

// TestCallEventQueue: talk changes nobody has read yet coalesce per
// speaker and never get lost: the reader ends with every speaker's last
// state, a stop after a delivered start always arrives, and a start
// undone before delivery is not delivered at all.
func TestCallEventQueue(t *testing.T) {
	q := newEventQueue()
	q.talk(1, true)
	q.talk(1, false) // undone before delivery: nothing for 1
	q.talk(2, true)
	for i := range 10000 { // far more changes than any buffer
		q.talk(3, i%2 == 0)
	}
	q.talk(3, true)
	q.transmit(true)
	q.transmit(false)
	q.transmit(true)
	q.deviceStopped("the output device", errors.New("gone"))
	q.talk(4, false) // never started: nothing
	q.deviceStopped("end", nil)

	var got []CallEvent
	for ev := range q.out {
		if ev.Device == "end" {
			break
		}
		got = append(got, ev)
	}
	want := []CallEvent{
		{Kind: TalkStart, Session: 2},
		{Kind: TalkStart, Session: 3},
		{Kind: TransmitStart},
		{Kind: DeviceStopped, Device: "the output device"},
	}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Session != want[i].Session || got[i].Device != want[i].Device {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Delivered starts are followed by their stops.
	q.talk(2, false)
	q.transmit(false)
	if ev := nextEvent(t, q.out); ev.Kind != TalkStop || ev.Session != 2 {
		t.Errorf("after the stop of 2: %+v", ev)
	}
	if ev := nextEvent(t, q.out); ev.Kind != TransmitStop {
		t.Errorf("after the transmission stopped: %+v", ev)
	}
	// A speaker who left is forgotten, pending events included.
	q.talk(3, false)
	q.forget(3)
	q.talk(3, true)
	if ev := nextEvent(t, q.out); ev.Kind != TalkStart || ev.Session != 3 {
		t.Errorf("after 3 left and came back talking: %+v", ev)
	}
	q.talk(5, true) // pending at close: dropped
	q.close()
	for ev := range q.out {
		t.Errorf("event after close: %+v", ev)
	}
	q.talk(6, true) // after close: ignored, no panic
}

// TestCallTalkFromPackets: a Call without sound (here: its input file is
// missing) says why and tells who talks from the packets alone.
func TestCallTalkFromPackets(t *testing.T) {
	c, err := NewCall(CallConfig{
		Devices:   FileDevices,
		InputFile: filepath.Join(t.TempDir(), "missing.wav"),
		Send:      DefaultSendConfig(),
		OnPacket:  func(Packet) { t.Error("a packet was sent without sound") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("description: %s", c.Description())
	if !strings.HasPrefix(c.Description(), "No sound: ") && !strings.Contains(c.Description(), "built without cgo") {
		t.Errorf("description %q does not say why there is no sound", c.Description())
	}
	now := time.Now()
	// A terminator ends the talk.
	if err := c.HandlePacket(7, 0, []byte{0xff}, false, now); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c.Events(), TalkStart, 7)
	if err := c.HandlePacket(7, 2, nil, true, now); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, c.Events(), TalkStop, 7)
	// A gap ends the talk: the packet is older than TalkGap.
	c.HandlePacket(8, 0, []byte{0xff}, false, now.Add(-2*TalkGap))
	waitEvent(t, c.Events(), TalkStart, 8)
	waitEvent(t, c.Events(), TalkStop, 8)
	// The settings, volumes and the gate are accepted and do nothing.
	c.SetSelfMute(true)
	c.PushToTalk(true)
	c.SetSelfDeaf(true)
	c.SetUserMute(7, true)
	c.RemoveUser(7)
	if err := errors.Join(c.SetUserVolume(7, 0.5), c.SetMaxBitrate(20000), c.SetSettings(DefaultSendConfig(), 1)); err != nil {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, ok := <-c.Events(); ok {
		t.Error("Events not closed by Close")
	}
}

// TestNewCallConfig: a bad configuration is refused.
func TestNewCallConfig(t *testing.T) {
	if _, err := NewCall(CallConfig{Devices: NullDevices}); err == nil {
		t.Error("a call without OnPacket was accepted")
	}
	if _, err := NewCall(CallConfig{Devices: Devices(9), OnPacket: func(Packet) {}}); err == nil {
		t.Error("unknown devices were accepted")
	}
	for d, name := range map[Devices]string{SystemDevices: "devices", NullDevices: "null", FileDevices: "file", NoDevices: "none", 9: "Devices(9)"} {
		if d.String() != name {
			t.Errorf("%d.String() = %q, want %q", int(d), d.String(), name)
		}
	}
}

// testPlatform is a Platform that records what it is asked and leaves
// all processing to Tumble.
type testPlatform struct {
	mu     sync.Mutex
	want   Effects
	active []bool
}

func (p *testPlatform) PlanAudio(want Effects) Plan {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.want = want
	return Plan{Tumble: want, Description: "test platform"}
}

func (p *testPlatform) AudioActive(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = append(p.active, on)
	return nil
}

// phonePlatform does echo cancellation and noise suppression itself.
type phonePlatform struct{ testPlatform }

func (p *phonePlatform) PlanAudio(want Effects) Plan {
	p.testPlatform.PlanAudio(want)
	return Plan{Tumble: Effects{GainControl: want.GainControl}, Description: "phone: echo cancellation, noise suppression"}
}

// TestCallPlannedSendConfig checks that the stages a Platform runs are
// switched off in Tumble's send path and the others are kept.
func TestCallPlannedSendConfig(t *testing.T) {
	cfg := DefaultSendConfig()
	if Stages(cfg) != (Effects{EchoCancel: true, NoiseSuppress: true, GainControl: true}) {
		t.Fatalf("default send config %+v lacks a stage", cfg)
	}
	phone := &phonePlatform{}
	c := &Call{cfg: CallConfig{Platform: phone}}
	got := c.planned(cfg)
	if got.EchoCancel != EchoOff || got.NoiseSuppressionDB != 0 {
		t.Errorf("planned %+v: echo cancellation or noise suppression still on though the phone does them", got)
	}
	if got.MaxAmplification != cfg.MaxAmplification {
		t.Errorf("planned max amplification %v, want Tumble's gain control kept at %v", got.MaxAmplification, cfg.MaxAmplification)
	}
	if phone.want != Stages(cfg) {
		t.Errorf("the platform was asked for %+v, want %+v", phone.want, Stages(cfg))
	}
	if c.plan.Description == "" {
		t.Error("the plan was not kept")
	}
	// Without a platform nothing changes.
	if got := (&Call{}).planned(cfg); got != cfg {
		t.Errorf("planned without a platform changed %+v to %+v", cfg, got)
	}
}
