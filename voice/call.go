package voice

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/dsp"
	"github.com/tumble-voip/tumble/voice/vad"
	"github.com/tumble-voip/tumble/voice/wav"
)

// Devices selects the sound devices a Call uses.
type Devices int

// Device choices.
const (
	// SystemDevices uses the system's sound devices (the default):
	// CallConfig.CaptureDevice and PlaybackDevice, or the defaults.
	SystemDevices Devices = iota
	// NullDevices uses stand-in devices driven by a timer: silence is
	// captured and the playback is discarded. Everything else runs as
	// with real devices (tests, machines without sound).
	NullDevices
	// FileDevices captures from CallConfig.InputFile and plays into
	// CallConfig.OutputFile (WAV, 48 kHz mono 16-bit), in real time.
	FileDevices
	// NoDevices opens no device: received voice is decoded for the
	// talking events but not played, and nothing is sent.
	NoDevices
)

// String returns the choice's name.
func (d Devices) String() string {
	switch d {
	case SystemDevices:
		return "devices"
	case NullDevices:
		return "null"
	case FileDevices:
		return "file"
	case NoDevices:
		return "none"
	}
	return fmt.Sprintf("Devices(%d)", int(d))
}

// Validate reports an unknown choice.
func (d Devices) Validate() error {
	if d < SystemDevices || d > NoDevices {
		return fmt.Errorf("voice: unknown sound devices %d", int(d))
	}
	return nil
}

// Describe says in a sentence how sound will be handled, before a Call
// opens the devices; inFile and outFile are the FileDevices' files.
func (d Devices) Describe(inFile, outFile string) string {
	switch d {
	case NullDevices:
		return "Null sound devices: silence is sent, voice is not played."
	case FileDevices:
		return fmt.Sprintf("Sound from the file %q, played into %q.", inFile, outFile)
	case NoDevices:
		return "No sound devices: voice is received but not played, and nothing is sent."
	}
	return "System sound devices."
}

// CallConfig sets up a Call.
type CallConfig struct {
	// Devices selects the sound devices.
	Devices Devices
	// CaptureDevice and PlaybackDevice name the system devices that
	// SystemDevices opens (device.Info.Name, as device.List gives
	// them); "" is the system's default.
	CaptureDevice, PlaybackDevice string
	// InputFile is the WAV file FileDevices captures from (then silence);
	// "" captures silence. OutputFile is the WAV file it plays into; ""
	// discards the playback.
	InputFile, OutputFile string
	// Platform, if set, adapts SystemDevices to the platform (Android);
	// the other choices ignore it.
	Platform Platform

	// Send configures the send path, before the platform's plan.
	Send SendConfig
	// MaxBitrate caps the Opus bit rate (the server's budget); 0 is no
	// cap.
	MaxBitrate int
	// JitterBuffer and OutputDelay configure the Receiver (see
	// ReceiverConfig; zero selects the defaults).
	JitterBuffer, OutputDelay time.Duration
	// Volume is the master output volume, linear from 0 (silent) to
	// mix.MaxGain.
	Volume float64
	// OnPacket receives every packet to send (required unless
	// Loopback). It runs on the capture device's goroutine and must not
	// block; Packet.Opus is only valid during the call.
	OnPacket func(Packet)
	// Loopback plays what would be sent back to the playback device
	// instead of sending it: each packet goes, as encoded, through the
	// Receiver (Opus decode, jitter buffer, mix) as the speaker
	// LoopbackSpeaker, so the user hears what others would hear (the
	// microphone test). OnPacket is not called.
	Loopback bool
	// OnLevel, if set, receives after every 10 ms capture frame its
	// voice activity level (0-1, Mumble's scale: amplitude 1 + dBFS/96)
	// and whether the gate lets voice out. It runs on the capture
	// device's goroutine and must not block.
	OnLevel func(level float64, transmit bool)
	// Logf, if set, receives diagnostic messages.
	Logf func(format string, args ...any)
}

