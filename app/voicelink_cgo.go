//go:build cgo

package app

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/vad"
	"github.com/tumble-voip/tumble/voice/wav"
)

// voiceAudio is the audio link of a cgo build. Received packets go into a
// voice.Receiver whose mix the playback device plays; a voice.Engine runs
// the capture device through the Sender (echo cancellation against that
// mix, noise suppression, gain, transmission gate, Opus) and its packets go
// to the server.
type voiceAudio struct {
	rx     *voice.Receiver
	eng    *voice.Engine
	send   func(mumble.OutgoingVoice)
	talkCh chan talkChange
	fwd    sync.WaitGroup // forwards the receiver's events
	deaf   atomic.Bool

	mu     sync.Mutex
	cfg    voice.SendConfig // from the settings
	muted  bool             // self-muted: nothing leaves
	ptt    bool             // the push-to-talk key is held
	noSend bool             // no capture device: the Sender is never fed
	ended  bool             // closed: talkCh takes nothing more

	// platform adapts the system devices (Android); plan is its answer
	// for the current settings. Both nil/zero on desktops and with the
	// stand-in devices.
	platform AudioPlatform
	plan     AudioPlan
	logf     func(format string, args ...any) // ControllerConfig.Logf
	active   bool                             // platform.AudioActive(true) was called

	// Opened devices and files; the Engine closes the devices it
	// started, closeAll the rest.
	mctx    *device.Context
	opened  []device.Device
	outFile *wav.Writer
	inFile  *os.File
	once    sync.Once
}

// openAudio builds the voice pipeline for a connection and starts the
// devices. If the system's sound devices cannot be opened it falls back to
// a timer-driven null playback (voice is then decoded for the talking
// indicators but not heard, and nothing is sent) and says so in the
// description.
func openAudio(p audioParams) (audioLink, string, error) {
	out := p.settings.Output
	rx, err := voice.NewReceiver(voice.ReceiverConfig{
		JitterBuffer: msDuration(out.JitterBufferMs),
		OutputDelay:  msDuration(out.OutputDelayMs),
	})
	if err != nil {
		return nil, "", err
	}
	if err := rx.SetOutputVolume(outputVolume(out)); err != nil {
		rx.Close()
		return nil, "", err
	}
	a := &voiceAudio{
		rx:     rx,
		send:   p.send,
		talkCh: make(chan talkChange, 256),
	}
	a.logf = p.cfg.Logf
	if p.cfg.AudioBackend == AudioDevices {
		a.platform = p.cfg.AudioPlatform
	}
	a.cfg = a.planned(sendConfig(p.settings.Input))
	a.eng, err = voice.NewEngine(voice.EngineConfig{
		Send:      a.cfg,
		Mix:       a.mix,
		OnPacket:  a.packet,
		OnTalking: a.selfTalk,
	})
	if err != nil {
		rx.Close()
		return nil, "", err
	}
	if err := a.eng.Sender().SetMaxBitrate(p.bitrateCap); err != nil {
		a.eng.Close()
		rx.Close()
		return nil, "", err
	}
	a.fwd.Add(1)
	go a.forward()

	desc, err := a.openDevices(p)
	if err != nil {
		a.close()
		return nil, "", err
	}
	return a, desc, nil
}

// sendConfig converts the Audio Input settings for the Sender.
func sendConfig(in AudioInput) voice.SendConfig {
	cfg := voice.SendConfig{
		Bitrate:            in.QualityBitrate,
		FrameMs:            in.PacketMs,
		Complexity:         10,
		Transmit:           vad.VoiceActivity,
		VADMeasure:         vad.Amplitude,
		SilenceBelow:       float64(in.SilenceBelowPercent) / 100,
		SpeechAbove:        float64(in.SpeechAbovePercent) / 100,
		Hold:               msDuration(in.VoiceHoldMs),
		PTTHold:            msDuration(in.PTTHoldMs),
		NoiseSuppressionDB: in.NoiseSuppressionDB,
		// The Sender's gain control stops at Mumble's slider maximum.
		MaxAmplification: min(in.MaxAmplification, 20),
		EchoCancel:       voice.EchoOff,
	}
	switch in.Transmit {
	case TransmitContinuous:
		cfg.Transmit = vad.Continuous
	case TransmitPushToTalk:
		cfg.Transmit = vad.PushToTalk
	}
	if in.VADSource == VADSignalToNoise {
		cfg.VADMeasure = vad.SignalToNoise
	}
	if in.EchoCancellation == EchoMixed {
		cfg.EchoCancel = voice.EchoMixed
	}
	return cfg
}

