package mobile

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
)

// hooks reads back the hooks a Keeper installed on Fyne's own lifecycle
// type (the one the mobile driver calls).
type hooks interface {
	OnEnteredForeground() func()
	OnExitedForeground() func()
	OnStopped() func()
}

// screen records SetDisableScreenBlanking calls (the display is hardware).
type screen struct {
	mu    sync.Mutex
	calls []bool
}

func (s *screen) SetDisableScreenBlanking(disable bool) {
	s.mu.Lock()
	s.calls = append(s.calls, disable)
	s.mu.Unlock()
}

func (s *screen) list() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bool(nil), s.calls...)
}

// newController starts a real controller that needs no network: Tor
// off, null sound devices, nothing written to disk.
func newController(t *testing.T) *app.Controller {
	t.Helper()
	ctrl, err := app.NewController(context.Background(), app.ControllerConfig{
		ConfigDir:    t.TempDir(),
		Amnesic:      true,
		TorMode:      "off",
		AudioBackend: app.AudioNull,
	})
	if err != nil {
		t.Fatalf("NewController: %v", err)
	}
	return ctrl
}

func TestKeeperKeepsTheCallInBackground(t *testing.T) {
	a := test.NewTempApp(t)
	lc, ok := a.Lifecycle().(hooks)
	if !ok {
		t.Fatalf("test app lifecycle %T has no hook getters", a.Lifecycle())
	}
	ctrl := newController(t)
	var closes, exits atomic.Int32
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	scr := &screen{}
	ph := &phone{granted: true}
	mic := NewMicrophone(ph, nil)
	var fg, bg atomic.Int32
	k, err := NewKeeper(KeeperConfig{
		Lifecycle:    a.Lifecycle(),
		Close:        func() error { closes.Add(1); note("close"); return ctrl.Close() },
		Exit:         func() { exits.Add(1); note("exit") },
		Screen:       scr,
		Microphone:   mic,
		OnForeground: func() { fg.Add(1) },
		OnBackground: func() { bg.Add(1) },
		Logf:         t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}

	k.SetInCall(true)
	k.SetInCall(true) // no second acquisition
	if got := scr.list(); len(got) != 1 || !got[0] {
		t.Fatalf("screen blanking calls %v, want [true]", got)
	}

	// Screen off / another app: nothing is closed, the call measures stay.
	lc.OnExitedForeground()()
	if k.InForeground() || !k.InCall() {
		t.Errorf("after exiting the foreground: foreground %v, in call %v", k.InForeground(), k.InCall())
	}
	if closes.Load() != 0 {
		t.Fatal("exiting the foreground closed audio and Tor")
	}
	// The controller is still open and usable.
	if err := ctrl.SetSettings(ctrl.Settings()); err != nil {
		t.Fatalf("controller after exiting the foreground: %v", err)
	}
	lc.OnEnteredForeground()()
	if !k.InForeground() || fg.Load() != 1 || bg.Load() != 1 {
		t.Errorf("foreground %v, chained hooks fg %d bg %d", k.InForeground(), fg.Load(), bg.Load())
	}

	// The activity is destroyed: close once, then exit.
	lc.OnStopped()()
	if closes.Load() != 1 || exits.Load() != 1 {
		t.Fatalf("after stop: %d closes, %d exits", closes.Load(), exits.Load())
	}
	if err := ctrl.Close(); !errors.Is(err, app.ErrControllerClosed) {
		t.Errorf("controller not closed by the stop hook: second Close = %v", err)
	}
	mu.Lock()
	if len(order) != 2 || order[0] != "close" || order[1] != "exit" {
		t.Errorf("order %v, want close then exit", order)
	}
	mu.Unlock()
	if got := scr.list(); len(got) != 2 || got[1] {
		t.Errorf("screen blanking calls %v, want [true false]", got)
	}
	// The voice-call audio mode is AudioPlatform's, not Keeper's.
	if mode := ph.modes(); len(mode) != 0 {
		t.Errorf("Keeper switched the communication mode: %v", mode)
	}
	// After the stop nothing takes the call measures again.
	k.SetInCall(true)
	if k.InCall() {
		t.Error("in call after stop")
	}
	if err := k.Close(); err != nil || closes.Load() != 1 {
		t.Errorf("second Close: %v, %d closes", err, closes.Load())
	}
}

func TestKeeperCloseTimeout(t *testing.T) {
	a := test.NewTempApp(t)
	release := make(chan struct{})
	defer close(release)
	k, err := NewKeeper(KeeperConfig{
		Lifecycle:    a.Lifecycle(),
		Close:        func() error { <-release; return nil },
		CloseTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = k.Close()
	if err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Close of a stuck closer: %v after %v", err, time.Since(start))
	}
}

func TestKeeperNeedsLifecycleAndClose(t *testing.T) {
	a := test.NewTempApp(t)
	if _, err := NewKeeper(KeeperConfig{Close: func() error { return nil }}); err == nil {
		t.Error("no lifecycle accepted")
	}
	if _, err := NewKeeper(KeeperConfig{Lifecycle: a.Lifecycle()}); err == nil {
		t.Error("no Close accepted")
	}
}

// TestKeeperFollow follows a real controller: idle is not a call, and
// Follow ends (releasing the call measures) when the controller closes.
func TestKeeperFollow(t *testing.T) {
	a := test.NewTempApp(t)
	ctrl := newController(t)
	scr := &screen{}
	k, err := NewKeeper(KeeperConfig{Lifecycle: a.Lifecycle(), Close: ctrl.Close, Screen: scr})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { k.Follow(context.Background(), ctrl); close(done) }()
	time.Sleep(50 * time.Millisecond)
	if k.InCall() {
		t.Error("idle controller counted as a call")
	}
	// A follower stub that reports connected, to see SetInCall follow.
	src := &fixedState{phase: app.PhaseConnected, ch: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { k.Follow(ctx, src); close(done2) }()
	deadline := time.Now().Add(5 * time.Second)
	for !k.InCall() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !k.InCall() {
		t.Fatal("connected state did not take the call measures")
	}
	src.set(app.PhaseDisconnected)
	deadline = time.Now().Add(5 * time.Second)
	for k.InCall() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if k.InCall() {
		t.Error("disconnected state kept the call measures")
	}
	cancel()
	<-done2

	if err := ctrl.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after the controller closed")
	}
}

// fixedState is a StateSource whose phase the test sets.
type fixedState struct {
	mu    sync.Mutex
	phase app.Phase
	ch    chan struct{}
}

func (f *fixedState) State() app.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return app.State{Phase: f.phase}
}

func (f *fixedState) Watch() (<-chan struct{}, func()) { return f.ch, func() {} }

func (f *fixedState) set(p app.Phase) {
	f.mu.Lock()
	f.phase = p
	f.mu.Unlock()
	select {
	case f.ch <- struct{}{}:
	default:
	}
}
