package tornet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"net"
	"sort"
	"sync"
	"time"
)

// A Profile describes the links of an emulated network: every OR connection
// (relay to relay, and each client's or onion service's link to its guard)
// crosses a delay proxy that applies it. A link's one-way delay is drawn once
// per connection, the same in both directions; jitter, the bandwidth cap and
// stalls apply to each direction on its own. Data always leaves a proxy in
// the order it entered (TCP order is kept): jitter only ever delays a chunk
// past the one before it, never reorders.
//
// Where the numbers come from. Published measurements of latency between
// live Tor relays:
//
//   - F. Cangialosi, D. Levin, N. Spring, "Ting: Measuring and Exploiting
//     Latencies Between All Tor Nodes", ACM IMC 2015: round-trip times
//     between all pairs of a large set of relays.
//   - D. Schatz, M. Rossberg, G. Schaefer, "Optimizing Packet Scheduling and
//     Path Selection for Anonymous Voice Calls", ARES 2021, with the dataset
//     "Large-scale Latency Measurements in the Tor Network",
//     doi:10.5281/zenodo.4911583 (one-way delays between relay pairs,
//     measured 2019-12 to 2021-01, 100 samples per pair).
//
// Both show link delays spread over tens to a few hundred milliseconds with
// a long right tail (relays cluster in Europe and North America; links
// across the Atlantic or to other continents form the tail). A link's
// one-way delay is therefore drawn from a log-normal distribution: median
// DelayMedian, shape DelaySigma, clamped to [DelayMin, DelayMax]. The three
// profiles' medians and spreads were chosen to bracket that range (a path
// inside one region, a typical mixed path, a path with intercontinental
// hops and a loaded relay); they are not a fit to the datasets.
type Profile struct {
	Name string

	DelayMedian time.Duration // one-way delay of a link: log-normal median
	DelaySigma  float64       // log-normal shape (standard deviation of ln delay)
	DelayMin    time.Duration // clamp of the drawn delay
	DelayMax    time.Duration

	// Jitter is the mean of an exponentially distributed extra delay of
	// each chunk (queueing in the relay and on the path).
	Jitter time.Duration
	// Bandwidth caps each direction of a link, in bytes per second; 0 is
	// no cap.
	Bandwidth int
	// StallEvery is the mean time between stalls of one direction of a
	// link (exponentially distributed; 0: no stalls); StallFor is how long
	// each holds everything back (a TCP retransmission timeout, a busy
	// relay).
	StallEvery, StallFor time.Duration

	// Seed makes the draws repeatable: the same seed gives every link of
	// a network the same delays in every run (links are numbered by the
	// order in which each relay accepts them).
	Seed uint64
}

// profiles are the named profiles of ProfileByName.
var profiles = map[string]Profile{
	// Every hop inside one region: Ting's and Schatz et al.'s short links.
	"fast": {
		Name: "fast", DelayMedian: 10 * time.Millisecond, DelaySigma: 0.5,
		DelayMin: 2 * time.Millisecond, DelayMax: 40 * time.Millisecond,
		Jitter: 1 * time.Millisecond, Bandwidth: 5 << 20, Seed: 1,
	},
	// A mixed path: the body of the measured distributions.
	"typical": {
		Name: "typical", DelayMedian: 35 * time.Millisecond, DelaySigma: 0.6,
		DelayMin: 5 * time.Millisecond, DelayMax: 150 * time.Millisecond,
		Jitter: 4 * time.Millisecond, Bandwidth: 1 << 20,
		StallEvery: 20 * time.Second, StallFor: 120 * time.Millisecond, Seed: 2,
	},
	// Intercontinental hops and busy relays: the tail.
	"bad": {
		Name: "bad", DelayMedian: 70 * time.Millisecond, DelaySigma: 0.7,
		DelayMin: 15 * time.Millisecond, DelayMax: 300 * time.Millisecond,
		Jitter: 12 * time.Millisecond, Bandwidth: 200 << 10,
		StallEvery: 8 * time.Second, StallFor: 300 * time.Millisecond, Seed: 3,
	},
}

