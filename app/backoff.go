package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Clock is the time source of the reconnect countdown; tests pass a fake
// one instead of sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer a Clock returns.
type Timer interface {
	// C returns the channel the fire time is sent on.
	C() <-chan time.Time
	// Stop prevents the timer from firing; see time.Timer.Stop.
	Stop() bool
}

// SystemClock returns the Clock of package time.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

// Now returns time.Now().
func (systemClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer.
func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

// C returns the timer's channel.
func (t systemTimer) C() <-chan time.Time { return t.t.C }

// Stop stops the timer.
func (t systemTimer) Stop() bool { return t.t.Stop() }

// BackoffPolicy is how automatic reconnection waits between attempts: the
// first wait is Initial, each later one Multiplier times longer up to Max,
// each shortened by a random fraction of up to Jitter so that clients do
// not retry in lockstep, and after MaxAttempts failed attempts it gives up.
// It is never a fixed, endless interval.
type BackoffPolicy struct {
	// Initial is the wait before the first attempt (at least 1 s).
	Initial time.Duration
	// Max caps the wait (at least Initial).
	Max time.Duration
	// Multiplier grows the wait after each failure (at least 1.5).
	Multiplier float64
	// Jitter is the largest fraction (0-0.5) a wait is randomly shortened by.
	Jitter float64
	// MaxAttempts is the number of attempts before giving up (at least 1).
	MaxAttempts int
}

// DefaultBackoffPolicy returns 2 s doubling up to 5 min, up to 20 % jitter,
// 10 attempts (about 18 minutes in all).
func DefaultBackoffPolicy() BackoffPolicy {
	return BackoffPolicy{
		Initial:     2 * time.Second,
		Max:         5 * time.Minute,
		Multiplier:  2,
		Jitter:      0.2,
		MaxAttempts: 10,
	}
}

// Validate checks the policy.
func (p BackoffPolicy) Validate() error {
	switch {
	case p.Initial < time.Second:
		return fmt.Errorf("app: backoff: initial wait %v is below 1s", p.Initial)
	case p.Max < p.Initial:
		return fmt.Errorf("app: backoff: maximum wait %v is below the initial wait %v", p.Max, p.Initial)
	case math.IsNaN(p.Multiplier) || p.Multiplier < 1.5 || p.Multiplier > 10:
		return fmt.Errorf("app: backoff: multiplier %v is outside 1.5-10", p.Multiplier)
	case math.IsNaN(p.Jitter) || p.Jitter < 0 || p.Jitter > 0.5:
		return fmt.Errorf("app: backoff: jitter %v is outside 0-0.5", p.Jitter)
	case p.MaxAttempts < 1:
		return fmt.Errorf("app: backoff: at most %d attempts; there must be at least 1", p.MaxAttempts)
	}
	return nil
}

// Delay returns the wait before attempt n (1-based), given r in [0, 1) as
// the random draw: min(Initial*Multiplier^(n-1), Max) * (1 - Jitter*r).
func (p BackoffPolicy) Delay(n int, r float64) time.Duration {
	if n < 1 {
		n = 1
	}
	base := float64(p.Initial) * math.Pow(p.Multiplier, float64(n-1))
	if base > float64(p.Max) || math.IsInf(base, 0) || math.IsNaN(base) {
		base = float64(p.Max)
	}
	r = math.Min(math.Max(r, 0), 1)
	return time.Duration(base * (1 - p.Jitter*r))
}

// ErrReconnectStopped is returned once the user stopped reconnecting.
var ErrReconnectStopped = errors.New("reconnecting stopped")

// ErrReconnectExhausted is returned when the policy's attempts are used up.
var ErrReconnectExhausted = errors.New("gave up reconnecting")

// Reconnector hands out the countdowns before successive reconnection
// attempts following a BackoffPolicy. A session calls Next after each lost
// connection or failed attempt, shows the countdown, attempts when it
// elapses, and calls Reset once connected. Stop (the user's "stop
// reconnecting") ends the current countdown and refuses further attempts
// until Reset. A Reconnector is safe for concurrent use.
type Reconnector struct {
	policy BackoffPolicy
	clock  Clock
	rand   func() float64

	mu       sync.Mutex
	attempts int
	stopped  bool
	current  *Countdown
}

// NewReconnector returns a Reconnector for p using clock (SystemClock if
// nil).
func NewReconnector(p BackoffPolicy, clock Clock) (*Reconnector, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = SystemClock()
	}
	return &Reconnector{policy: p, clock: clock, rand: rand.Float64}, nil
}

