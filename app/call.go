package app

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/vad"
)

// AudioBackend selects the sound devices a Controller uses: voice's
// choice, named for the ControllerConfig field.
type AudioBackend = voice.Devices

// Audio backends.
const (
	// AudioDevices uses the system's sound devices (the default): the
	// settings' capture and playback devices, or the system defaults.
	AudioDevices = voice.SystemDevices
	// AudioNull uses stand-in devices driven by a timer: silence is
	// captured and the playback is discarded. Everything else runs as
	// with real devices (tests, machines without sound).
	AudioNull = voice.NullDevices
	// AudioFile captures from ControllerConfig.AudioInputFile and plays
	// into ControllerConfig.AudioOutputFile (WAV, 48 kHz mono 16-bit), in
	// real time.
	AudioFile = voice.FileDevices
	// AudioNone opens no device: received voice is decoded for the
	// talking indicators but not played, and nothing is sent.
	AudioNone = voice.NoDevices
)

// callParams is what openCall needs.
type callParams struct {
	cfg      ControllerConfig
	settings Settings
	// bitrateCap is the highest bit rate the server's bandwidth limit
	// allows for the settings' packet length.
	bitrateCap int
	// send queues an outgoing voice packet; it never blocks.
	send func(v mumble.OutgoingVoice)
}

// openCall starts the sound of a connection (voice.NewCall) as the
// controller's configuration and the settings say. It fails only on a
// bad configuration; Call.Description says how sound is handled.
func openCall(p callParams) (*voice.Call, error) {
	out := p.settings.Output
	return voice.NewCall(voice.CallConfig{
		Devices:        p.cfg.AudioBackend,
		CaptureDevice:  p.settings.Input.Device,
		PlaybackDevice: out.Device,
		InputFile:      p.cfg.AudioInputFile,
		OutputFile:     p.cfg.AudioOutputFile,
		Platform:       p.cfg.AudioPlatform,
		Send:           sendConfig(p.settings.Input),
		MaxBitrate:     p.bitrateCap,
		JitterBuffer:   msDuration(out.JitterBufferMs),
		OutputDelay:    msDuration(out.OutputDelayMs),
		Volume:         outputVolume(out),
		OnPacket: func(v voice.Packet) {
			p.send(mumble.OutgoingVoice{Opus: v.Opus, Frames: v.Frames10ms, Target: mumble.TargetNormal, Last: v.Terminator})
		},
		Logf: p.cfg.Logf,
	})
}

// applyCallSettings gives a running call changed settings.
func applyCallSettings(call *voice.Call, s Settings) error {
	return call.SetSettings(sendConfig(s.Input), outputVolume(s.Output))
}

// callNotice is the line a session shows for a call's DeviceStopped event.
func callNotice(ev voice.CallEvent) string {
	return fmt.Sprintf("Sound stopped: %s went away or stopped working. Plug it back in and reconnect, or choose another device in Settings.", ev.Device)
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

// msDuration converts milliseconds.
func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// outputVolume is the receiver's master volume for the settings.
func outputVolume(o AudioOutput) float64 { return float64(o.VolumePercent) / 100 }

// voiceSender carries outgoing voice packets from the audio goroutine to
// the connection through a bounded queue, so that a slow network never
// stalls the sound device. It lives in app because it sends through the
// *mumble.Client, which voice must not know. Packets that do not fit in the queue (more than
// about a second of voice behind) are dropped and counted.
type voiceSender struct {
	client  voiceClient
	ctx     context.Context
	cancel  context.CancelFunc
	q       chan mumble.OutgoingVoice
	done    chan struct{}
	dropped atomic.Uint64
	sent    atomic.Uint64
	once    sync.Once
}

// voiceQueueLen is the outgoing queue length in packets.
const voiceQueueLen = 64

// voiceClient sends voice packets: a *mumble.Client.
type voiceClient interface {
	SendVoice(ctx context.Context, v mumble.OutgoingVoice) error
}

func newVoiceSender(ctx context.Context, client voiceClient) *voiceSender {
	ctx, cancel := context.WithCancel(ctx)
	v := &voiceSender{
		client: client,
		ctx:    ctx,
		cancel: cancel,
		q:      make(chan mumble.OutgoingVoice, voiceQueueLen),
		done:   make(chan struct{}),
	}
	go v.run()
	return v
}

// send queues p (its Opus data is copied); it never blocks.
func (v *voiceSender) send(p mumble.OutgoingVoice) {
	if v.ctx.Err() != nil {
		return
	}
	p.Opus = bytes.Clone(p.Opus)
	select {
	case v.q <- p:
	default:
		v.dropped.Add(1)
	}
}

func (v *voiceSender) run() {
	defer close(v.done)
	for {
		select {
		case p := <-v.q:
			if err := v.client.SendVoice(v.ctx, p); err != nil {
				if v.ctx.Err() != nil {
					return
				}
				v.dropped.Add(1)
				continue
			}
			v.sent.Add(1)
		case <-v.ctx.Done():
			return
		}
	}
}

// close stops sending and waits for the sending goroutine.
func (v *voiceSender) close() {
	v.once.Do(func() {
		v.cancel()
		<-v.done
	})
}