// planned returns cfg with the stages the platform runs itself turned
// off, and keeps the platform's plan. Without a platform it returns cfg.
func (a *voiceAudio) planned(cfg voice.SendConfig) voice.SendConfig {
	if a.platform == nil {
		return cfg
	}
	want := AudioEffects{
		EchoCancel:    cfg.EchoCancel != voice.EchoOff,
		NoiseSuppress: cfg.NoiseSuppressionDB != 0,
		GainControl:   cfg.MaxAmplification > 0,
	}
	a.plan = a.platform.PlanAudio(want)
	if !a.plan.Tumble.EchoCancel {
		cfg.EchoCancel = voice.EchoOff
	}
	if !a.plan.Tumble.NoiseSuppress {
		cfg.NoiseSuppressionDB = 0
	}
	if !a.plan.Tumble.GainControl {
		cfg.MaxAmplification = 0
	}
	return cfg
}

// deviceStopped returns the OnStop of a real device: the device went
// away (unplugged) or stopped delivering sound. The session shows it.
func (a *voiceAudio) deviceStopped(what, id, shown string) func(error) {
	dev := "the default " + what + " device"
	if id != "" {
		dev = "the " + what + " device " + shown
	}
	return func(err error) {
		if a.logf != nil {
			a.logf("sound: %v", err)
		}
		a.notice(fmt.Sprintf("Sound stopped: %s went away or stopped working. Plug it back in and reconnect, or choose another device in Settings.", dev))
	}
}

// notice passes a message about the sound devices to the session.
func (a *voiceAudio) notice(msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return
	}
	select {
	case a.talkCh <- talkChange{notice: msg}:
	default:
	}
}

// msDuration converts milliseconds.
func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// outputVolume is the receiver's master volume for the settings.
func outputVolume(o AudioOutput) float64 { return float64(o.VolumePercent) / 100 }

// openDevices opens and starts the devices of the configured backend.
func (a *voiceAudio) openDevices(p audioParams) (string, error) {
	cfg := device.Config{}
	switch p.cfg.AudioBackend {
	case AudioNone:
		return "No sound devices: voice is received but not played, and nothing is sent.", a.startPlaybackOnly(cfg)
	case AudioNull:
		d, err := device.NewNull(cfg, a.eng.Capture, a.eng.Playback)
		if err != nil {
			return "", err
		}
		return "Null sound devices: silence is sent, voice is not played.", a.eng.Start(d)
	case AudioFile:
		return a.openFiles(p, cfg)
	}
	desc, err := a.openReal(p, cfg)
	if err == nil {
		return desc, nil
	}
	// No usable sound device: keep receiving (talking indicators) and say
	// why nothing is heard.
	a.closeOpened()
	if nerr := a.startPlaybackOnly(cfg); nerr != nil {
		return "", errors.Join(err, nerr)
	}
	return fmt.Sprintf("No sound device could be opened (%v): voice is received but not played, and nothing is sent.", err), nil
}

// startPlaybackOnly runs the mix on a null playback device and never
// feeds the Sender.
func (a *voiceAudio) startPlaybackOnly(cfg device.Config) error {
	a.mu.Lock()
	a.noSend = true
	a.mu.Unlock()
	d, err := device.NewNull(cfg, nil, a.eng.Playback)
	if err != nil {
		return err
	}
	return a.eng.Start(d)
}

