//go:build cgo

package device

/*
#include <stdlib.h>
#include <string.h>
*/
import "C"

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// malgoBackend maps b to miniaudio's enumeration. malgo v0.11.24's
// BackendNull constant is off by one (it is ma_backend_custom); miniaudio's
// null backend is 14.
func (b Backend) malgo() (malgo.Backend, error) {
	switch b {
	case BackendPulseAudio:
		return malgo.BackendPulseaudio, nil
	case BackendALSA:
		return malgo.BackendAlsa, nil
	case BackendJACK:
		return malgo.BackendJack, nil
	case BackendAAudio:
		return malgo.BackendAaudio, nil
	case BackendOpenSL:
		return malgo.BackendOpensl, nil
	case BackendNull:
		return malgo.Backend(14), nil
	}
	return 0, fmt.Errorf("device: unknown backend %d", int(b))
}

// Context is a miniaudio context: the entry to real sound devices. Close
// closes the devices opened through it and frees it.
type Context struct {
	mu      sync.Mutex
	ctx     *malgo.AllocatedContext
	devices map[*hwDevice]struct{}
}

// NewContext initialises miniaudio with the given backends, tried in
// order (BackendAuto or none: miniaudio's default order).
func NewContext(backends ...Backend) (*Context, error) {
	var list []malgo.Backend
	for _, b := range backends {
		if b == BackendAuto {
			list = nil
			break
		}
		mb, err := b.malgo()
		if err != nil {
			return nil, err
		}
		list = append(list, mb)
	}
	ctx, err := malgo.InitContext(list, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("device: init audio context: %w", err)
	}
	return &Context{ctx: ctx, devices: map[*hwDevice]struct{}{}}, nil
}

// Devices lists the devices of a kind.
func (c *Context) Devices(kind Kind) ([]Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil, errors.New("device: context closed")
	}
	mk := malgo.Capture
	if kind == PlaybackKind {
		mk = malgo.Playback
	}
	infos, err := c.ctx.Devices(mk)
	if err != nil {
		return nil, fmt.Errorf("device: list devices: %w", err)
	}
	out := make([]Info, 0, len(infos))
	for _, in := range infos {
		out = append(out, Info{ID: in.ID.String(), Name: in.Name(), Default: in.IsDefault != 0})
	}
	return out, nil
}

// OpenCapture opens the capture device with the given ID ("" for the
// default) at 48 kHz mono 16-bit; fn receives 10 ms frames once started.
func (c *Context) OpenCapture(id string, cfg Config, fn CaptureFunc) (Device, error) {
	if fn == nil {
		return nil, errors.New("device: capture without a callback")
	}
	return c.open(CaptureKind, id, cfg, fn, nil)
}

// OpenPlayback opens the playback device with the given ID ("" for the
// default) at 48 kHz mono 16-bit; fn supplies 10 ms frames once started.
func (c *Context) OpenPlayback(id string, cfg Config, fn PlaybackFunc) (Device, error) {
	if fn == nil {
		return nil, errors.New("device: playback without a callback")
	}
	return c.open(PlaybackKind, id, cfg, nil, fn)
}

