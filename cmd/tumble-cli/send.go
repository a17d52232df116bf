package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/e2e"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/device"
	"github.com/tumble-voip/tumble/voice/wav"
)

// sendWAV sends the --send-wav file through Tumble's real send path, the
// one the app runs on a microphone: a File device captures the file in
// real time, 10 ms frames on the wall clock as a sound card delivers them,
// and a voice.Engine's Sender preprocesses, gates and encodes them. Each
// packet leaves as soon as the Sender completes it, that is when its audio
// would have been captured, so packetisation costs what it would live. At
// the end of the file the transmission ends with a terminator.
func (s *session) sendWAV(ctx context.Context) error {
	o := s.opts
	c := s.client
	maxRate := c.MaxBitrate(o.framesPerPacket, false)
	if maxRate < mumble.MinOpusBitrate {
		return fmt.Errorf("the server's bandwidth limit of %d bit/s leaves no room for %d ms packets over TCP; send more audio per packet (--frames-per-packet)",
			c.ServerInfo().MaxBandwidth, 10*o.framesPerPacket)
	}
	if o.bitrate > maxRate {
		s.ev.emit("bitrate-lowered", field{"requested", o.bitrate}, field{"bitrate", maxRate},
			field{"max_bandwidth", c.ServerInfo().MaxBandwidth})
	}
	target, err := s.voiceTarget(ctx)
	if err != nil {
		return err
	}

	out := newVoiceOut(c, target, s.ev)
	if s.e2e != nil {
		out.link = s.e2e.link
	}
	eng, err := voice.NewEngine(voice.EngineConfig{
		Send:      o.sendConfig(),
		OnPacket:  out.packet,
		OnTalking: out.talking,
		OnError:   out.fail,
	})
	if err != nil {
		return fmt.Errorf("send path: %w", err)
	}
	defer eng.Close()
	sender := eng.Sender()
	// The server's bandwidth budget caps the bitrate, as it does in the app.
	if err := sender.SetMaxBitrate(maxRate); err != nil {
		return fmt.Errorf("send path: %w", err)
	}
	// A packet leaves when its last frame is captured, so a device period
	// of two frames (when packets hold two or more) sends every packet at
	// the same moment as a 10 ms period would, with half the wake-ups.
	period := 10 * time.Millisecond
	if o.framesPerPacket >= 2 {
		period = 20 * time.Millisecond
	}
	if o.inputDevice != "" {
		return s.sendDevice(ctx, eng, out)
	}
	dev, err := device.NewFile(device.FileConfig{Config: device.Config{Period: period}, In: s.wav, Realtime: true}, out.capture(eng.Capture), nil)
	if err != nil {
		return fmt.Errorf("file device: %w", err)
	}

	forwarded, stopForward := out.start(ctx)
	defer stopForward()
	// Frame k of the file (samples 480k to 480k+479) reaches the Sender
	// by the end of the device period holding it, (k+1) x 10 ms after
	// start for the packet's last frame, when a microphone would have
	// delivered it.
	start := time.Now()
	s.ev.emit("voice-send-start", field{"file", o.sendWAV}, field{"bitrate", sender.Stats().Bitrate},
		field{"frames_per_packet", o.framesPerPacket}, field{"transmit", o.transmitName},
		field{"start", start.UTC().Format(time.RFC3339Nano)})
	if err := eng.Start(dev); err != nil {
		return fmt.Errorf("file device: %w", err)
	}
	select {
	case <-ctx.Done():
		// Interrupted: stop without waiting for the rest of the file.
		return nil
	case <-out.failed:
		eng.Close()
		return out.err()
	case <-dev.Done():
	}
	if err := dev.Err(); !errors.Is(err, device.ErrEndOfInput) {
		if err == nil {
			err = device.ErrStopped
		}
		return fmt.Errorf("--send-wav %s: %w", o.sendWAV, err)
	}
	// The capture goroutine has stopped: end the transmission with the
	// last, partial packet (or a silent one) as the terminator.
	out.atMs = out.frames * 10
	if err := sender.EndTransmission(); err != nil {
		return fmt.Errorf("send path: %w", err)
	}
	close(out.items)
	<-forwarded
	if err := out.err(); err != nil {
		return err
	}
	if out.frames == 0 {
		return fmt.Errorf("--send-wav %s: no audio", o.sendWAV)
	}
	st := out.stats()
	s.ev.emit("voice-send-end", field{"packets", st.packets}, field{"duration_ms", st.frames10ms * 10},
		field{"transmissions", st.terminators}, field{"file_ms", out.frames * 10}, field{"dropped", st.dropped})
	return nil
}

