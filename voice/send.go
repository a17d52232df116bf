package voice

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/dsp"
	"github.com/tumble-voip/tumble/voice/vad"
)

// FrameSamples is the number of samples in one 10 ms frame at 48 kHz, the
// unit of capture, playback and Mumble's sequence numbers.
const FrameSamples = 480

// EchoMode selects echo cancellation.
type EchoMode int

const (
	// EchoOff disables echo cancellation.
	EchoOff EchoMode = iota
	// EchoMixed cancels the echo of our own playback mix (Mumble's
	// "mixed" echo cancellation).
	EchoMixed
)

// SendConfig holds the send path's settings. Every field can be changed
// while audio runs (Sender.SetConfig).
type SendConfig struct {
	// Bitrate is the Opus bitrate in bit/s; the server's budget may
	// lower it (Sender.SetMaxBitrate).
	Bitrate int
	// FrameMs is the audio per packet: 10, 20, 40 or 60 ms.
	FrameMs int
	// Complexity is the Opus encoder complexity, 0-10.
	Complexity int
	// Transmit selects continuous, voice activity or push-to-talk.
	Transmit vad.Mode
	// VADMeasure selects amplitude or signal-to-noise voice detection.
	VADMeasure vad.Measure
	// SilenceBelow and SpeechAbove are the voice activity thresholds as
	// Mumble's fractions (amplitude: 1 + dBFS/96).
	SilenceBelow, SpeechAbove float64
	// Hold is the voice hold; PTTHold keeps transmitting after the
	// push-to-talk key is released.
	Hold, PTTHold time.Duration
	// NoiseSuppressionDB is the noise suppression in dB (negative; 0
	// off). Mumble's default is -30.
	NoiseSuppressionDB int
	// MaxAmplification is Mumble's "max amplification" (1-20): the AGC
	// may raise the voice by up to floor(20*log10(1.5*X)) dB. 0 turns the
	// AGC off. As in Mumble, the gain may not rise while we do not
	// transmit, so that it does not creep up on background noise.
	MaxAmplification float64
	// EchoCancel selects echo cancellation.
	EchoCancel EchoMode
}

// DefaultSendConfig returns the defaults: 13 kb/s in 20 ms packets (a
// rate that suits Tor), complexity 10, voice activity on
// amplitude at 30%/50% with a 500 ms hold, -30 dB noise suppression, max
// amplification 20 (29 dB) and mixed echo cancellation.
func DefaultSendConfig() SendConfig {
	v := vad.DefaultConfig()
	return SendConfig{
		Bitrate: 13000, FrameMs: 20, Complexity: 10,
		Transmit: v.Mode, VADMeasure: v.Measure, SilenceBelow: v.SilenceBelow, SpeechAbove: v.SpeechAbove, Hold: v.Hold,
		NoiseSuppressionDB: -30, MaxAmplification: 20, EchoCancel: EchoMixed,
	}
}

func (c SendConfig) vad() vad.Config {
	return vad.Config{Mode: c.Transmit, Measure: c.VADMeasure, SilenceBelow: c.SilenceBelow, SpeechAbove: c.SpeechAbove, Hold: c.Hold, PTTHold: c.PTTHold}
}

func (c SendConfig) preprocess() dsp.PreprocessConfig {
	p := dsp.PreprocessConfig{NoiseSuppressionDB: c.NoiseSuppressionDB, HighPassHz: highPassHz}
	if c.MaxAmplification > 0 {
		p.AGC, p.AGCMaxGainDB = true, dsp.MaxGainDB(c.MaxAmplification)
	}
	return p
}

// highPassHz removes rumble below the voice band before noise suppression.
const highPassHz = 80

// Validate reports the first setting out of range.
func (c SendConfig) Validate() error {
	if err := (codec.EncoderConfig{Bitrate: c.Bitrate, FrameMs: c.FrameMs, Complexity: c.Complexity}).Validate(); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	if err := c.vad().Validate(); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	if c.MaxAmplification < 0 || c.MaxAmplification > 20 {
		return fmt.Errorf("voice: max amplification %v, want 0 (AGC off) or 1-20", c.MaxAmplification)
	}
	if c.NoiseSuppressionDB > 0 || c.NoiseSuppressionDB < -90 {
		return fmt.Errorf("voice: noise suppression %d dB, want -90 to 0", c.NoiseSuppressionDB)
	}
	if c.EchoCancel != EchoOff && c.EchoCancel != EchoMixed {
		return fmt.Errorf("voice: unknown echo cancellation mode %d", int(c.EchoCancel))
	}
	return nil
}

// Packet is one encoded voice packet for the protocol layer.
type Packet struct {
	// Opus is the Opus packet. It is only valid during the callback.
	Opus []byte
	// Frames10ms is the number of 10 ms frames it holds (FrameMs/10):
	// the amount by which the sequence number advances.
	Frames10ms int
	// Terminator marks the last packet of a transmission. As in Mumble,
	// it is a flag on a packet that carries audio (the frame in which
	// transmission stopped, padded with silence), not an empty packet.
	Terminator bool
}

