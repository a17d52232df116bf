//go:build cgo

package voice

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/jitter"
	"github.com/tumble-voip/tumble/voice/mix"
)

var rxEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// rxTone returns n samples of a sine at freq Hz and amplitude amp (of
// full scale), starting at sample offset start.
func rxTone(freq, amp float64, start, n int) []int16 {
	p := make([]int16, n)
	for i := range p {
		p[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(start+i)/48000))
	}
	return p
}

// rxPower returns the power of pcm at freq (Goertzel), normalised so
// that a full-scale sine gives about 0.5.
func rxPower(pcm []int16, freq float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v)/32768 + c*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(pcm))
	return 2 * p / (n * n)
}

func rxRMS(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(pcm), 1)))
}

// rxPacket is one encoded packet of a test stream.
type rxPacket struct {
	seq   uint64
	data  []byte
	term  bool
	sent  time.Duration // from rxEpoch
	frame int           // first 10 ms frame on the sender's timeline
}

// rxEncode encodes pcm (a multiple of 20 ms) into 20 ms Opus packets at
// 13 kb/s, numbered from first (in 10 ms frames), sent from start on.
func rxEncode(t testing.TB, pcm []int16, first uint64, start time.Duration) []rxPacket {
	return rxEncodeMs(t, pcm, 20, false, first, start)
}

// rxEncodeMs is rxEncode with frameMs ms packets, numbered +1 per packet
// instead of per 10 ms frame if perPacket is set.
func rxEncodeMs(t testing.TB, pcm []int16, frameMs int, perPacket bool, first uint64, start time.Duration) []rxPacket {
	t.Helper()
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: frameMs, Complexity: 10})
	if err != nil {
		t.Fatal(err)
	}
	var pkts []rxPacket
	buf := make([]byte, 1500)
	size := 48 * frameMs
	frames := frameMs / 10
	for i := 0; i+size <= len(pcm); i += size {
		n, err := enc.Encode(pcm[i:i+size], buf)
		if err != nil {
			t.Fatal(err)
		}
		k := i / 480
		seq := first + uint64(k)
		if perPacket {
			seq = first + uint64(k/frames)
		}
		pkts = append(pkts, rxPacket{
			seq:   seq,
			data:  append([]byte(nil), buf[:n]...),
			sent:  start + time.Duration(k+frames)*jitter.FrameDuration,
			frame: k,
		})
	}
	pkts[len(pkts)-1].term = true
	return pkts
}