// A Call is the sound of one voice connection: received packets in
// (HandlePacket), sound out through the playback device, the microphone
// in through the Sender, packets out (CallConfig.OnPacket), and news out
// (Events). It owns the Receiver, the Engine and its Sender, the devices,
// the self-mute, deafen and push-to-talk gate, the bit rate cap and the
// platform's plan.
//
// When no sound can run (the devices or the codec cannot be had, for
// example in a build without cgo) a Call still tells who is talking from
// the packets alone: a speaker talks from a packet until a terminator or
// a gap of TalkGap; Description says why there is no sound.
//
// Its methods are safe for concurrent use.
type Call struct {
	cfg    CallConfig
	desc   string
	events *eventQueue

	// Exactly one of rx (with eng) and talk is set.
	rx   *Receiver
	eng  *Engine
	talk *packetTalk
	fwd  sync.WaitGroup // forwards the Receiver's events
	deaf atomic.Bool

	loopSeq uint64 // next sequence number of the loopback (capture goroutine)

	// idleClock is the playback-only null device, paused while the
	// Receiver is idle and woken by HandlePacket; nil otherwise. Set
	// before the Call is shared.
	idleClock *device.Null

	mu     sync.Mutex
	send   SendConfig // as configured, before the plan
	plan   Plan       // the platform's answer for send
	muted  bool       // self-muted: nothing leaves
	ptt    bool       // the push-to-talk key is held
	noSend bool       // no capture device: nothing leaves
	active bool       // Platform.AudioActive(true) was called

	// Opened devices and files; the Engine closes the devices it
	// started, closeAudio the rest.
	mctx    *device.Context
	opened  []device.Device
	outFile *wav.Writer
	inFile  *os.File

	once     sync.Once
	closeErr error
}

// NewCall builds the call's sound path and starts its devices. If the
// system's sound devices cannot be opened it plays into a timer-driven
// null device (voice is decoded for the talking events but not heard, and
// nothing is sent); if no sound can run at all it tells who is talking
// from the packets. Description says which. It fails only on a bad
// configuration. Close frees the Call.
func NewCall(cfg CallConfig) (*Call, error) {
	if err := cfg.Devices.Validate(); err != nil {
		return nil, err
	}
	if cfg.OnPacket == nil && !cfg.Loopback {
		return nil, errors.New("voice: call without a packet callback")
	}
	if cfg.Devices != SystemDevices {
		cfg.Platform = nil
	}
	c := &Call{cfg: cfg, events: newEventQueue(), send: cfg.Send}
	desc, err := c.open()
	if err != nil {
		c.closeAudio()
		c.rx, c.eng = nil, nil
		c.talk = newPacketTalk(c.events)
		desc = fmt.Sprintf("No sound: %v. Voice is received but not played.", err)
		if errors.Is(err, codec.ErrNoCgo) || errors.Is(err, dsp.ErrNoCgo) || errors.Is(err, device.ErrNoCgo) {
			desc = fmt.Sprintf("This build has no sound (%v): voice is neither played nor sent.", err)
		}
	}
	c.desc = desc
	return c, nil
}

// open builds the Receiver and the Engine and opens the devices.
func (c *Call) open() (string, error) {
	rx, err := NewReceiver(ReceiverConfig{JitterBuffer: c.cfg.JitterBuffer, OutputDelay: c.cfg.OutputDelay})
	if err != nil {
		return "", err
	}
	c.rx = rx
	if err := rx.SetOutputVolume(c.cfg.Volume); err != nil {
		return "", err
	}
	c.fwd.Add(1)
	go c.forward()
	eng, err := NewEngine(EngineConfig{
		Send:      c.planned(c.send),
		Mix:       c.mix,
		OnPacket:  c.packet,
		OnTalking: c.events.transmit,
	})
	if err != nil {
		return "", err
	}
	c.eng = eng
	if err := eng.Sender().SetMaxBitrate(c.cfg.MaxBitrate); err != nil {
		return "", err
	}
	return c.openDevices()
}

// Description says in a sentence how the Call handles sound: the devices
// in use, the platform's processing, or why there is no sound.
func (c *Call) Description() string { return c.desc }

// Events returns the channel of the Call's news, closed by Close. Events
// are never dropped: while nobody reads, talk changes are coalesced per
// speaker (a change that undoes an undelivered one cancels it), so the
// reader always ends up with every speaker's current state. Events still
// pending at Close are dropped.
func (c *Call) Events() <-chan CallEvent { return c.events.out }

// planned returns cfg with the stages the platform runs itself turned
// off, and keeps the platform's plan. Without a platform it returns cfg.
// c.mu must be held, or c not yet shared.
func (c *Call) planned(cfg SendConfig) SendConfig {
	if c.cfg.Platform == nil {
		return cfg
	}
	c.plan = c.cfg.Platform.PlanAudio(Stages(cfg))
	return c.plan.Apply(cfg)
}