// Policy returns the policy.
func (r *Reconnector) Policy() BackoffPolicy { return r.policy }

// Attempts returns how many countdowns Next has handed out since the last
// Reset.
func (r *Reconnector) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Next starts the countdown before the next attempt. It fails with
// ErrReconnectStopped after Stop and with ErrReconnectExhausted once
// MaxAttempts countdowns were handed out. A countdown still running is
// stopped first.
func (r *Reconnector) Next() (*Countdown, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return nil, ErrReconnectStopped
	}
	if r.attempts >= r.policy.MaxAttempts {
		return nil, fmt.Errorf("app: %w after %d attempts", ErrReconnectExhausted, r.attempts)
	}
	if r.current != nil {
		r.current.Stop()
	}
	r.attempts++
	d := r.policy.Delay(r.attempts, r.rand())
	c := newCountdown(r.clock, r.attempts, r.policy.MaxAttempts, d)
	r.current = c
	return c, nil
}

// Stop stops the current countdown (its Err becomes ErrReconnectStopped) and
// makes Next fail until Reset.
func (r *Reconnector) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.current != nil {
		r.current.Stop()
	}
}

// Reset starts over: the next wait is Initial again and Stop is undone. Call
// it after a successful connection or when the user connects by hand.
func (r *Reconnector) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != nil {
		r.current.Stop()
		r.current = nil
	}
	r.attempts = 0
	r.stopped = false
}

// Countdown is the visible wait before one reconnection attempt.
type Countdown struct {
	// Attempt is the number of the attempt this countdown leads to (1-based).
	Attempt int
	// MaxAttempts is the policy's limit, for "attempt 3 of 10".
	MaxAttempts int
	// Delay is the whole wait.
	Delay time.Duration
	// Deadline is when the attempt is due.
	Deadline time.Time
	// C receives the remaining time, rounded up to whole seconds, at once
	// and then every second ("reconnecting in 4 s"). A slow reader only
	// misses intermediate values. C is closed when the countdown is over:
	// Err then says whether it elapsed (nil) or was stopped.
	C <-chan time.Duration

	clock Clock
	ch    chan time.Duration
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

func newCountdown(clock Clock, attempt, max int, d time.Duration) *Countdown {
	ch := make(chan time.Duration, 1)
	c := &Countdown{
		Attempt:     attempt,
		MaxAttempts: max,
		Delay:       d,
		Deadline:    clock.Now().Add(d),
		C:           ch,
		clock:       clock,
		ch:          ch,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	go c.run()
	return c
}

// run publishes the remaining seconds until the deadline or Stop.
func (c *Countdown) run() {
	defer close(c.ch)
	for {
		select {
		case <-c.stop: // a Stop racing with the timer wins
			c.finish(ErrReconnectStopped)
			return
		default:
		}
		rem := c.Deadline.Sub(c.clock.Now())
		if rem <= 0 {
			c.finish(nil)
			return
		}
		secs := (rem + time.Second - 1) / time.Second
		c.publish(secs * time.Second)
		t := c.clock.NewTimer(rem - (secs-1)*time.Second)
		select {
		case <-t.C():
		case <-c.stop:
			t.Stop()
			c.finish(ErrReconnectStopped)
			return
		}
	}
}

// publish sends v on ch, replacing a value nobody has read yet.
func (c *Countdown) publish(v time.Duration) {
	for {
		select {
		case c.ch <- v:
			return
		default:
		}
		select {
		case <-c.ch:
		default:
		}
	}
}

func (c *Countdown) finish(err error) {
	c.err = err
	close(c.done)
}

// Stop ends the countdown early; the attempt must not be made. Stopping a
// finished countdown does nothing.
func (c *Countdown) Stop() {
	c.once.Do(func() { close(c.stop) })
}

// Done returns a channel closed when the countdown is over.
func (c *Countdown) Done() <-chan struct{} { return c.done }

// Err returns nil if the countdown elapsed, ErrReconnectStopped if it was
// stopped, or nil while it is running.
func (c *Countdown) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Wait blocks until the countdown is over or ctx is done. It returns nil
// when the attempt is due, ErrReconnectStopped if stopped, or ctx's error
// (the countdown keeps running then).
func (c *Countdown) Wait(ctx context.Context) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