// sendDevice sends what the --input-device captures through eng, opened
// as the app opens a microphone (device.Config's defaults), until ctx ends
// (--for) or the connection fails.
func (s *session) sendDevice(ctx context.Context, eng *voice.Engine, out *voiceOut) error {
	mctx, dev, err := openNamedDevice(device.CaptureKind, s.opts.inputDevice, out.capture(eng.Capture), nil)
	if err != nil {
		return fmt.Errorf("--input-device: %w", err)
	}
	defer mctx.Close()
	defer eng.Close() // the device first, then its context
	_, stopForward := out.start(ctx)
	defer stopForward()
	s.ev.emit("voice-send-start", field{"device", s.opts.inputDevice}, field{"bitrate", eng.Sender().Stats().Bitrate},
		field{"frames_per_packet", s.opts.framesPerPacket}, field{"transmit", s.opts.transmitName},
		field{"start", time.Now().UTC().Format(time.RFC3339Nano)})
	if err := eng.Start(dev); err != nil {
		dev.Close()
		return fmt.Errorf("--input-device: %w", err)
	}
	select {
	case <-ctx.Done():
		return nil
	case <-out.failed:
		return out.err()
	}
}

// openNamedDevice opens the system sound device of kind whose name or ID
// is name, with the configuration the app uses (device.Config's defaults).
// The caller closes the device, then the context.
func openNamedDevice(kind device.Kind, name string, capture device.CaptureFunc, play device.PlaybackFunc) (*device.Context, device.Device, error) {
	mctx, err := device.NewContext()
	if err != nil {
		return nil, nil, err
	}
	list, err := mctx.Devices(kind)
	if err != nil {
		mctx.Close()
		return nil, nil, err
	}
	id, found := "", false
	var names []string
	for _, in := range list {
		if in.Name == name || in.ID == name {
			id, found = in.ID, true
			break
		}
		names = append(names, strconv.Quote(in.Name))
	}
	if !found {
		mctx.Close()
		return nil, nil, fmt.Errorf("no sound device %q (have %s)", name, strings.Join(names, ", "))
	}
	var dev device.Device
	if kind == device.CaptureKind {
		dev, err = mctx.OpenCapture(id, device.Config{}, capture)
	} else {
		dev, err = mctx.OpenPlayback(id, device.Config{}, play)
	}
	if err != nil {
		mctx.Close()
		return nil, nil, err
	}
	return mctx, dev, nil
}

// voiceTarget returns the voice target for --send-wav: the channel, or a
// whisper target registered for the --whisper user.
func (s *session) voiceTarget(ctx context.Context) (uint32, error) {
	o := s.opts
	if o.whisper == "" {
		return mumble.TargetNormal, nil
	}
	u, ok := s.client.UserByName(o.whisper)
	if !ok {
		return 0, fmt.Errorf("--whisper: no user %q on the server", o.whisper)
	}
	const whisperTarget = 1
	if err := s.client.SetVoiceTarget(ctx, whisperTarget, mumble.VoiceTarget{Users: []uint32{u.Session}}); err != nil {
		return 0, fmt.Errorf("--whisper %s: %w", o.whisper, err)
	}
	return whisperTarget, nil
}

// voiceOutQueue is how many packets and talking changes may wait for the
// connection: 5 s of 10 ms packets.
const voiceOutQueue = 512

// voiceOut carries the Sender's packets and talking changes from the
// capture goroutine, which must not block, to the connection and the
// event printer, in order.
type voiceOut struct {
	c      *mumble.Client
	target uint32
	link   *e2e.Link // seals packets for the encrypted room; nil without --e2e
	ev     *eventWriter
	items  chan voiceItem
	failed chan struct{} // closed on the first error

	// Capture goroutine only (then the goroutine that ends the send):
	frames int // 10 ms frames captured
	atMs   int // file position of the frame being processed, in ms

	// bufs recycles the packets' copies, so a packet costs no
	// allocation (the Sender's buffer is reused after OnPacket).
	bufs sync.Pool

	mu      sync.Mutex
	first   error
	counted voiceOutStats
}