// rxRun feeds each speaker's packets to r as they arrive (sent+latency)
// and mixes periods of period samples from time 0 to until, returning
// the whole output.
func rxRun(t testing.TB, r *Receiver, streams map[uint32][]rxPacket, latency time.Duration, period int, until time.Duration) []int16 {
	t.Helper()
	type arrival struct {
		speaker uint32
		p       rxPacket
	}
	var all []arrival
	for id, pkts := range streams {
		for _, p := range pkts {
			all = append(all, arrival{id, p})
		}
	}
	var out []int16
	buf := make([]int16, period)
	step := time.Duration(period/receiveFrame) * jitter.FrameDuration
	for now := time.Duration(0); now < until; now += step {
		for _, a := range all {
			at := a.p.sent + latency
			if at > now-step && at <= now {
				if err := r.HandlePacket(a.speaker, a.p.seq, a.p.data, a.p.term, rxEpoch.Add(at)); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := r.MixAt(rxEpoch.Add(now), buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf...)
	}
	return out
}

func newTestReceiver(t testing.TB, cfg ReceiverConfig) *Receiver {
	t.Helper()
	r, err := NewReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReceiverPlaysSpeaker(t *testing.T) {
	r := newTestReceiver(t, ReceiverConfig{})
	in := rxTone(440, 0.25, 0, 48000) // 1 s
	pkts := rxEncode(t, in, 5000, 0)
	out := rxRun(t, r, map[uint32][]rxPacket{7: pkts}, 100*time.Millisecond, 960, 2*time.Second)

	// Silence until the first packet has arrived and the minimum
	// playout offset (10+30 ms) has passed.
	firstArrival := pkts[0].sent + 100*time.Millisecond
	firstSample := -1
	for i, v := range out {
		if v != 0 {
			firstSample = i
			break
		}
	}
	if firstSample < 0 {
		t.Fatal("nothing played")
	}
	start := time.Duration(firstSample) * time.Second / 48000
	if added := start - firstArrival; added < 40*time.Millisecond || added > 70*time.Millisecond {
		t.Errorf("first audio %v after the first packet arrived, want 40-70 ms", added)
	}
	// The tone comes out at its level, and nothing after the terminator.
	body := out[firstSample+4800 : firstSample+4800+24000]
	if p := rxPower(body, 440); math.Abs(10*math.Log10(p/(0.5*0.25*0.25))) > 2 {
		t.Errorf("tone power %.1f dB off", 10*math.Log10(p/(0.5*0.25*0.25)))
	}
	if p1, p2 := rxPower(body, 440), rxPower(body, 1320); p1 < 100*p2 {
		t.Errorf("tone not clean: 440 Hz %.3g, 1320 Hz %.3g", p1, p2)
	}
	tail := out[firstSample+48000+4800:]
	if rxRMS(tail) != 0 {
		t.Errorf("audio after the terminator (rms %.1f)", rxRMS(tail))
	}

	var evs []TalkEvent
	for len(r.Events()) > 0 {
		evs = append(evs, <-r.Events())
	}
	if len(evs) != 2 || !evs[0].Talking || evs[1].Talking || evs[0].Speaker != 7 {
		t.Fatalf("events %+v, want talking then silent for speaker 7", evs)
	}
	if talk := evs[1].At.Sub(evs[0].At); talk < 980*time.Millisecond || talk > 1040*time.Millisecond {
		t.Errorf("talked for %v, sent 1 s", talk)
	}
	st, ok := r.SpeakerStats(7)
	if !ok || st.Jitter.Played != 100 || st.LossPct != 0 || st.Jitter.Concealed != 0 || st.Talking {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiverVolumeMuteMaster(t *testing.T) {
	measure := func(setup func(r *Receiver)) (a, b float64) {
		r := newTestReceiver(t, ReceiverConfig{})
		setup(r)
		streams := map[uint32][]rxPacket{
			1: rxEncode(t, rxTone(500, 0.2, 0, 48000), 0, 0),
			2: rxEncode(t, rxTone(1200, 0.2, 0, 48000), 0, 0),
		}
		out := rxRun(t, r, streams, 50*time.Millisecond, 480, 1200*time.Millisecond)
		body := out[9600:48000]
		return rxPower(body, 500), rxPower(body, 1200)
	}
	db := func(x, ref float64) float64 { return 10 * math.Log10(x/ref) }
	a0, b0 := measure(func(*Receiver) {})
	a1, b1 := measure(func(r *Receiver) {
		if err := r.SetVolume(1, 0.5); err != nil {
			t.Fatal(err)
		}
		r.SetMute(2, true)
	})
	if d := db(a1, a0); math.Abs(d+6.02) > 0.5 {
		t.Errorf("volume 0.5: %.2f dB, want -6", d)
	}
	if d := db(b1, b0); d > -40 {
		t.Errorf("muted speaker only %.1f dB down", d)
	}
	a2, b2 := measure(func(r *Receiver) {
		if err := r.SetOutputVolume(0.1); err != nil {
			t.Fatal(err)
		}
	})
	if d1, d2 := db(a2, a0), db(b2, b0); math.Abs(d1+20) > 0.5 || math.Abs(d2+20) > 0.5 {
		t.Errorf("output volume 0.1: %.2f / %.2f dB, want -20", d1, d2)
	}
	a3, _ := measure(func(r *Receiver) {
		if err := r.SetVolume(1, mix.DB(6)); err != nil {
			t.Fatal(err)
		}
	})
	if d := db(a3, a0); math.Abs(d-6) > 0.5 {
		t.Errorf("volume +6 dB: %.2f dB", d)
	}

	r := newTestReceiver(t, ReceiverConfig{Volume: 0.1})
	if r.OutputVolume() != 0.1 {
		t.Errorf("OutputVolume %v", r.OutputVolume())
	}
	for _, v := range []float64{-1, 9, math.NaN()} {
		if r.SetVolume(1, v) == nil || r.SetOutputVolume(v) == nil {
			t.Errorf("volume %v accepted", v)
		}
	}
	r.SetMute(3, true)
	if v, m := r.Volume(3); v != 1 || !m {
		t.Errorf("Volume(3) = %v, %v", v, m)
	}
}

func TestReceiverRecord(t *testing.T) {
	type rec struct {
		at  int64
		pcm []int16
	}
	got := map[uint32][]rec{}
	r := newTestReceiver(t, ReceiverConfig{Record: func(id uint32, at int64, pcm []int16) {
		got[id] = append(got[id], rec{at, append([]int16(nil), pcm...)})
	}})
	r.SetMute(2, true) // recorded all the same
	streams := map[uint32][]rxPacket{
		1: rxEncode(t, rxTone(500, 0.2, 0, 24000), 0, 0),                    // 0-0.5 s
		2: rxEncode(t, rxTone(900, 0.2, 0, 24000), 100, time.Second),        // 1-1.5 s
		3: rxEncode(t, rxTone(700, 0.2, 0, 24000), 0, 300*time.Millisecond), // 0.3-0.8 s
	}
	out := rxRun(t, r, streams, 50*time.Millisecond, 960, 2*time.Second)
	for id, recs := range got {
		// Contiguous from the speaker's first appearance to the end.
		next := recs[0].at
		var all []int16
		for _, x := range recs {
			if x.at != next {
				t.Fatalf("speaker %d: record at %d, want %d", id, x.at, next)
			}
			next += int64(len(x.pcm))
			all = append(all, x.pcm...)
		}
		if next != int64(len(out)) {
			t.Errorf("speaker %d: recorded up to %d, mixed %d", id, next, len(out))
		}
		// Talk where it was sent (plus about 40-60 ms of delay), silence
		// elsewhere.
		startSent := map[uint32]int{1: 0, 2: 48000, 3: 14400}[id]
		freq := map[uint32]float64{1: 500, 2: 900, 3: 700}[id]
		talk := all[startSent+4800-int(recs[0].at) : startSent+19200-int(recs[0].at)]
		if p := rxPower(talk, freq); p < 0.01 {
			t.Errorf("speaker %d: tone missing from recording (%.3g)", id, p)
		}
		before := all[:max(0, startSent-int(recs[0].at))]
		after := all[startSent+24000+9600-int(recs[0].at):]
		if rxRMS(before) != 0 || rxRMS(after) != 0 {
			t.Errorf("speaker %d: recording not silent outside the talk (%.1f, %.1f)", id, rxRMS(before), rxRMS(after))
		}
	}
	if len(got) != 3 {
		t.Fatalf("recorded %d speakers", len(got))
	}
	// Speaker 2 was muted: recorded but not in the mix.
	if p := rxPower(out[48000+4800:48000+19200], 900); p > 1e-6 {
		t.Errorf("muted speaker in the mix (%.3g)", p)
	}
}

func TestReceiverConcealsLoss(t *testing.T) {
	// The same tone twice, once with packet 20 (400-420 ms) lost: where
	// the outputs differ, the lossy one holds Opus concealment that
	// continues the tone instead of silence.
	full := rxEncode(t, rxTone(300, 0.3, 0, 48000), 0, 0)
	lossy := append(append([]rxPacket(nil), full[:20]...), full[21:]...)
	run := func(pkts []rxPacket) ([]int16, SpeakerStats) {
		r := newTestReceiver(t, ReceiverConfig{})
		out := rxRun(t, r, map[uint32][]rxPacket{4: pkts}, 50*time.Millisecond, 480, 1500*time.Millisecond)
		st, _ := r.SpeakerStats(4)
		return out, st
	}
	ref, _ := run(full)
	out, st := run(lossy)
	if st.Jitter.Concealed < 2 || st.Jitter.Played != 98 {
		t.Fatalf("concealed %d, played %d frames for one lost 20 ms packet", st.Jitter.Concealed, st.Jitter.Played)
	}
	first := -1
	for i := range out {
		if d := int(out[i]) - int(ref[i]); d > 2000 || d < -2000 {
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatal("lossy output identical to the reference")
	}
	gap := out[first : first+960]
	if rms, want := rxRMS(gap), rxRMS(ref[first:first+960]); rms < 0.3*want {
		t.Errorf("rms %.0f where the packet was lost, %.0f without loss: not concealed", rms, want)
	}
	if p1, p2 := rxPower(gap, 300), rxPower(gap, 900); p1 < 10*p2 {
		t.Errorf("concealment is not the tone: 300 Hz %.3g, 900 Hz %.3g", p1, p2)
	}
}

func TestReceiverRefusesBadInput(t *testing.T) {
	r := newTestReceiver(t, ReceiverConfig{MaxSpeakers: 2})
	now := rxEpoch
	if err := r.HandlePacket(1, 0, nil, false, now); err == nil {
		t.Error("empty non-terminator accepted")
	}
	if err := r.HandlePacket(1, 0, nil, true, now); err != nil {
		t.Errorf("empty terminator: %v", err)
	}
	good := rxEncode(t, rxTone(440, 0.1, 0, 960), 0, 0)[0].data
	if err := r.HandlePacket(1, 2, make([]byte, jitter.MaxPayload+1), false, now); err == nil {
		t.Error("oversized packet accepted")
	}
	if err := r.HandlePacket(2, 0, good, false, now); err != nil {
		t.Fatal(err)
	}
	if err := r.HandlePacket(3, 0, good, false, now); err == nil {
		t.Error("third speaker accepted with MaxSpeakers 2")
	}
	if err := r.MixAt(now, make([]int16, 500)); err == nil {
		t.Error("period of 500 samples accepted")
	}
	if err := r.MixAt(now, nil); err == nil {
		t.Error("empty period accepted")
	}
	if st, _ := r.SpeakerStats(1); st.Refused < 1 {
		t.Errorf("refused %d", st.Refused)
	}
	// Garbage that looks like Opus to the TOC parser but does not decode
	// is concealed and counted, never played as noise bursts.
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		b := make([]byte, 1+rng.IntN(200))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		_ = r.HandlePacket(2, uint64(2+2*i), b, false, now.Add(time.Duration(i)*20*time.Millisecond))
		if err := r.MixAt(now.Add(time.Duration(i)*20*time.Millisecond), make([]int16, 960)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReceiverIdleRemoval(t *testing.T) {
	r := newTestReceiver(t, ReceiverConfig{IdleTimeout: 2 * time.Second})
	if err := r.SetVolume(9, 0.3); err != nil {
		t.Fatal(err)
	}
	rxRun(t, r, map[uint32][]rxPacket{9: rxEncode(t, rxTone(440, 0.1, 0, 9600), 0, 0)}, 10*time.Millisecond, 960, 500*time.Millisecond)
	if len(r.Speakers()) != 1 {
		t.Fatalf("speakers %+v", r.Speakers())
	}
	buf := make([]int16, 960)
	if err := r.MixAt(rxEpoch.Add(3*time.Second), buf); err != nil {
		t.Fatal(err)
	}
	if len(r.Speakers()) != 0 {
		t.Errorf("idle speaker kept: %+v", r.Speakers())
	}
	if v, _ := r.Volume(9); v != 0.3 {
		t.Errorf("volume forgotten with the idle speaker: %v", v)
	}
	r.Remove(9)
	if v, _ := r.Volume(9); v != 1 {
		t.Errorf("volume kept after Remove: %v", v)
	}
}

func TestReceiverClose(t *testing.T) {
	r := newTestReceiver(t, ReceiverConfig{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, ErrReceiverClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := r.MixAt(rxEpoch, make([]int16, 480)); !errors.Is(err, ErrReceiverClosed) {
		t.Errorf("Mix after Close: %v", err)
	}
	if err := r.HandlePacket(1, 0, nil, true, rxEpoch); !errors.Is(err, ErrReceiverClosed) {
		t.Errorf("HandlePacket after Close: %v", err)
	}
	if _, ok := <-r.Events(); ok {
		t.Error("Events not closed")
	}
}

func TestReceiverConfigValidation(t *testing.T) {
	for _, c := range []ReceiverConfig{
		{JitterBuffer: -time.Millisecond},
		{OutputDelay: 2 * time.Second},
		{MaxDelay: 20 * time.Millisecond},
		{MaxSpeakers: -1},
		{Volume: 100},
		{IdleTimeout: -time.Second},
	} {
		if _, err := NewReceiver(c); err == nil {
			t.Errorf("NewReceiver(%+v) accepted", c)
		}
	}
}

func TestReceiverConcurrent(t *testing.T) {
	// The network goroutine pushes while the audio goroutine mixes and
	// the UI changes settings; run with -race.
	r := newTestReceiver(t, ReceiverConfig{})
	pkts := rxEncode(t, rxTone(440, 0.1, 0, 48000), 0, 0)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for _, p := range pkts {
			for id := uint32(1); id <= 4; id++ {
				if err := r.HandlePacket(id, p.seq, p.data, p.term, rxEpoch.Add(p.sent)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]int16, 960)
		for i := range 200 {
			if err := r.MixAt(rxEpoch.Add(time.Duration(i)*20*time.Millisecond), buf); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 200 {
			_ = r.SetVolume(uint32(i%4+1), float64(i%3))
			r.SetMute(uint32(i%4+1), i%2 == 0)
			_ = r.Speakers()
			_ = r.Talking(1)
		}
	}()
	wg.Wait()
}

func TestReceiverOverTorTrace(t *testing.T) {
	// One speaker's real Opus packets delivered on the Tor model's
	// schedule: everything decodes, the delay stays bounded.
	tr, err := jitter.NewTrace("tor", jitter.Talk{Duration: 60 * time.Second}, jitter.Tor{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	pkts := rxEncode(t, rxTone(440, 0.2, 0, 60*48000), 0, 0)
	r := newTestReceiver(t, ReceiverConfig{})
	buf := make([]int16, 960)
	next := 0
	for now := time.Duration(0); now < 62*time.Second; now += 20 * time.Millisecond {
		for next < len(tr.Packets) && tr.Packets[next].At <= now {
			p := tr.Packets[next]
			next++
			k := int(p.Seq / 2)
			if err := r.HandlePacket(1, p.Seq, pkts[k].data, p.Terminator, rxEpoch.Add(p.At)); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.MixAt(rxEpoch.Add(now), buf); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := r.SpeakerStats(1)
	t.Logf("played %d frames, concealed %d, dropped %d, late %d, loss %.2f%%, added delay mean %v p95 %v",
		st.Jitter.Played, st.Jitter.Concealed, st.Jitter.Dropped, st.Jitter.Late, st.LossPct,
		st.Jitter.Added.Mean(), st.Jitter.Added.Quantile(0.95))
	if st.LossPct > 3 || st.DecodeErrors != 0 || st.Jitter.Added.Max > 410*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiverMixDoesNotAllocate(t *testing.T) {
	r := newTestReceiver(t, ReceiverConfig{})
	pkts := rxEncode(t, rxTone(440, 0.1, 0, 5*48000), 0, 0)
	buf := make([]int16, 960)
	i := 0
	step := func() {
		p := pkts[i%len(pkts)]
		at := rxEpoch.Add(time.Duration(i) * 20 * time.Millisecond)
		for id := uint32(1); id <= 8; id++ {
			_ = r.HandlePacket(id, uint64(2*i), p.data, false, at)
		}
		_ = r.MixAt(at, buf)
		i++
	}
	for range 200 { // every jitter buffer slot used once
		step()
	}
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Errorf("%v allocations per 20 ms period with 8 speakers", a)
	}
}

// TestReceiverIdleAndSkip: a Receiver is Idle before any packet, busy from
// the first packet until the talk spurt has been played out (and the end
// of talking reported), Idle again after; Skip moves the timeline on
// without Record calls, frees speakers idle for too long, and playback
// resumes at the new position when a packet arrives.
func TestReceiverIdleAndSkip(t *testing.T) {
	type rec struct {
		at   int64
		loud bool
	}
	var recs []rec
	r := newTestReceiver(t, ReceiverConfig{IdleTimeout: 2 * time.Second, Record: func(_ uint32, at int64, pcm []int16) {
		recs = append(recs, rec{at, rxRMS(pcm) > 100})
	}})
	if !r.Idle() {
		t.Fatal("new receiver not idle")
	}
	talk := rxEncode(t, rxTone(440, 0.2, 0, 9600), 0, 0) // 200 ms
	if err := r.HandlePacket(5, talk[0].seq, talk[0].data, false, rxEpoch); err != nil {
		t.Fatal(err)
	}
	if r.Idle() {
		t.Fatal("idle with a packet buffered")
	}
	out := rxRun(t, r, map[uint32][]rxPacket{5: talk[1:]}, 0, 480, 400*time.Millisecond)
	if !r.Idle() {
		t.Fatalf("not idle after the talk spurt (talking %v)", r.Talking(5))
	}
	var ev []TalkEvent
	for len(r.Events()) > 0 {
		ev = append(ev, <-r.Events())
	}
	if len(ev) != 2 || !ev[0].Talking || ev[1].Talking {
		t.Errorf("talk events %+v, want start and end", ev)
	}
	// Skip 1 s: no Record calls; the timeline moves on.
	n := len(recs)
	if err := r.Skip(rxEpoch.Add(1400*time.Millisecond), 48000); err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Errorf("Record called during Skip")
	}
	if err := r.Skip(rxEpoch, 100); err == nil {
		t.Error("Skip of 100 samples accepted")
	}
	// A new spurt 1.4 s in: recorded from the timeline's new position.
	again := rxEncode(t, rxTone(440, 0.2, 0, 4800), 100, 0)
	buf := make([]int16, 480)
	for i, p := range again {
		if err := r.HandlePacket(5, p.seq, p.data, p.term, rxEpoch.Add(1400*time.Millisecond+time.Duration(i)*20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	for k := range 30 {
		if err := r.MixAt(rxEpoch.Add(1400*time.Millisecond+time.Duration(k)*10*time.Millisecond), buf); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := recs[n].at, int64(len(out)+48000); got != want {
		t.Errorf("first Record after Skip at %d, want %d", got, want)
	}
	loud := false
	for _, x := range recs[n:] {
		loud = loud || x.loud
	}
	if !loud {
		t.Error("second spurt not played after Skip")
	}
	// Long idle: Skip frees the speaker, as Mix would.
	for k := 0; !r.Idle(); k++ {
		if k == 100 {
			t.Fatal("not idle after 1 s of silence")
		}
		if err := r.MixAt(rxEpoch.Add(2*time.Second+time.Duration(k)*10*time.Millisecond), buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Skip(rxEpoch.Add(10*time.Second), 480*800); err != nil {
		t.Fatal(err)
	}
	if len(r.Speakers()) != 0 {
		t.Errorf("idle speaker kept across Skip: %+v", r.Speakers())
	}
}