// SendStats counts what the Sender did.
type SendStats struct {
	// Frames is the number of 10 ms frames processed.
	Frames int
	// Packets and Bytes count the packets emitted and their Opus bytes.
	Packets, Bytes int
	// Bitrate is the encoder's bitrate now: min(config, cap).
	Bitrate int
	// Level is the voice activity level of the last frame (0-1), for a
	// meter; Talking tells whether we transmit.
	Level   float64
	Talking bool
	// SpeechProb and GainDB are the preprocessor's last speech
	// probability (-1 with every speexdsp stage off) and AGC gain.
	SpeechProb float64
	GainDB     int
	// AGCFrozen reports that the AGC gain may not rise from the next
	// frame on: we neither transmit nor did in the frame before.
	AGCFrozen bool
	// Echo reports the echo canceller's reference queue.
	Echo dsp.EchoStats
}

// Sender is the send path: it takes 10 ms capture frames, cancels the echo
// of the playback mix, preprocesses, gates and encodes them, and emits
// Opus packets. Process runs on the capture goroutine; Reference on the
// playback goroutine; the setters from anywhere. Close frees the C state.
type Sender struct {
	emit    func(Packet)
	talking func(bool)
	gate    *vad.Gate
	echoOn  atomic.Bool

	mu      sync.Mutex // guards everything below
	cfg     SendConfig
	maxRate int
	closed  bool
	echo    *dsp.EchoCanceller
	pre     *dsp.Preprocessor
	enc     *codec.Encoder
	frame   []int16 // working copy of the frame
	pcm     []int16 // frames collected for the next packet
	out     []byte
	sending bool
	stats   SendStats
}

// NewSender returns a Sender with cfg. emit receives every packet and
// talking (optional) every change of our own talking state; both run on
// the goroutine that calls Process and must not block.
func NewSender(cfg SendConfig, emit func(Packet), talking func(bool)) (*Sender, error) {
	if emit == nil {
		return nil, errors.New("voice: sender without a packet callback")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gate, err := vad.NewGate(cfg.vad())
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: cfg.Bitrate, FrameMs: cfg.FrameMs, Complexity: cfg.Complexity})
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	echo, err := dsp.NewEchoCanceller(dsp.EchoConfig{FrameSamples: FrameSamples})
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	pre, err := dsp.NewPreprocessor(FrameSamples, codec.SampleRate, cfg.preprocess())
	if err != nil {
		echo.Close()
		return nil, fmt.Errorf("voice: %w", err)
	}
	s := &Sender{
		emit: emit, talking: talking, gate: gate, cfg: cfg, echo: echo, pre: pre, enc: enc,
		frame: make([]int16, FrameSamples), pcm: make([]int16, 0, 6*FrameSamples), out: make([]byte, codec.MaxPacketBytes),
	}
	if cfg.EchoCancel == EchoMixed {
		if err := pre.SetEchoCanceller(echo); err != nil {
			s.Close()
			return nil, fmt.Errorf("voice: %w", err)
		}
	}
	s.stats.Bitrate = cfg.Bitrate
	s.echoOn.Store(cfg.EchoCancel == EchoMixed)
	return s, nil
}

// Config returns the current settings.
func (s *Sender) Config() SendConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// SetConfig changes the settings. Frame duration changes take effect at
// the next packet boundary; everything else with the next frame.
func (s *Sender) SetConfig(cfg SendConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("voice: sender closed")
	}
	if err := s.gate.SetConfig(cfg.vad()); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	if err := s.pre.SetConfig(cfg.preprocess()); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	var ec *dsp.EchoCanceller
	if cfg.EchoCancel == EchoMixed {
		ec = s.echo
	}
	if err := s.pre.SetEchoCanceller(ec); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	if err := s.enc.SetComplexity(cfg.Complexity); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	if (cfg.EchoCancel == EchoMixed) != (s.cfg.EchoCancel == EchoMixed) {
		s.echo.Reset()
	}
	s.echoOn.Store(cfg.EchoCancel == EchoMixed)
	s.cfg = cfg
	return s.applyBitrate()
}

