package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time only moves when the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	created chan struct{} // one value per NewTimer call
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), created: make(chan struct{}, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{c: make(chan time.Time, 1), when: c.now.Add(d), clock: c}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.created <- struct{}{}
	return t
}

// Advance moves time forward and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.when.After(c.now) {
			t.c <- c.now
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
}

// waitTimer waits until the code under test has created a timer.
func (c *fakeClock) waitTimer(t *testing.T) {
	t.Helper()
	select {
	case <-c.created:
	case <-time.After(10 * time.Second):
		t.Fatal("no timer was created")
	}
}

type fakeTimer struct {
	c     chan time.Time
	when  time.Time
	clock *fakeClock
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	for i, x := range t.clock.timers {
		if x == t {
			t.clock.timers = append(t.clock.timers[:i], t.clock.timers[i+1:]...)
			return true
		}
	}
	return false
}

func TestBackoffDelays(t *testing.T) {
	p := DefaultBackoffPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	// No jitter drawn (r = 0): 2 s doubling, capped at 5 min.
	want := []time.Duration{2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	var total time.Duration
	for i, w := range want {
		if got := p.Delay(i+1, 0); got != w*time.Second {
			t.Errorf("Delay(%d, 0) = %v, want %v", i+1, got, w*time.Second)
		}
		total += p.Delay(i+1, 0)
	}
	t.Logf("default policy: %d attempts over at most %v", p.MaxAttempts, total)
	// Full jitter draw shortens by 20 %; never below, never above.
	if got := p.Delay(1, 0.999999); got < 1600*time.Millisecond || got > 2*time.Second {
		t.Errorf("Delay(1, ~1) = %v, want within [1.6s, 2s]", got)
	}
	if got := p.Delay(3, 0.5); got != 7200*time.Millisecond {
		t.Errorf("Delay(3, 0.5) = %v, want 7.2s", got)
	}
	if got := p.Delay(1000, 0); got != 5*time.Minute {
		t.Errorf("Delay(1000) = %v, want the cap", got)
	}
	if got := p.Delay(0, 0); got != 2*time.Second {
		t.Errorf("Delay(0) = %v", got)
	}
	// Successive delays never shrink with a fixed draw: it is never a
	// fixed interval.
	for n := 1; n < 8; n++ {
		if p.Delay(n+1, 0.3) <= p.Delay(n, 0.3) {
			t.Errorf("delay %d not longer than delay %d", n+1, n)
		}
	}
}

func TestBackoffPolicyValidate(t *testing.T) {
	for name, mod := range map[string]func(*BackoffPolicy){
		"fast":        func(p *BackoffPolicy) { p.Initial = 100 * time.Millisecond },
		"max<initial": func(p *BackoffPolicy) { p.Max = time.Second },
		"fixed":       func(p *BackoffPolicy) { p.Multiplier = 1 },
		"jitter":      func(p *BackoffPolicy) { p.Jitter = 0.9 },
		"attempts":    func(p *BackoffPolicy) { p.MaxAttempts = 0 },
	} {
		p := DefaultBackoffPolicy()
		mod(&p)
		if p.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := NewReconnector(p, nil); err == nil {
			t.Errorf("%s: NewReconnector accepted", name)
		}
	}
}

func TestCountdownTicks(t *testing.T) {
	clock := newFakeClock()
	p := DefaultBackoffPolicy()
	p.Initial = 3 * time.Second
	r, err := NewReconnector(p, clock)
	if err != nil {
		t.Fatal(err)
	}
	r.rand = func() float64 { return 0 }
	c, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if c.Attempt != 1 || c.MaxAttempts != 10 || c.Delay != 3*time.Second || !c.Deadline.Equal(clock.Now().Add(3*time.Second)) {
		t.Fatalf("countdown %+v", c)
	}
	for _, want := range []time.Duration{3 * time.Second, 2 * time.Second, time.Second} {
		if got := <-c.C; got != want {
			t.Fatalf("tick %v, want %v", got, want)
		}
		if c.Err() != nil {
			t.Fatal("Err set while running")
		}
		clock.waitTimer(t)
		clock.Advance(time.Second)
	}
	if v, ok := <-c.C; ok {
		t.Fatalf("extra tick %v after the countdown elapsed", v)
	}
	if err := c.Wait(context.Background()); err != nil {
		t.Fatalf("Wait = %v, want nil (attempt due)", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed")
	}
}

func TestCountdownFractionalSeconds(t *testing.T) {
	clock := newFakeClock()
	p := DefaultBackoffPolicy()
	r, _ := NewReconnector(p, clock)
	r.rand = func() float64 { return 0.75 } // 2 s * (1 - 0.2*0.75) = 1.7 s
	c, _ := r.Next()
	if c.Delay != 1700*time.Millisecond {
		t.Fatalf("delay %v", c.Delay)
	}
	if got := <-c.C; got != 2*time.Second {
		t.Fatalf("first tick %v, want 2s (rounded up)", got)
	}
	clock.waitTimer(t)
	clock.Advance(699 * time.Millisecond)
	select {
	case v := <-c.C:
		t.Fatalf("tick %v before a second boundary", v)
	default:
	}
	clock.Advance(time.Millisecond)
	if got := <-c.C; got != time.Second {
		t.Fatalf("tick %v, want 1s", got)
	}
	clock.waitTimer(t)
	clock.Advance(time.Second)
	if err := c.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReconnectorStopAndReset(t *testing.T) {
	clock := newFakeClock()
	r, _ := NewReconnector(DefaultBackoffPolicy(), clock)
	r.rand = func() float64 { return 0 }
	c, _ := r.Next()
	<-c.C
	clock.waitTimer(t)
	r.Stop() // the user presses "stop reconnecting"
	for range c.C {
	}
	if err := c.Err(); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("Err = %v, want ErrReconnectStopped", err)
	}
	if err := c.Wait(context.Background()); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("Wait = %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("Next after Stop = %v", err)
	}
	r.Reset()
	if r.Attempts() != 0 {
		t.Fatal("Reset kept the attempt count")
	}
	c, err := r.Next()
	if err != nil || c.Delay != 2*time.Second {
		t.Fatalf("after Reset: %v, delay %v; want the initial wait again", err, c.Delay)
	}
	// Stopping one countdown directly; stopping twice is harmless.
	c.Stop()
	c.Stop()
	if err := c.Wait(context.Background()); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("Wait after Countdown.Stop = %v", err)
	}
	// Wait honours its context and leaves the countdown running.
	c, _ = r.Next()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with cancelled context = %v", err)
	}
	if c.Err() != nil {
		t.Fatal("countdown ended by a cancelled Wait")
	}
	// Next stops the previous countdown.
	c2, _ := r.Next()
	if err := c.Wait(context.Background()); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("previous countdown after Next: %v", err)
	}
	r.Reset()
	if err := c2.Wait(context.Background()); !errors.Is(err, ErrReconnectStopped) {
		t.Fatalf("countdown after Reset: %v", err)
	}
}

