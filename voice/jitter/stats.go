package jitter

import "time"

// Stats counts what a Buffer did. Frame counts are in 10 ms frames.
type Stats struct {
	// Packets is the number of packets accepted into the buffer.
	Packets uint64
	// Played is the number of received frames handed out for playback
	// (Decode and Continue).
	Played uint64
	// Concealed is the number of Conceal frames: a frame was due and
	// missing, so the decoder's loss concealment filled in.
	Concealed uint64
	// Late is the number of frames that arrived after their playout time,
	// or that would have needed more than MaxDelay, and were discarded.
	Late uint64
	// Dropped is the number of frames discarded to bring the delay back to
	// the target.
	Dropped uint64
	// DroppedQuiet is the part of Dropped that was quiet (silence, a
	// breath: packets with under 60 % of the bytes of the speaker's loud
	// ones), shed first because nobody hears it go.
	DroppedQuiet uint64
	// Duplicates is the number of packets received twice.
	Duplicates uint64
	// Rejected is the number of packets refused: malformed, or too far
	// ahead of playback to be stored.
	Rejected uint64
	// Spurts is the number of talk spurts started.
	Spurts uint64
	// Remaps is the number of times the sender's sequence numbers restarted
	// or jumped and were mapped onto the continuous frame counter.
	Remaps uint64
	// Renumbered is the number of times the buffer changed its reading of
	// how the sender numbers packets (see FramesPerSeq).
	Renumbered uint64
	// FramesPerSeq is the number of 10 ms frames one step of the sender's
	// sequence number currently stands for: 1 for a sender that counts
	// frames (the official client), the packet length for one that counts
	// packets (gumble-based bots, some web clients).
	FramesPerSeq int
	// Delay is the current playout delay beyond the fastest recent path
	// (the base), as of the last call to Next.
	Delay time.Duration
	// Target is the delay the buffer is steering towards.
	Target time.Duration
	// Jitter is the configured percentile of recent packet jitter.
	Jitter time.Duration
	// Added is the distribution of the delay the buffer added to each
	// played packet: playout time of its first frame minus arrival time.
	Added Histogram
}

// LossPct returns the percentage of received frames that were not played
// (late or dropped), relative to all frames that arrived.
func (s Stats) LossPct() float64 {
	return s.pctOfReceived(s.Late + s.Dropped)
}

// SpeechLossPct is LossPct without the quiet frames shed on purpose
// (DroppedQuiet): the audible part of the loss.
func (s Stats) SpeechLossPct() float64 {
	return s.pctOfReceived(s.Late + s.Dropped - s.DroppedQuiet)
}

// pctOfReceived returns n as a percentage of the frames that arrived.
func (s Stats) pctOfReceived(n uint64) float64 {
	total := s.Played + s.Late + s.Dropped
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// HistogramBin is the width of a Histogram bin.
const HistogramBin = 5 * time.Millisecond

// histogramBins covers 0..1 s; the last bin counts everything above.
const histogramBins = 201

// Histogram is a distribution of durations in 5 ms bins from 0 to 1 s,
// plus one bin for everything longer. The zero value is empty.
type Histogram struct {
	// Bins[i] counts durations in [i*5ms, (i+1)*5ms); the last bin counts
	// everything from 1 s up.
	Bins [histogramBins]uint32
	// Count is the number of samples.
	Count uint64
	// Sum is the sum of all samples.
	Sum time.Duration
	// Max is the largest sample.
	Max time.Duration
}

// Add records one sample; negative durations count as zero.
func (h *Histogram) Add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	b := int(d / HistogramBin)
	if b >= histogramBins || b < 0 {
		b = histogramBins - 1
	}
	h.Bins[b]++
	h.Count++
	h.Sum += d
	if d > h.Max {
		h.Max = d
	}
}

// Mean returns the mean sample, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// Quantile returns the upper edge of the bin holding the p-quantile
// (0 < p <= 1), at most Max; 0 when empty.
func (h *Histogram) Quantile(p float64) time.Duration {
	if h.Count == 0 {
		return 0
	}
	need := uint64(p*float64(h.Count) + 0.5)
	if need < 1 {
		need = 1
	}
	var sum uint64
	for b, c := range h.Bins {
		sum += uint64(c)
		if sum >= need {
			if b == histogramBins-1 {
				return h.Max
			}
			return min(time.Duration(b+1)*HistogramBin, h.Max)
		}
	}
	return h.Max
}