// SetMaxBitrate caps the bitrate at n bit/s, the server's bandwidth budget
// as computed by the protocol layer; 0 removes the cap. The encoder uses
// min(config, cap), never below codec.MinBitrate.
func (s *Sender) SetMaxBitrate(n int) error {
	if n < 0 {
		return fmt.Errorf("voice: negative bitrate cap %d", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxRate = n
	return s.applyBitrate()
}

// applyBitrate sets the encoder's bitrate; s.mu is held.
func (s *Sender) applyBitrate() error {
	rate := s.cfg.Bitrate
	if s.maxRate > 0 && s.maxRate < rate {
		rate = max(s.maxRate, codec.MinBitrate)
	}
	if err := s.enc.SetBitrate(rate); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	s.stats.Bitrate = rate
	return nil
}

// SetPushToTalk reports the push-to-talk key pressed or released.
func (s *Sender) SetPushToTalk(pressed bool) { s.gate.SetPushToTalk(pressed) }

// Reference hands the echo canceller the audio just sent to the speakers
// (the playback mix), in any length. Call it from the playback callback.
func (s *Sender) Reference(pcm []int16) {
	if s.echoOn.Load() {
		s.echo.Playback(pcm)
	}
}

// Stats returns the counters and the last frame's levels.
func (s *Sender) Stats() SendStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Echo = s.echo.Stats()
	return st
}

// Process runs one 10 ms capture frame (FrameSamples samples) through the
// send path, calling the packet and talking callbacks as needed.
func (s *Sender) Process(frame []int16) error {
	if len(frame) != FrameSamples {
		return fmt.Errorf("voice: capture frame of %d samples, want %d", len(frame), FrameSamples)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("voice: sender closed")
	}
	s.stats.Frames++
	buf := s.frame
	copy(buf, frame)
	if s.cfg.EchoCancel == EchoMixed {
		if err := s.echo.Cancel(buf, buf); err != nil {
			return fmt.Errorf("voice: %w", err)
		}
	}
	res, err := s.pre.Process(buf)
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	// As in Mumble, the level for voice activity is that of the cleaned
	// signal before the AGC's gain.
	level := analysis.DBFS(buf) - float64(res.GainDB)
	d := s.gate.Next(vad.Frame{DBFS: level, SpeechProb: -1})
	s.stats.Level, s.stats.SpeechProb, s.stats.GainDB = d.Level, res.SpeechProb, res.GainDB
	// As in Mumble, the AGC gain may not rise while we neither transmit
	// nor did in the previous frame, so that it does not creep up on
	// background noise between sentences; it may rise again (12 dB/s)
	// from the frame after transmission starts. In continuous
	// transmission it is never frozen.
	frozen := !d.Transmit && !s.sending
	inc := dsp.AGCIncrementDB
	if frozen {
		inc = 0
	}
	if err := s.pre.SetAGCIncrement(inc); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	s.stats.AGCFrozen = frozen

	if d.Transmit != s.sending {
		s.setSending(d.Transmit)
		if !d.Transmit {
			// Transmission ends: this frame, padded, goes out as the
			// terminator.
			s.pcm = append(s.pcm, buf...)
			return s.flush(true)
		}
	}
	if !d.Transmit {
		return nil
	}
	s.pcm = append(s.pcm, buf...)
	if len(s.pcm) >= s.enc.FrameSamples() || len(s.pcm) >= s.cfg.FrameMs*codec.SampleRate/1000 {
		return s.flush(false)
	}
	return nil
}

// setSending records that a transmission starts or ends and tells the
// talking callback; s.mu is held.
func (s *Sender) setSending(on bool) {
	s.sending = on
	s.stats.Talking = on
	if s.talking != nil {
		s.talking(on)
	}
}

// flush encodes the collected frames as one packet, padded with silence
// to the packet duration; s.mu is held.
func (s *Sender) flush(terminator bool) error {
	if len(s.pcm) == 0 {
		return nil
	}
	// Frame duration changes apply at packet boundaries.
	if s.enc.Config().FrameMs != s.cfg.FrameMs {
		if err := s.enc.SetFrameMs(s.cfg.FrameMs); err != nil {
			return fmt.Errorf("voice: %w", err)
		}
	}
	n := s.enc.FrameSamples()
	for len(s.pcm) < n {
		s.pcm = append(s.pcm, make([]int16, min(n-len(s.pcm), FrameSamples))...)
	}
	size, err := s.enc.Encode(s.pcm[:n], s.out)
	s.pcm = s.pcm[:copy(s.pcm, s.pcm[n:])]
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	s.stats.Packets++
	s.stats.Bytes += size
	s.emit(Packet{Opus: s.out[:size], Frames10ms: n / FrameSamples, Terminator: terminator})
	if terminator {
		s.pcm = s.pcm[:0]
	}
	return nil
}

// EndTransmission ends a transmission in progress as if the gate had
// closed: the frames collected for the next packet, padded with silence to
// the packet duration (or a packet of silence if none are collected), go
// out as the terminator, and the talking callback reports false. It does
// nothing when not transmitting. Use it when capture ends, for example
// when a file device reaches the end of its input, or when the user mutes.
// Like Process, it calls the callbacks on the calling goroutine: call it
// from the capture goroutine or after capture has stopped. If the gate
// still says to transmit, the next Process starts a new transmission.
func (s *Sender) EndTransmission() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("voice: sender closed")
	}
	if !s.sending {
		return nil
	}
	s.setSending(false)
	if len(s.pcm) == 0 {
		s.pcm = append(s.pcm, make([]int16, FrameSamples)...)
	}
	return s.flush(true)
}

// Close frees the Sender's C state. A transmission in progress is not
// terminated: call EndTransmission first if the protocol layer needs the
// terminator.
func (s *Sender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := errors.Join(s.pre.Close(), s.echo.Close())
	if err != nil {
		return fmt.Errorf("voice: close sender: %w", err)
	}
	return nil
}