// openDevices opens and starts the configured devices.
func (c *Call) openDevices() (string, error) {
	var cfg device.Config
	switch c.cfg.Devices {
	case NoDevices:
		return NoDevices.Describe("", ""), c.startPlaybackOnly(cfg)
	case NullDevices:
		d, err := device.NewNull(cfg, c.capture, c.eng.Playback)
		if err != nil {
			return "", err
		}
		return NullDevices.Describe("", ""), c.eng.Start(d)
	case FileDevices:
		return c.openFiles(cfg)
	}
	desc, err := c.openSystem(cfg)
	if err == nil {
		return desc, nil
	}
	// No usable sound device: keep receiving (talking events) and say why
	// nothing is heard.
	c.closeOpened()
	if nerr := c.startPlaybackOnly(cfg); nerr != nil {
		return "", errors.Join(err, nerr)
	}
	return fmt.Sprintf("No sound device could be opened (%v): voice is received but not played, and nothing is sent.", err), nil
}

// startPlaybackOnly runs the mix on a null playback device and never
// sends.
func (c *Call) startPlaybackOnly(cfg device.Config) error {
	c.mu.Lock()
	c.noSend = true
	c.mu.Unlock()
	d, err := device.NewNull(cfg, nil, c.eng.Playback)
	if err != nil {
		return err
	}
	// Nothing is captured: while nothing plays, the clock stops (no
	// wake-up every 10 ms in a silent call) until a packet arrives.
	d.SetPause(c.rx.Idle, c.skip)
	c.idleClock = d
	return c.eng.Start(d)
}

// skip accounts for the periods a paused playback clock did not mix.
func (c *Call) skip(frames int64, now time.Time) {
	if err := c.rx.Skip(now, frames*device.FrameSamples); err != nil && c.cfg.Logf != nil {
		c.cfg.Logf("voice: playback clock: %v", err)
	}
}

// openSystem opens the system's sound devices.
func (c *Call) openSystem(cfg device.Config) (string, error) {
	mctx, err := device.NewContext()
	if err != nil {
		return "", err
	}
	c.mctx = mctx
	playID, playName, err := findDevice(mctx, device.PlaybackKind, c.cfg.PlaybackDevice)
	if err != nil {
		return "", err
	}
	playCfg := cfg
	playCfg.Android = c.plan.Playback
	playCfg.OnStop = c.deviceStopped("output", playID, playName)
	pd, err := mctx.OpenPlayback(playID, playCfg, c.eng.Playback)
	if err != nil {
		return "", fmt.Errorf("open playback device %s: %w", playName, err)
	}
	c.opened = append(c.opened, pd)
	// Playback first, so the echo reference is there when capture begins.
	if err := c.eng.Start(pd); err != nil {
		return "", err
	}
	c.opened = nil // the Engine closes it now
	var desc string
	if capName, err := c.openCapture(mctx, cfg); err != nil {
		// Listening needs no microphone (one refused on Android, one
		// unplugged): play, and send nothing.
		c.mu.Lock()
		c.noSend = true
		c.mu.Unlock()
		desc = fmt.Sprintf("Sound: no microphone (%v): nothing is sent; %s out.", err, playName)
	} else {
		desc = fmt.Sprintf("Sound: %s in, %s out.", capName, playName)
	}
	if p := c.cfg.Platform; p != nil {
		c.active = true
		if err := p.AudioActive(true); err != nil {
			desc += fmt.Sprintf(" (%v)", err)
		}
		if c.plan.Description != "" {
			desc += " Processing: " + c.plan.Description + "."
		}
	}
	return desc, nil
}

// openCapture opens and starts the configured capture device and returns
// the name to show.
func (c *Call) openCapture(mctx *device.Context, cfg device.Config) (string, error) {
	capID, capName, err := findDevice(mctx, device.CaptureKind, c.cfg.CaptureDevice)
	if err != nil {
		return "", err
	}
	cfg.Android = c.plan.Capture
	cfg.OnStop = c.deviceStopped("input", capID, capName)
	cd, err := mctx.OpenCapture(capID, cfg, c.capture)
	if err != nil {
		return "", fmt.Errorf("open capture device %s: %w", capName, err)
	}
	if err := c.eng.Start(cd); err != nil { // the Engine closes it
		return "", err
	}
	return capName, nil
}

// findDevice returns the ID of the device of kind named name ("" for the
// system default) and a name to show.
func findDevice(mctx *device.Context, kind device.Kind, name string) (id, shown string, err error) {
	if name == "" {
		return "", "the default device", nil
	}
	infos, err := mctx.Devices(kind)
	if err != nil {
		return "", "", err
	}
	for _, in := range infos {
		if in.Name == name {
			return in.ID, strconv.Quote(in.Name), nil
		}
	}
	return "", "", fmt.Errorf("no sound device named %q", name)
}