// openReal opens the system's sound devices named in the settings.
func (a *voiceAudio) openReal(p audioParams, cfg device.Config) (string, error) {
	mctx, err := device.NewContext()
	if err != nil {
		return "", err
	}
	a.mctx = mctx
	playID, playName, err := findDevice(mctx, device.PlaybackKind, p.settings.Output.Device)
	if err != nil {
		return "", err
	}
	playCfg := cfg
	playCfg.Android = a.plan.Playback
	playCfg.OnStop = a.deviceStopped("output", playID, playName)
	pd, err := mctx.OpenPlayback(playID, playCfg, a.eng.Playback)
	if err != nil {
		return "", fmt.Errorf("open playback device %s: %w", playName, err)
	}
	a.opened = append(a.opened, pd)
	// Playback first, so the echo reference is there when capture begins.
	if err := a.eng.Start(pd); err != nil {
		return "", err
	}
	a.opened = nil // the Engine closes it now
	desc := ""
	if capName, err := a.openCapture(mctx, cfg, p.settings.Input.Device); err != nil {
		// Listening needs no microphone (one refused on Android, one
		// unplugged): play, and send nothing.
		a.mu.Lock()
		a.noSend = true
		a.mu.Unlock()
		desc = fmt.Sprintf("Sound: no microphone (%v): nothing is sent; %s out.", err, playName)
	} else {
		desc = fmt.Sprintf("Sound: %s in, %s out.", capName, playName)
	}
	if a.platform != nil {
		a.active = true
		if err := a.platform.AudioActive(true); err != nil {
			desc += fmt.Sprintf(" (%v)", err)
		}
		if a.plan.Description != "" {
			desc += " Processing: " + a.plan.Description + "."
		}
	}
	return desc, nil
}

// openCapture opens and starts the capture device named in the settings
// and returns the name to show.
func (a *voiceAudio) openCapture(mctx *device.Context, cfg device.Config, name string) (string, error) {
	capID, capName, err := findDevice(mctx, device.CaptureKind, name)
	if err != nil {
		return "", err
	}
	cfg.Android = a.plan.Capture
	cfg.OnStop = a.deviceStopped("input", capID, capName)
	cd, err := mctx.OpenCapture(capID, cfg, a.eng.Capture)
	if err != nil {
		return "", fmt.Errorf("open capture device %s: %w", capName, err)
	}
	if err := a.eng.Start(cd); err != nil { // the Engine closes it
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

// openFiles opens the WAV file device: capture from the input file (then
// silence), playback into the output file, in real time.
func (a *voiceAudio) openFiles(p audioParams, cfg device.Config) (string, error) {
	fc := device.FileConfig{Config: cfg, Realtime: true}
	in, out := p.cfg.AudioInputFile, p.cfg.AudioOutputFile
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			return "", fmt.Errorf("audio input file: %w", err)
		}
		a.inFile = f
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
		a.outFile = w
		fc.Out = w
	}
	d, err := device.NewFile(fc, a.eng.Capture, a.eng.Playback)
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
	return desc, a.eng.Start(d)
}

// mix is the Engine's playback source: the receiver's mix, or silence
// while deafened (the mix still runs so that the jitter buffers keep
// time).
func (a *voiceAudio) mix(out []int16) {
	if err := a.rx.Mix(out); err != nil || a.deaf.Load() {
		clear(out)
	}
}

// packet passes an encoded packet to the connection. While self-muted
// only the terminator of the transmission that was cut short leaves.
func (a *voiceAudio) packet(p voice.Packet) {
	a.mu.Lock()
	drop := a.noSend || (a.muted && !p.Terminator)
	a.mu.Unlock()
	if drop {
		return
	}
	a.send(mumble.OutgoingVoice{Opus: p.Opus, Frames: p.Frames10ms, Target: mumble.TargetNormal, Last: p.Terminator})
}

// forward turns the receiver's talk events into talk changes.
func (a *voiceAudio) forward() {
	defer a.fwd.Done()
	for ev := range a.rx.Events() {
		select {
		case a.talkCh <- talkChange{session: ev.Speaker, talking: ev.Talking}:
		default: // the session is far behind; it catches up on the next event
		}
	}
}

// selfTalk reports this client's transmission state (capture goroutine).
func (a *voiceAudio) selfTalk(on bool) {
	select {
	case a.talkCh <- talkChange{self: true, talking: on}:
	default:
	}
}