// ProfileNames returns the names ProfileByName accepts, sorted.
func ProfileNames() []string {
	var names []string
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ProfileByName returns the profile called name: "fast", "typical" or
// "bad".
func ProfileByName(name string) (Profile, error) {
	p, ok := profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("tornet: unknown network profile %q (have %v)", name, ProfileNames())
	}
	return p, nil
}

// validate reports a profile that cannot be applied.
func (p Profile) validate() error {
	switch {
	case p.DelayMedian < 0 || p.DelayMin < 0 || p.Jitter < 0 || p.StallEvery < 0 || p.StallFor < 0:
		return fmt.Errorf("tornet: profile %q: negative duration", p.Name)
	case p.DelayMax != 0 && p.DelayMax < p.DelayMin:
		return fmt.Errorf("tornet: profile %q: DelayMax %v < DelayMin %v", p.Name, p.DelayMax, p.DelayMin)
	case p.DelaySigma < 0 || math.IsNaN(p.DelaySigma) || math.IsInf(p.DelaySigma, 0):
		return fmt.Errorf("tornet: profile %q: bad DelaySigma %v", p.Name, p.DelaySigma)
	case p.Bandwidth < 0:
		return fmt.Errorf("tornet: profile %q: negative bandwidth", p.Name)
	}
	return nil
}

// linkDelay draws a link's one-way delay.
func (p Profile) linkDelay(rng *mathrand.Rand) time.Duration {
	d := time.Duration(float64(p.DelayMedian) * math.Exp(p.DelaySigma*rng.NormFloat64()))
	d = max(d, p.DelayMin)
	if p.DelayMax > 0 {
		d = min(d, p.DelayMax)
	}
	return d
}

// expDuration draws an exponentially distributed duration of the given
// mean (0 for a zero mean).
func expDuration(rng *mathrand.Rand, mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	return time.Duration(rng.ExpFloat64() * float64(mean))
}

// A DelayProxy is a TCP forwarder that applies a Profile to every
// connection it accepts and forwards to a target address.
type DelayProxy struct {
	ln      net.Listener
	profile Profile
	stream  uint64 // seeds this proxy's links: (profile seed, stream<<32|link)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	target string // where to forward; "" until SetTarget
	ready  chan struct{}
	links  int
	conns  map[net.Conn]struct{}
	delays []time.Duration // drawn one-way delay of each link, in accept order
}

// NewDelayProxy listens on 127.0.0.1 (a port chosen by the kernel) and
// forwards every connection to target with the delays of p; stream
// distinguishes the proxies of one network so that each draws its own
// repeatable delays. If target is empty, connections wait until SetTarget.
func NewDelayProxy(p Profile, stream uint64, target string) (*DelayProxy, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tornet: delay proxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &DelayProxy{ln: ln, profile: p, stream: stream, ctx: ctx, cancel: cancel,
		ready: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	if target != "" {
		d.SetTarget(target)
	}
	d.wg.Go(d.accept)
	return d, nil
}

// Addr returns the proxy's listening address.
func (d *DelayProxy) Addr() string { return d.ln.Addr().String() }

// Port returns the proxy's listening port.
func (d *DelayProxy) Port() int { return d.ln.Addr().(*net.TCPAddr).Port }

// SetTarget sets (or changes) the address connections are forwarded to.
func (d *DelayProxy) SetTarget(addr string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.target = addr
	select {
	case <-d.ready:
	default:
		close(d.ready)
	}
}

// LinkDelays returns the one-way delay drawn for each link so far, in the
// order the links were accepted.
func (d *DelayProxy) LinkDelays() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.delays...)
}

// Close stops accepting, closes every open link and waits for the proxy's
// goroutines.
func (d *DelayProxy) Close() error {
	d.cancel()
	err := d.ln.Close()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
	return err
}

func (d *DelayProxy) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		link := d.links
		d.links++
		d.mu.Unlock()
		d.wg.Go(func() { d.serve(c, link) })
	}
}

// track adds c to the open connections, or closes it and returns false if
// the proxy is closing.
func (d *DelayProxy) track(c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx.Err() != nil {
		c.Close()
		return false
	}
	d.conns[c] = struct{}{}
	return true
}

func (d *DelayProxy) untrack(c net.Conn) {
	d.mu.Lock()
	delete(d.conns, c)
	d.mu.Unlock()
	c.Close()
}

