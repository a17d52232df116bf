package mobile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tumble-voip/tumble/app"
)

// Screen is the part of fyne.Driver that Keeper uses.
type Screen interface {
	// SetDisableScreenBlanking keeps the display on (true) or lets it
	// blank again (false).
	SetDisableScreenBlanking(disable bool)
}

// DefaultCloseTimeout bounds how long Keeper waits for Close when the app
// stops.
const DefaultCloseTimeout = 10 * time.Second

// KeeperConfig configures a Keeper.
type KeeperConfig struct {
	// Lifecycle is the app's lifecycle (fyne.App.Lifecycle()). Keeper
	// takes its entered-foreground, exited-foreground and stopped hooks;
	// OnForeground and OnBackground chain further. Required.
	Lifecycle fyne.Lifecycle
	// Close releases audio and Tor (app.Controller.Close). It is called
	// once, when the app stops. Required.
	Close func() error
	// CloseTimeout bounds the wait for Close. If zero,
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Exit, if set, is called after Close returned or timed out. On
	// Android it should end the process (os.Exit(0)): the embedded Tor
	// cannot start a second time in one process, and Android would reuse
	// the process for the next launch of the app.
	Exit func()

	// Screen, if set, is kept from blanking during a call
	// (fyne.App.Driver()). The audio system's voice-call mode is not
	// Keeper's: AudioPlatform.AudioActive follows the sound devices.
	Screen Screen
	// Microphone, if set, learns when Tumble leaves and re-enters the
	// foreground (the permission dialog's answer).
	Microphone *Microphone

	// OnForeground and OnBackground, if set, are called after Keeper's
	// own handling of the corresponding lifecycle event.
	OnForeground, OnBackground func()
	// Logf, if set, receives a line for each thing Keeper does.
	Logf func(format string, args ...any)
}

// Keeper keeps a call going whatever the screen does and ends everything
// cleanly when the app stops; see the package documentation.
type Keeper struct {
	cfg KeeperConfig

	mu         sync.Mutex
	foreground bool
	inCall     bool
	stopped    bool

	closeOnce sync.Once
	closeErr  error
}

// NewKeeper installs the Keeper's lifecycle hooks.
func NewKeeper(cfg KeeperConfig) (*Keeper, error) {
	if cfg.Lifecycle == nil {
		return nil, errors.New("mobile: Keeper needs the app's Lifecycle")
	}
	if cfg.Close == nil {
		return nil, errors.New("mobile: Keeper needs a Close function")
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	k := &Keeper{cfg: cfg, foreground: true}
	cfg.Lifecycle.SetOnEnteredForeground(k.enteredForeground)
	cfg.Lifecycle.SetOnExitedForeground(k.exitedForeground)
	cfg.Lifecycle.SetOnStopped(k.stop)
	return k, nil
}

// InForeground reports whether Tumble is in the foreground.
func (k *Keeper) InForeground() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.foreground
}

// InCall reports whether Keeper holds the call measures (screen on).
func (k *Keeper) InCall() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.inCall
}

// enteredForeground: the screen is back on, or Tumble is in front again.
func (k *Keeper) enteredForeground() {
	k.mu.Lock()
	k.foreground = true
	k.mu.Unlock()
	k.logf("foreground")
	if k.cfg.Microphone != nil {
		k.cfg.Microphone.Foreground()
	}
	if k.cfg.OnForeground != nil {
		k.cfg.OnForeground()
	}
}

// exitedForeground: screen off, another app in front, or a system dialog.
// Audio and Tor keep running: this is where a Fyne app must NOT stop them.
func (k *Keeper) exitedForeground() {
	k.mu.Lock()
	k.foreground = false
	inCall := k.inCall
	k.mu.Unlock()
	if inCall {
		k.logf("background: the call goes on")
	} else {
		k.logf("background")
	}
	if k.cfg.Microphone != nil {
		k.cfg.Microphone.Background()
	}
	if k.cfg.OnBackground != nil {
		k.cfg.OnBackground()
	}
}

// SetInCall takes (true) or releases (false) the call measures: the
// screen stays on while a call is up. Repeated calls with the same value
// do nothing.
func (k *Keeper) SetInCall(in bool) {
	k.mu.Lock()
	if k.inCall == in || (in && k.stopped) {
		k.mu.Unlock()
		return
	}
	k.inCall = in
	k.mu.Unlock()
	if k.cfg.Screen != nil {
		k.cfg.Screen.SetDisableScreenBlanking(in)
	}
	k.logf("in call: %v", in)
}

// StateSource is the part of app.Controller that Follow reads.
type StateSource interface {
	State() app.State
	Watch() (<-chan struct{}, func())
}

// Follow keeps SetInCall in step with the controller: in a call while
// connected. It returns when ctx ends or the controller closes its watch
// channel (Close), releasing the call measures.
func (k *Keeper) Follow(ctx context.Context, src StateSource) {
	ch, cancel := src.Watch()
	defer cancel()
	defer k.SetInCall(false)
	k.SetInCall(src.State().Phase == app.PhaseConnected)
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			k.SetInCall(src.State().Phase == app.PhaseConnected)
		}
	}
}

// stop is Fyne's stopped hook: on Android the activity was destroyed.
func (k *Keeper) stop() {
	k.mu.Lock()
	k.stopped = true
	k.mu.Unlock()
	k.SetInCall(false)
	err := k.Close()
	if err != nil {
		k.logf("close: %v", err)
	}
	if k.cfg.Exit != nil {
		k.logf("exit")
		k.cfg.Exit()
	}
}

// Close calls the configured Close once, waiting at most CloseTimeout,
// and returns its result (later calls return the same).
func (k *Keeper) Close() error {
	k.closeOnce.Do(func() {
		done := make(chan error, 1)
		go func() { done <- k.cfg.Close() }()
		t := time.NewTimer(k.cfg.CloseTimeout)
		defer t.Stop()
		select {
		case err := <-done:
			k.closeErr = err
		case <-t.C:
			k.closeErr = fmt.Errorf("mobile: closing audio and Tor took longer than %v", k.cfg.CloseTimeout)
		}
		k.logf("closed audio and Tor")
	})
	return k.closeErr
}

func (k *Keeper) logf(format string, args ...any) {
	if k.cfg.Logf != nil {
		k.cfg.Logf("mobile: "+format, args...)
	}
}