func TestReconnectorGivesUp(t *testing.T) {
	clock := newFakeClock()
	p := DefaultBackoffPolicy()
	p.MaxAttempts = 4
	r, _ := NewReconnector(p, clock)
	r.rand = func() float64 { return 0 }
	var delays []time.Duration
	for i := 0; i < 4; i++ {
		c, err := r.Next()
		if err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		delays = append(delays, c.Delay)
		if c.Attempt != i+1 {
			t.Errorf("Attempt = %d, want %d", c.Attempt, i+1)
		}
		// Run the countdown to its end on the fake clock.
		for range c.C {
			clock.waitTimer(t)
			clock.Advance(time.Second)
		}
		if err := c.Err(); err != nil {
			t.Fatalf("countdown %d: %v", i+1, err)
		}
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	for i := range want {
		if delays[i] != want[i] {
			t.Errorf("delays %v, want %v", delays, want)
			break
		}
	}
	if _, err := r.Next(); !errors.Is(err, ErrReconnectExhausted) {
		t.Fatalf("Next after %d attempts = %v, want ErrReconnectExhausted", p.MaxAttempts, err)
	}
	if r.Attempts() != 4 {
		t.Errorf("Attempts = %d", r.Attempts())
	}
}

func TestCountdownSlowReaderGetsLatest(t *testing.T) {
	clock := newFakeClock()
	p := DefaultBackoffPolicy()
	p.Initial = 10 * time.Second
	r, _ := NewReconnector(p, clock)
	r.rand = func() float64 { return 0 }
	c, _ := r.Next()
	// Nobody reads for 3 seconds: the countdown must not block.
	for i := 0; i < 3; i++ {
		clock.waitTimer(t)
		clock.Advance(time.Second)
	}
	clock.waitTimer(t) // the 4th timer exists, so the 7 s tick was published
	if got := <-c.C; got != 7*time.Second {
		t.Fatalf("slow reader got %v, want the latest value 7s", got)
	}
	c.Stop()
}

func TestSystemClockCountdown(t *testing.T) {
	// One real, short countdown on the system clock (1 s is the policy's
	// minimum); the fake clock covers the rest.
	if testing.Short() {
		t.Skip("waits one second")
	}
	p := DefaultBackoffPolicy()
	p.Initial, p.Jitter = time.Second, 0
	r, err := NewReconnector(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Next()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("1 s countdown over after %v", d)
	}
}