// voiceItem is one packet or one change of the talking state.
type voiceItem struct {
	opus    *[]byte // from voiceOut.bufs
	frames  int
	last    bool
	talking *bool
	fileMs  int
}

type voiceOutStats struct {
	packets, frames10ms, terminators, dropped int
}

func newVoiceOut(c *mumble.Client, target uint32, ev *eventWriter) *voiceOut {
	return &voiceOut{c: c, target: target, ev: ev, items: make(chan voiceItem, voiceOutQueue), failed: make(chan struct{})}
}

// capture wraps the Engine's capture callback to count the frames.
func (v *voiceOut) capture(next device.CaptureFunc) device.CaptureFunc {
	return func(frame []int16) {
		v.atMs = v.frames * 10
		v.frames++
		next(frame)
	}
}

// packet is the Engine's OnPacket callback.
func (v *voiceOut) packet(p voice.Packet) {
	b, _ := v.bufs.Get().(*[]byte)
	if b == nil {
		b = new([]byte)
	}
	*b = append((*b)[:0], p.Opus...)
	v.queue(voiceItem{opus: b, frames: p.Frames10ms, last: p.Terminator})
}

// talking is the Engine's OnTalking callback.
func (v *voiceOut) talking(on bool) {
	v.queue(voiceItem{talking: &on, fileMs: v.atMs})
}

func (v *voiceOut) queue(it voiceItem) {
	select {
	case v.items <- it:
	default:
		// The connection has not kept up for seconds: drop rather than
		// stall the audio clock.
		v.mu.Lock()
		v.counted.dropped++
		v.mu.Unlock()
	}
}

// fail records the first error and stops the send.
func (v *voiceOut) fail(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.first == nil {
		v.first = err
		close(v.failed)
	}
}

func (v *voiceOut) err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.first
}

func (v *voiceOut) stats() voiceOutStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counted
}

// start runs forward in a goroutine until items is closed (done is then
// closed) or stop is called, which also waits for it to return.
func (v *voiceOut) start(ctx context.Context) (done <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{})
	go func() {
		v.forward(ctx)
		close(ch)
	}()
	return ch, func() { cancel(); <-ch }
}

// forward sends the queued packets and prints the talking changes until
// items is closed or ctx ends.
func (v *voiceOut) forward(ctx context.Context) {
	for {
		var it voiceItem
		var ok bool
		select {
		case <-ctx.Done():
			return
		case it, ok = <-v.items:
			if !ok {
				return
			}
		}
		if it.talking != nil {
			v.ev.emit("voice-send-talking", field{"talking", *it.talking}, field{"file_ms", it.fileMs})
			continue
		}
		if v.err() != nil {
			v.bufs.Put(it.opus)
			continue // the connection failed: drain without sending
		}
		target, opus := v.target, *it.opus
		if v.link != nil {
			sealed, t, ok, err := v.link.SealVoice(nil, opus)
			if err != nil {
				v.bufs.Put(it.opus)
				v.fail(fmt.Errorf("seal voice: %w", err))
				continue
			}
			if !ok {
				v.bufs.Put(it.opus)
				continue // nobody in the encrypted room: never send plain voice
			}
			target, opus = t, sealed
		}
		err := v.c.SendVoice(ctx, mumble.OutgoingVoice{Target: target, Opus: opus, Frames: it.frames, Last: it.last})
		v.bufs.Put(it.opus)
		if err != nil {
			if ctx.Err() == nil {
				v.fail(fmt.Errorf("send voice: %w", err))
			}
			continue
		}
		v.mu.Lock()
		v.counted.packets++
		v.counted.frames10ms += it.frames
		if it.last {
			v.counted.terminators++
		}
		v.mu.Unlock()
	}
}

// openWAV opens and checks the --send-wav file before anything connects, so
// a wrong file is reported at once.
func openWAV(path string) (*os.File, *wav.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--send-wav: %w", err)
	}
	br := bufio.NewReader(f)
	r, err := wav.NewReader(br)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--send-wav %s: %w", path, err)
	}
	// A data chunk of unknown length (0 in the header) may still be empty.
	if _, err := br.Peek(1); r.Samples() == 0 || errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, fmt.Errorf("--send-wav %s: no audio", path)
	}
	return f, r, nil
}