// deviceStopped returns the OnStop of a system device: the device went
// away (unplugged) or stopped delivering sound.
func (c *Call) deviceStopped(what, id, shown string) func(error) {
	dev := "the default " + what + " device"
	if id != "" {
		dev = "the " + what + " device " + shown
	}
	return func(err error) {
		if c.cfg.Logf != nil {
			c.cfg.Logf("voice: %s stopped: %v", dev, err)
		}
		c.events.deviceStopped(dev, err)
	}
}

// openFiles opens the WAV file devices: capture from the input file (then
// silence), playback into the output file, in real time.
func (c *Call) openFiles(cfg device.Config) (string, error) {
	fc := device.FileConfig{Config: cfg, Realtime: true}
	in, out := c.cfg.InputFile, c.cfg.OutputFile
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return "", fmt.Errorf("audio input file: %w", err)
		}
		c.inFile = f
		r, err := wav.NewReader(f)
		if err != nil {
			return "", fmt.Errorf("audio input file %s: %w", in, err)
		}
		fc.In = r
		// Keep running, capturing silence, once the file ends.
		fc.SilenceAfter = 365 * 24 * time.Hour
	}
	if out != "" {
		w, err := wav.Create(out)
		if err != nil {
			return "", fmt.Errorf("audio output file: %w", err)
		}
		c.outFile = w
		fc.Out = w
	}
	d, err := device.NewFile(fc, c.capture, c.eng.Playback)
	if err != nil {
		return "", err
	}
	desc := "Sound from silence"
	if in != "" {
		desc = fmt.Sprintf("Sound from the file %q", in)
	}
	if out != "" {
		desc += fmt.Sprintf(", played into the file %q.", out)
	} else {
		desc += ", playback discarded."
	}
	return desc, c.eng.Start(d)
}

// mix is the Engine's playback source: the Receiver's mix, or silence
// while deafened (the mix still runs so that the jitter buffers keep
// time).
func (c *Call) mix(out []int16) {
	if err := c.rx.Mix(out); err != nil || c.deaf.Load() {
		clear(out)
	}
}

// LoopbackSpeaker is the speaker a loopback Call (CallConfig.Loopback)
// plays its own voice as, in its talk events.
const LoopbackSpeaker = ^uint32(0)

// capture is the capture device's callback: the Engine's, then the level
// for OnLevel.
func (c *Call) capture(frame []int16) {
	c.eng.Capture(frame)
	if c.cfg.OnLevel != nil {
		st := c.eng.Sender().Stats()
		c.cfg.OnLevel(st.Level, st.Talking)
	}
}

// packet passes an encoded packet on. While self-muted only the
// terminator of the transmission that was cut short leaves. A loopback
// call hands it to its own Receiver.
func (c *Call) packet(p Packet) {
	c.mu.Lock()
	drop := c.noSend || (c.muted && !p.Terminator)
	c.mu.Unlock()
	if drop {
		return
	}
	if c.cfg.Loopback {
		seq := c.loopSeq
		c.loopSeq += uint64(p.Frames10ms)
		if err := c.rx.HandlePacket(LoopbackSpeaker, seq, p.Opus, p.Terminator, time.Now()); err != nil && c.cfg.Logf != nil {
			c.cfg.Logf("voice: loopback: %v", err)
		}
		return
	}
	c.cfg.OnPacket(p)
}

// forward passes the Receiver's talk events on.
func (c *Call) forward() {
	defer c.fwd.Done()
	for ev := range c.rx.Events() {
		c.events.talk(ev.Speaker, ev.Talking)
	}
}

// HandlePacket takes one Opus voice packet of speaker, as it arrived at
// arrival (see Receiver.HandlePacket). Malformed packets are refused with
// an error.
func (c *Call) HandlePacket(speaker uint32, seq uint64, opus []byte, terminator bool, arrival time.Time) error {
	if c.talk != nil {
		c.talk.packet(speaker, terminator, arrival)
		return nil
	}
	err := c.rx.HandlePacket(speaker, seq, opus, terminator, arrival)
	if c.idleClock != nil {
		c.idleClock.Wake()
	}
	return err
}

// SetUserVolume sets a speaker's local volume, linear from 0 to
// mix.MaxGain (1 unchanged).
func (c *Call) SetUserVolume(speaker uint32, volume float64) error {
	if c.rx == nil {
		return nil
	}
	return c.rx.SetVolume(speaker, volume)
}

