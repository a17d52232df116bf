package jitter

import (
	"fmt"
	"slices"
	"time"
)

// tickPhase puts the playback ticks off the sender's 10 ms grid, as an
// independent sound card would be.
const tickPhase = 3700 * time.Microsecond

// Result is what Replay measured.
type Result struct {
	// Trace is the trace's name.
	Trace string
	// Frames is the number of frames the sender sent (duplicates not
	// counted twice).
	Frames int
	// Played is the number of sent frames that were played.
	Played int
	// LateLossPct is the share of sent frames that were never played, in
	// percent: late, dropped to catch up, or past MaxDelay.
	LateLossPct float64
	// ConcealedPct is the number of concealment frames played, as a
	// percentage of Frames.
	ConcealedPct float64
	// AddedDelayMeanMs, AddedDelayP50Ms, AddedDelayP95Ms and
	// AddedDelayMaxMs describe the added delay of played packets: the
	// playout time of a packet's first frame minus its arrival time.
	AddedDelayMeanMs, AddedDelayP50Ms, AddedDelayP95Ms, AddedDelayMaxMs float64
	// NetworkJitterP95Ms is the trace's own jitter: the 95th percentile of
	// network delay (arrival minus sending) minus its minimum.
	NetworkJitterP95Ms float64
	// MinuteAddedMs is the mean added delay of the packets played in each
	// minute of the replay, to show whether delay piles up.
	MinuteAddedMs []float64
	// MaxDelayMs is the largest playout delay beyond the fastest path
	// seen at any tick.
	MaxDelayMs float64
	// Stats are the buffer's own counters at the end.
	Stats Stats
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// String summarises the result on one line.
func (r Result) String() string {
	return fmt.Sprintf("%s: %d frames, late loss %.2f%%, concealed %.2f%%, added delay mean %.1f ms p50 %.1f p95 %.1f max %.1f, network jitter p95 %.1f ms",
		r.Trace, r.Frames, r.LateLossPct, r.ConcealedPct, r.AddedDelayMeanMs, r.AddedDelayP50Ms,
		r.AddedDelayP95Ms, r.AddedDelayMaxMs, r.NetworkJitterP95Ms)
}

// Replay plays tr through a new Buffer configured by cfg on a virtual
// clock: before each 10 ms tick every packet that has arrived is pushed,
// then Next is called once. Nothing sleeps; an hour of audio replays in
// well under a second.
func Replay(tr Trace, cfg Config) (Result, error) {
	b, err := New(cfg)
	if err != nil {
		return Result{}, err
	}
	res := Result{Trace: tr.Name, Frames: tr.Frames()}
	if len(tr.Packets) == 0 {
		return res, nil
	}
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

	// The network's own delay, to report its jitter.
	var lat []time.Duration
	for _, p := range tr.Packets {
		lat = append(lat, p.At-p.Sent)
	}
	slices.Sort(lat)
	res.NetworkJitterP95Ms = ms(lat[int(0.95*float64(len(lat)-1))] - lat[0])

	var added []time.Duration
	var minuteSum []time.Duration
	var minuteN []int
	end := tr.Packets[len(tr.Packets)-1].At + b.cfg.MaxDelay + 2*time.Second
	next := 0
	for now := tickPhase; now < end; now += FrameDuration {
		for next < len(tr.Packets) && tr.Packets[next].At <= now {
			p := tr.Packets[next]
			next++
			// Unique per packet and equal for duplicates, as real
			// payloads are.
			payload := make([]byte, p.Size)
			id := uint64(p.Sent / FrameDuration)
			for i := 0; i < len(payload) && i < 3; i++ {
				payload[i] = byte(id >> (8 * i))
			}
			if err := b.Push(p.Seq, p.Frames, payload, p.Terminator, epoch.Add(p.At)); err != nil {
				return res, fmt.Errorf("replay %s: %w", tr.Name, err)
			}
		}
		f := b.Next(epoch.Add(now))
		if f.Kind == Decode {
			d := epoch.Add(now).Sub(f.Arrival)
			added = append(added, d)
			res.Played += f.Frames
			m := int(now / time.Minute)
			for len(minuteSum) <= m {
				minuteSum = append(minuteSum, 0)
				minuteN = append(minuteN, 0)
			}
			minuteSum[m] += d
			minuteN[m]++
		}
		if b.Active() {
			res.MaxDelayMs = max(res.MaxDelayMs, ms(b.stats.Delay))
		}
	}
	res.Stats = b.Stats()
	if res.Frames > 0 {
		res.LateLossPct = 100 * float64(res.Frames-res.Played) / float64(res.Frames)
		res.ConcealedPct = 100 * float64(res.Stats.Concealed) / float64(res.Frames)
	}
	if len(added) > 0 {
		var sum time.Duration
		for _, d := range added {
			sum += d
		}
		res.AddedDelayMeanMs = ms(sum / time.Duration(len(added)))
		slices.Sort(added)
		q := func(p float64) float64 { return ms(added[int(p*float64(len(added)-1))]) }
		res.AddedDelayP50Ms, res.AddedDelayP95Ms, res.AddedDelayMaxMs = q(0.5), q(0.95), q(1)
	}
	for i := range minuteSum {
		v := 0.0
		if minuteN[i] > 0 {
			v = ms(minuteSum[i] / time.Duration(minuteN[i]))
		}
		res.MinuteAddedMs = append(res.MinuteAddedMs, v)
	}
	return res, nil
}