func (a *voiceAudio) handlePacket(p *mumble.VoicePacket, at time.Time) {
	_ = a.rx.HandlePacket(p.Session, p.Sequence, p.Opus, p.Terminator, at)
}

func (a *voiceAudio) talk() <-chan talkChange { return a.talkCh }

func (a *voiceAudio) setUserVolume(session uint32, v float64) { _ = a.rx.SetVolume(session, v) }

func (a *voiceAudio) setUserMute(session uint32, muted bool) { a.rx.SetMute(session, muted) }

func (a *voiceAudio) removeUser(session uint32) { a.rx.Remove(session) }

func (a *voiceAudio) pushToTalk(pressed bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ptt = pressed
	if !a.muted {
		a.eng.Sender().SetPushToTalk(pressed)
	}
}

// setSelfMute closes the transmission gate for good while muted: the
// Sender runs as push-to-talk with the key up, so a transmission in
// progress ends with its terminator at the next frame.
func (a *voiceAudio) setSelfMute(muted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.muted == muted {
		return
	}
	a.muted = muted
	a.applyLocked()
}

// applyLocked gives the Sender the settings' configuration, or the closed
// gate while muted. a.mu must be held.
func (a *voiceAudio) applyLocked() {
	s := a.eng.Sender()
	cfg := a.cfg
	if a.muted {
		cfg.Transmit, cfg.PTTHold = vad.PushToTalk, 0
		s.SetPushToTalk(false)
	}
	_ = s.SetConfig(cfg)
	if !a.muted {
		s.SetPushToTalk(a.ptt)
	}
}

func (a *voiceAudio) setSelfDeaf(deaf bool) { a.deaf.Store(deaf) }

func (a *voiceAudio) setBitrateCap(limit int) { _ = a.eng.Sender().SetMaxBitrate(limit) }

func (a *voiceAudio) applySettings(s Settings) {
	_ = a.rx.SetOutputVolume(outputVolume(s.Output))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = a.planned(sendConfig(s.Input))
	a.applyLocked()
}

// closeOpened closes devices opened but not handed to the Engine, and the
// sound context.
func (a *voiceAudio) closeOpened() error {
	var errs []error
	for _, d := range a.opened {
		errs = append(errs, d.Close())
	}
	a.opened = nil
	if a.mctx != nil {
		errs = append(errs, a.mctx.Close())
		a.mctx = nil
	}
	return errors.Join(errs...)
}

func (a *voiceAudio) close() error {
	var err error
	a.once.Do(func() {
		errs := []error{a.eng.Close(), a.closeOpened()}
		if a.active {
			errs = append(errs, a.platform.AudioActive(false))
		}
		if a.outFile != nil {
			errs = append(errs, a.outFile.Close())
		}
		if a.inFile != nil {
			errs = append(errs, a.inFile.Close())
		}
		if cerr := a.rx.Close(); cerr != nil && !errors.Is(cerr, voice.ErrReceiverClosed) {
			errs = append(errs, cerr)
		}
		a.fwd.Wait()
		a.mu.Lock()
		a.ended = true
		close(a.talkCh)
		a.mu.Unlock()
		err = errors.Join(errs...)
	})
	return err
}

// listSoundDevices asks miniaudio for the system's devices.
func listSoundDevices() (SoundDevices, error) {
	mctx, err := device.NewContext()
	if err != nil {
		return SoundDevices{}, err
	}
	defer mctx.Close()
	var out SoundDevices
	if out.Capture, out.DefaultCapture, err = deviceNames(mctx, device.CaptureKind); err != nil {
		return SoundDevices{}, err
	}
	if out.Playback, out.DefaultPlayback, err = deviceNames(mctx, device.PlaybackKind); err != nil {
		return SoundDevices{}, err
	}
	return out, nil
}

// deviceNames returns the names of the devices of a kind and the
// default's.
func deviceNames(mctx *device.Context, kind device.Kind) (names []string, def string, err error) {
	infos, err := mctx.Devices(kind)
	if err != nil {
		return nil, "", err
	}
	for _, in := range infos {
		names = append(names, in.Name)
		if in.Default {
			def = in.Name
		}
	}
	return names, def, nil
}