// SetUserMute mutes or unmutes a speaker locally.
func (c *Call) SetUserMute(speaker uint32, muted bool) {
	if c.rx != nil {
		c.rx.SetMute(speaker, muted)
	}
}

// RemoveUser forgets a speaker who left; no TalkStop follows.
func (c *Call) RemoveUser(speaker uint32) {
	if c.rx != nil {
		c.rx.Remove(speaker)
	} else {
		c.talk.remove(speaker)
	}
	c.events.forget(speaker)
}

// PushToTalk presses or releases the push-to-talk key. It transmits in
// every transmission mode unless self-muted.
func (c *Call) PushToTalk(pressed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ptt = pressed
	if c.eng != nil && !c.muted {
		c.eng.Sender().SetPushToTalk(pressed)
	}
}

// SetSelfMute stops (true) or allows sending. Muting closes the
// transmission gate: the Sender runs as push-to-talk with the key up, so
// a transmission in progress ends with its terminator at the next frame.
func (c *Call) SetSelfMute(muted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.muted == muted {
		return
	}
	c.muted = muted
	if err := c.applyLocked(); err != nil && c.cfg.Logf != nil {
		c.cfg.Logf("voice: self-mute %v: %v", muted, err)
	}
}

// SetSelfDeaf stops (true) or allows playing.
func (c *Call) SetSelfDeaf(deaf bool) { c.deaf.Store(deaf) }

// SetMaxBitrate caps the Opus bit rate (the server's budget); 0 removes
// the cap.
func (c *Call) SetMaxBitrate(limit int) error {
	if c.eng == nil {
		return nil
	}
	return c.eng.Sender().SetMaxBitrate(limit)
}

// SendStats returns the Sender's counters; zero without sound.
func (c *Call) SendStats() SendStats {
	if c.eng == nil {
		return SendStats{}
	}
	return c.eng.Sender().Stats()
}

// SetSettings applies changed settings: the send path's configuration
// (planned again with the platform) and the master output volume (linear,
// 0 to mix.MaxGain).
func (c *Call) SetSettings(send SendConfig, volume float64) error {
	if c.rx == nil {
		return nil
	}
	verr := c.rx.SetOutputVolume(volume)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.send = send
	return errors.Join(verr, c.applyLocked())
}

// applyLocked gives the Sender the planned configuration, or the closed
// gate while muted. c.mu must be held.
func (c *Call) applyLocked() error {
	if c.eng == nil {
		return nil
	}
	s := c.eng.Sender()
	cfg := c.planned(c.send)
	if c.muted {
		cfg.Transmit, cfg.PTTHold = vad.PushToTalk, 0
		s.SetPushToTalk(false)
	}
	err := s.SetConfig(cfg)
	if !c.muted {
		s.SetPushToTalk(c.ptt)
	}
	return err
}

// closeOpened closes devices opened but not handed to the Engine, and the
// sound context.
func (c *Call) closeOpened() error {
	var errs []error
	for _, d := range c.opened {
		errs = append(errs, d.Close())
	}
	c.opened = nil
	if c.mctx != nil {
		errs = append(errs, c.mctx.Close())
		c.mctx = nil
	}
	return errors.Join(errs...)
}

// closeAudio stops the devices and frees the sound path.
func (c *Call) closeAudio() error {
	var errs []error
	if c.eng != nil {
		errs = append(errs, c.eng.Close())
	}
	errs = append(errs, c.closeOpened())
	if c.active {
		c.active = false
		errs = append(errs, c.cfg.Platform.AudioActive(false))
	}
	if c.outFile != nil {
		errs = append(errs, c.outFile.Close())
		c.outFile = nil
	}
	if c.inFile != nil {
		errs = append(errs, c.inFile.Close())
		c.inFile = nil
	}
	if c.rx != nil {
		if err := c.rx.Close(); err != nil && !errors.Is(err, ErrReceiverClosed) {
			errs = append(errs, err)
		}
	}
	c.fwd.Wait()
	return errors.Join(errs...)
}

// Close stops the devices, frees everything, waits for every goroutine
// the Call started and closes Events. Later calls return the first
// call's result.
func (c *Call) Close() error {
	c.once.Do(func() {
		err := c.closeAudio()
		if c.talk != nil {
			c.talk.close()
		}
		c.events.close()
		c.closeErr = err
	})
	return c.closeErr
}