func (c *Context) open(kind Kind, id string, cfg Config, capture CaptureFunc, play PlaybackFunc) (Device, error) {
	periods, err := cfg.periodFrames()
	if err != nil {
		return nil, err
	}
	var idPtr unsafe.Pointer
	shown := "default " + kindName(kind) + " device"
	if id != "" {
		// Look the ID up so that a stale or mistyped one gets a clear
		// error instead of miniaudio's.
		list, err := c.Devices(kind)
		if err != nil {
			return nil, err
		}
		found := false
		for _, in := range list {
			if in.ID == id {
				found, shown = true, fmt.Sprintf("%s device %q", kindName(kind), in.Name)
			}
		}
		raw, herr := hex.DecodeString(id)
		var mid malgo.DeviceID
		if !found || herr != nil || len(raw) > len(mid) {
			return nil, fmt.Errorf("device: no %s device with ID %q", kindName(kind), id)
		}
		idPtr = C.calloc(1, C.size_t(len(mid)))
		C.memcpy(idPtr, unsafe.Pointer(&raw[0]), C.size_t(len(raw)))
	}
	freeID := func() {
		if idPtr != nil {
			C.free(idPtr)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		freeID()
		return nil, errors.New("device: context closed")
	}
	d := &hwDevice{ctx: c, kind: kind, cfg: cfg, capture: capture, play: play, idPtr: idPtr,
		name: shown, quit: make(chan struct{})}
	d.frame = make([]int16, FrameSamples)
	dc := malgo.DefaultDeviceConfig(malgo.Capture)
	if kind == PlaybackKind {
		dc = malgo.DefaultDeviceConfig(malgo.Playback)
	}
	dc.SampleRate = SampleRate
	dc.PeriodSizeInFrames = uint32(periods * FrameSamples)
	dc.Periods = 2
	dc.PerformanceProfile = malgo.LowLatency
	sub := malgo.SubConfig{DeviceID: idPtr, Format: malgo.FormatS16, Channels: 1}
	if kind == CaptureKind {
		dc.Capture = sub
		dc.AAudio.InputPreset = aaudioPresets[cfg.Android.InputPreset]
	} else {
		dc.Playback = sub
		if cfg.Android.VoiceCall {
			dc.AAudio.Usage = malgo.AAudioUsageVoiceCommunication
			dc.AAudio.ContentType = malgo.AAudioContentTypeSpeech
			dc.AAudio.AllowedCapturePolicy = malgo.AAudioAllowCapturePolicyByNone
		}
	}
	dev, err := malgo.InitDevice(c.ctx.Context, dc, malgo.DeviceCallbacks{Data: d.data, Stop: d.stopped})
	if err != nil {
		freeID()
		return nil, fmt.Errorf("device: open %s: %w", d.name, err)
	}
	d.dev = dev
	c.devices[d] = struct{}{}
	return d, nil
}

// aaudioPresets maps our presets to miniaudio's (checked by
// periodFrames).
var aaudioPresets = [...]malgo.AAudioInputPreset{
	PresetDefault:            malgo.AAudioInputPresetDefault,
	PresetGeneric:            malgo.AAudioInputPresetGeneric,
	PresetCamcorder:          malgo.AAudioInputPresetCamcorder,
	PresetVoiceRecognition:   malgo.AAudioInputPresetVoiceRecognition,
	PresetVoiceCommunication: malgo.AAudioInputPresetVoiceCommunication,
	PresetUnprocessed:        malgo.AAudioInputPresetUnprocessed,
	PresetVoicePerformance:   malgo.AAudioInputPresetVoicePerformance,
}

func kindName(k Kind) string {
	if k == PlaybackKind {
		return "playback"
	}
	return "capture"
}

// Close closes every device opened through c, then uninitialises and
// frees the context (in that order: the reverse crashes miniaudio).
func (c *Context) Close() error {
	c.mu.Lock()
	if c.ctx == nil {
		c.mu.Unlock()
		return nil
	}
	devs := make([]*hwDevice, 0, len(c.devices))
	for d := range c.devices {
		devs = append(devs, d)
	}
	c.mu.Unlock()
	for _, d := range devs {
		d.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return nil
	}
	err := c.ctx.Uninit()
	c.ctx.Free()
	c.ctx = nil
	if err != nil {
		return fmt.Errorf("device: uninit audio context: %w", err)
	}
	return nil
}

// hwDevice is a miniaudio device.
type hwDevice struct {
	ctx     *Context
	kind    Kind
	cfg     Config
	name    string
	capture CaptureFunc
	play    PlaybackFunc
	idPtr   unsafe.Pointer

	mu      sync.Mutex // guards dev, closed; serialises Start and Close
	dev     *malgo.Device
	closed  bool
	closing atomic.Bool   // set before our own Stop/Uninit: not an event
	stopSig atomic.Bool   // OnStop reported once
	last    atomic.Int64  // time of the last callback, Unix nanoseconds
	quit    chan struct{} // closed by Close: ends the watchdog
	started bool          // under mu

	// Audio-thread state.
	frame   []int16 // 10 ms being assembled (capture) or played (playback)
	fill    int     // capture: samples in frame; playback: samples used
	pending bool    // playback: frame holds unplayed samples from fill on
}

// Start starts the device.
func (d *hwDevice) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return fmt.Errorf("device: %s closed", d.name)
	}
	if d.started {
		return nil
	}
	d.last.Store(time.Now().UnixNano())
	if err := d.dev.Start(); err != nil {
		return fmt.Errorf("device: start %s: %w", d.name, err)
	}
	d.started = true
	go d.watch()
	return nil
}

// StallTimeout is how long a started device may go without an audio
// callback before it is reported as stopped. Some backends never say
// that a device went away: miniaudio's PulseAudio backend goes quiet when
// the server kills the stream of an unplugged device. It is longer than
// the 2 s an idle PulseAudio null sink can take to follow a new stream.
const StallTimeout = 3 * time.Second

// watch reports a device whose callbacks stopped as stopped.
func (d *hwDevice) watch() {
	t := time.NewTicker(StallTimeout / 10)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case now := <-t.C:
			idle := now.Sub(time.Unix(0, d.last.Load()))
			if idle >= StallTimeout {
				d.report(fmt.Errorf("device: %s: no audio for %v: %w", d.name, idle.Round(100*time.Millisecond), ErrStopped))
				return
			}
		}
	}
}

// data is miniaudio's callback on the audio thread.
func (d *hwDevice) data(out, in []byte, frames uint32) {
	d.last.Store(time.Now().UnixNano())
	if d.kind == CaptureKind {
		for i := 0; i+1 < len(in); i += 2 {
			d.frame[d.fill] = int16(uint16(in[i]) | uint16(in[i+1])<<8)
			d.fill++
			if d.fill == FrameSamples {
				d.capture(d.frame)
				d.fill = 0
			}
		}
		return
	}
	for i := 0; i+1 < len(out); i += 2 {
		if !d.pending {
			d.play(d.frame)
			d.fill, d.pending = 0, true
		}
		s := uint16(d.frame[d.fill])
		out[i], out[i+1] = byte(s), byte(s>>8)
		d.fill++
		if d.fill == FrameSamples {
			d.pending = false
		}
	}
}

// stopped is miniaudio's stop callback.
func (d *hwDevice) stopped() {
	d.report(fmt.Errorf("device: %s: %w", d.name, ErrStopped))
}

// report passes err to OnStop, once, unless the device is being closed.
func (d *hwDevice) report(err error) {
	if d.closing.Load() || !d.stopSig.CompareAndSwap(false, true) {
		return
	}
	if d.cfg.OnStop != nil {
		go d.cfg.OnStop(err)
	}
}

// Close stops and frees the device.
func (d *hwDevice) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.closing.Store(true)
	close(d.quit)
	// Stop before Uninit: Stop wakes the backend's loop, Uninit alone
	// does not, and a PulseAudio stream killed by an unplug never wakes
	// it again (miniaudio 0.11 then waits for its thread forever). On a
	// device that stopped by itself Stop fails harmlessly.
	if d.started {
		_ = d.dev.Stop()
	}
	d.dev.Uninit()
	if d.idPtr != nil {
		C.free(d.idPtr)
		d.idPtr = nil
	}
	d.ctx.mu.Lock()
	delete(d.ctx.devices, d)
	d.ctx.mu.Unlock()
	return nil
}
