package voice

import (
	"errors"
	"fmt"
	"sync"

	"github.com/tumble-voip/tumble/voice/device"
)

// EngineConfig sets up an Engine.
type EngineConfig struct {
	// Send configures the send path.
	Send SendConfig
	// Mix fills out with the next 10 ms of the playback mix (the
	// Receiver's Mix). If nil, the Engine plays silence.
	Mix func(out []int16)
	// OnPacket receives every encoded packet (see Sender). It runs on
	// the capture device's goroutine and must not block.
	OnPacket func(Packet)
	// OnTalking, if set, receives our own talking state changes.
	OnTalking func(talking bool)
	// OnError, if set, receives errors from the audio callbacks, which
	// cannot return them.
	OnError func(error)
}

// Engine wires a capture device, a Sender and a playback device: capture
// frames go through the Sender, the playback device plays the mix, and
// the same mix is the echo canceller's reference. Open the devices with
// the Engine's Capture and Playback methods as callbacks, then Start.
type Engine struct {
	cfg    EngineConfig
	sender *Sender

	mu      sync.Mutex
	devices []device.Device
	closed  bool
}

// NewEngine returns an Engine; Close frees it.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.OnPacket == nil {
		return nil, errors.New("voice: engine without a packet callback")
	}
	s, err := NewSender(cfg.Send, cfg.OnPacket, cfg.OnTalking)
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, sender: s}, nil
}

// Sender returns the Engine's send path, for settings, push-to-talk, the
// bitrate cap and statistics.
func (e *Engine) Sender() *Sender { return e.sender }

// Capture is the capture device's callback.
func (e *Engine) Capture(frame []int16) {
	if err := e.sender.Process(frame); err != nil && e.cfg.OnError != nil {
		e.cfg.OnError(err)
	}
}

// Playback is the playback device's callback: it pulls the mix and hands
// it to the echo canceller as the reference.
func (e *Engine) Playback(out []int16) {
	if e.cfg.Mix != nil {
		e.cfg.Mix(out)
	} else {
		clear(out)
	}
	e.sender.Reference(out)
}

// Start starts the devices, which Close will close. Start playback first
// so that the echo reference is there when capture begins.
func (e *Engine) Start(devices ...device.Device) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("voice: engine closed")
	}
	for _, d := range devices {
		e.devices = append(e.devices, d)
		if err := d.Start(); err != nil {
			return fmt.Errorf("voice: start device: %w", err)
		}
	}
	return nil
}

// Close closes the devices and then the Sender.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	devs := e.devices
	e.mu.Unlock()
	var errs []error
	for _, d := range devs {
		errs = append(errs, d.Close())
	}
	errs = append(errs, e.sender.Close())
	return errors.Join(errs...)
}