// serve forwards one link.
func (d *DelayProxy) serve(in net.Conn, link int) {
	if !d.track(in) {
		return
	}
	defer d.untrack(in)
	select {
	case <-d.ready:
	case <-d.ctx.Done():
		return
	}
	d.mu.Lock()
	target := d.target
	d.mu.Unlock()
	var dialer net.Dialer
	out, err := dialer.DialContext(d.ctx, "tcp4", target)
	if err != nil {
		return
	}
	if !d.track(out) {
		return
	}
	defer d.untrack(out)

	rng := mathrand.New(mathrand.NewPCG(d.profile.Seed, d.stream<<32|uint64(link)))
	delay := d.profile.linkDelay(rng)
	d.mu.Lock()
	d.delays = append(d.delays, delay)
	d.mu.Unlock()
	// Each direction draws from its own generator, seeded from the link's.
	up := newShaper(d.profile, delay, mathrand.New(mathrand.NewPCG(rng.Uint64(), rng.Uint64())))
	down := newShaper(d.profile, delay, mathrand.New(mathrand.NewPCG(rng.Uint64(), rng.Uint64())))
	var wg sync.WaitGroup
	wg.Go(func() { d.pipe(out, in, up) })
	wg.Go(func() { d.pipe(in, out, down) })
	wg.Wait()
}

// A chunk is data read from one side, due on the other side at due.
type chunk struct {
	data []byte
	due  time.Time
}

// chunkSize bounds one read: small enough that the bandwidth cap and jitter
// apply at the granularity of a few Tor cells (514 bytes each).
const chunkSize = 4096

// queueLen bounds the chunks in flight in one direction; a full queue stops
// reading, so TCP's flow control reaches the sender.
const queueLen = 512

// pipe copies src to dst, each chunk held back until the time the shaper
// gives it. When src ends, dst's write side is closed once everything is
// delivered; an error on either side closes both.
func (d *DelayProxy) pipe(dst, src net.Conn, s *shaper) {
	q := make(chan chunk, queueLen)
	done := make(chan struct{})
	go func() { // joined through done below
		defer close(done)
		timer := time.NewTimer(0)
		defer timer.Stop()
		for c := range q {
			if wait := time.Until(c.due); wait > 0 {
				timer.Reset(wait)
				select {
				case <-timer.C:
				case <-d.ctx.Done():
					return
				}
			}
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			c := chunk{data: buf[:n], due: s.due(time.Now(), n)}
			select {
			case q <- c:
			case <-done:
				err = io.ErrClosedPipe
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			break
		}
	}
	close(q)
	<-done
}

// A shaper computes when each chunk of one direction of a link is due.
type shaper struct {
	p         Profile
	delay     time.Duration
	rng       *mathrand.Rand
	free      time.Time // when the (capped) link has sent everything so far
	last      time.Time // due time of the previous chunk
	nextStall time.Time
}

func newShaper(p Profile, delay time.Duration, rng *mathrand.Rand) *shaper {
	return &shaper{p: p, delay: delay, rng: rng}
}

// due returns when n bytes read at now are to be written out: after the
// link's serialisation at the bandwidth cap, its one-way delay and a
// jitter draw, never before the previous chunk, and not during a stall.
func (s *shaper) due(now time.Time, n int) time.Time {
	if s.p.StallEvery > 0 && s.nextStall.IsZero() {
		s.nextStall = now.Add(expDuration(s.rng, s.p.StallEvery))
	}
	sent := now
	if s.p.Bandwidth > 0 {
		sent = maxTime(now, s.free).Add(time.Duration(float64(n) / float64(s.p.Bandwidth) * float64(time.Second)))
		s.free = sent
	}
	due := sent.Add(s.delay + expDuration(s.rng, s.p.Jitter))
	for s.p.StallEvery > 0 && !due.Before(s.nextStall) {
		end := s.nextStall.Add(s.p.StallFor)
		if due.Before(end) {
			due = end
		}
		s.nextStall = end.Add(expDuration(s.rng, s.p.StallEvery))
	}
	due = maxTime(due, s.last)
	s.last = due
	return due
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
