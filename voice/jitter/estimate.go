package jitter

import "time"

// minWindow is the minimum of the values pushed during the last span of
// time: a monotonic deque over a fixed ring, so pushes are amortised O(1)
// and memory is bounded. When the ring is full the oldest candidate is
// forgotten, which can only make the minimum larger, never wrong by more
// than the values still held.
type minWindow struct {
	span time.Duration
	at   []time.Duration
	v    []time.Duration
	head int
	n    int
}

func newMinWindow(span time.Duration, size int) minWindow {
	return minWindow{span: span, at: make([]time.Duration, size), v: make([]time.Duration, size)}
}

func (w *minWindow) idx(i int) int { return (w.head + i) % len(w.v) }

// push records value v observed at time at and expires values older than
// span (always keeping the newest).
func (w *minWindow) push(at, v time.Duration) {
	for w.n > 0 && w.v[w.idx(w.n-1)] >= v {
		w.n--
	}
	if w.n == len(w.v) {
		w.head = w.idx(1)
		w.n--
	}
	i := w.idx(w.n)
	w.at[i], w.v[i] = at, v
	w.n++
	for w.n > 1 && at-w.at[w.head] > w.span {
		w.head = w.idx(1)
		w.n--
	}
}

// min returns the current minimum; ok is false when nothing was pushed.
func (w *minWindow) min() (v time.Duration, ok bool) {
	if w.n == 0 {
		return 0, false
	}
	return w.v[w.head], true
}

// quantile estimates a quantile of the last len(ring) samples with a
// histogram of fixed-width bins; the last bin collects everything above.
type quantile struct {
	width  time.Duration
	counts []uint32
	ring   []uint16
	next   int
	n      int
}

func newQuantile(width, max time.Duration, window int) quantile {
	bins := int(max/width) + 2
	return quantile{width: width, counts: make([]uint32, bins), ring: make([]uint16, window)}
}

func (q *quantile) add(d time.Duration) {
	b := 0
	if d > 0 {
		b = int(d / q.width)
		if b >= len(q.counts) || b < 0 {
			b = len(q.counts) - 1
		}
	}
	if q.n == len(q.ring) {
		q.counts[q.ring[q.next]]--
	} else {
		q.n++
	}
	q.ring[q.next] = uint16(b)
	q.counts[b]++
	q.next++
	if q.next == len(q.ring) {
		q.next = 0
	}
}

// value returns the upper edge of the bin holding the p-quantile, or 0
// when there are no samples.
func (q *quantile) value(p float64) time.Duration {
	if q.n == 0 {
		return 0
	}
	need := uint32(p*float64(q.n) + 0.5)
	if need < 1 {
		need = 1
	}
	var sum uint32
	for b, c := range q.counts {
		sum += c
		if sum >= need {
			return time.Duration(b+1) * q.width
		}
	}
	return time.Duration(len(q.counts)) * q.width
}
