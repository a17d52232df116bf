package mobile

import (
	"fmt"
	"sync"
	"time"
)

// MicState is where the microphone permission stands.
type MicState int

// Microphone permission states.
const (
	// MicUnknown: not checked yet.
	MicUnknown MicState = iota
	// MicGranted: Tumble may record.
	MicGranted
	// MicAsking: the system's dialog was requested; the answer is read
	// when Tumble returns to the foreground.
	MicAsking
	// MicDenied: the user refused; asking again shows the dialog again.
	MicDenied
	// MicBlocked: the user refused and Android will not ask again; only
	// the app's settings page can grant it.
	MicBlocked
)

// String returns the state's name.
func (s MicState) String() string {
	switch s {
	case MicUnknown:
		return "unknown"
	case MicGranted:
		return "granted"
	case MicAsking:
		return "asking"
	case MicDenied:
		return "denied"
	case MicBlocked:
		return "blocked"
	}
	return fmt.Sprintf("MicState(%d)", int(s))
}

// Message is the text to show for the state; empty when there is nothing
// to say (unknown or granted).
func (s MicState) Message() string {
	switch s {
	case MicAsking:
		return "Android is asking whether Tumble may use the microphone."
	case MicDenied:
		return "Microphone access denied: you can listen, but nobody hears you. " +
			"Tap \u201cAllow microphone\u201d to be asked again."
	case MicBlocked:
		return "Microphone access is off for Tumble and Android will not ask again: " +
			"open Settings \u203a Apps \u203a Tumble \u203a Permissions \u203a Microphone and allow it " +
			"(\u201cOpen settings\u201d takes you there). You can listen meanwhile."
	}
	return ""
}

// Action is the label of the button that moves the state on, or empty.
func (s MicState) Action() string {
	switch s {
	case MicUnknown, MicDenied:
		return "Allow microphone"
	case MicBlocked:
		return "Open settings"
	}
	return ""
}

// DefaultSettleTime is how long Microphone waits, after requesting, for
// the system dialog to take the foreground before it concludes that
// Android answered without one (the user had refused for good).
const DefaultSettleTime = 2 * time.Second

// Microphone runs the RECORD_AUDIO request flow. Its methods are safe for
// concurrent use. Keeper tells it about foreground changes; without a
// Keeper call Foreground yourself.
type Microphone struct {
	p        Platform
	onChange func(MicState)
	settle   time.Duration

	mu         sync.Mutex
	state      MicState
	asked      bool // requested at least once in this process
	dialogSeen bool // the app left the foreground while asking
	gen        int  // request generation, for the settle timer
	changed    bool // state changed since the last notification
}

// NewMicrophone returns the flow over p. onChange, if set, is called
// after the state changed, with the state at that moment, from the
// goroutine that changed it (never with Microphone's lock held).
func NewMicrophone(p Platform, onChange func(MicState)) *Microphone {
	return &Microphone{p: p, onChange: onChange, settle: DefaultSettleTime}
}

// SetSettleTime changes DefaultSettleTime for this flow.
func (m *Microphone) SetSettleTime(d time.Duration) {
	m.mu.Lock()
	m.settle = d
	m.mu.Unlock()
}

// State returns the current state.
func (m *Microphone) State() MicState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Ensure is called before Tumble needs the microphone (at start and when
// connecting). Granted stays granted; otherwise the dialog is requested,
// unless it is showing now, the user refused it in this run (only Act asks
// again: no nagging on every connect) or Android will not show it.
func (m *Microphone) Ensure() (MicState, error) {
	m.mu.Lock()
	defer m.unlockNotify()
	ok, err := m.p.MicrophoneGranted()
	if err != nil {
		return m.state, fmt.Errorf("mobile: check microphone permission: %w", err)
	}
	switch {
	case ok:
		m.setLocked(MicGranted)
	case m.state == MicAsking:
		// The dialog is up; its answer comes with Foreground.
	case m.state == MicDenied, m.state == MicBlocked:
		// Re-read: the user may have allowed it in the settings.
		m.readAnswerLocked()
	default:
		return m.requestLocked()
	}
	return m.state, nil
}

// Act is the user's tap on MicState.Action: ask again, or open the
// settings page when Android will not ask.
func (m *Microphone) Act() (MicState, error) {
	m.mu.Lock()
	defer m.unlockNotify()
	switch m.state {
	case MicBlocked:
		if err := m.p.OpenAppSettings(); err != nil {
			return m.state, fmt.Errorf("mobile: open app settings: %w", err)
		}
		// The answer is read when Tumble is back in the foreground.
		m.asked, m.dialogSeen = true, false
		return m.state, nil
	case MicGranted, MicAsking:
		return m.state, nil
	}
	return m.requestLocked()
}

// requestLocked shows the dialog and starts the settle timer.
func (m *Microphone) requestLocked() (MicState, error) {
	if err := m.p.RequestMicrophone(); err != nil {
		return m.state, fmt.Errorf("mobile: request microphone permission: %w", err)
	}
	m.asked, m.dialogSeen = true, false
	m.gen++
	gen := m.gen
	m.setLocked(MicAsking)
	time.AfterFunc(m.settle, func() { m.settleAfter(gen) })
	return m.state, nil
}

// settleAfter reads the answer if no dialog took the foreground since the
// request gen: Android then answered by itself.
func (m *Microphone) settleAfter(gen int) {
	m.mu.Lock()
	defer m.unlockNotify()
	if m.gen != gen || m.state != MicAsking || m.dialogSeen {
		return
	}
	m.readAnswerLocked()
}

// Background is called when Tumble leaves the foreground: while asking,
// that is the dialog appearing.
func (m *Microphone) Background() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == MicAsking {
		m.dialogSeen = true
	}
}

// Foreground is called when Tumble is back in the foreground: after the
// dialog or the settings page, the answer is read.
func (m *Microphone) Foreground() MicState {
	m.mu.Lock()
	defer m.unlockNotify()
	if m.asked {
		m.readAnswerLocked()
	} else if ok, err := m.p.MicrophoneGranted(); err == nil && ok {
		// Granted meanwhile (e.g. in the settings before the first ask).
		m.setLocked(MicGranted)
	}
	return m.state
}

// readAnswerLocked turns the platform's answer into a state.
func (m *Microphone) readAnswerLocked() {
	ok, err := m.p.MicrophoneGranted()
	if err != nil {
		return // keep the state; the next Ensure reports the error
	}
	if ok {
		m.setLocked(MicGranted)
		return
	}
	explain, err := m.p.ShouldExplainMicrophone()
	if err != nil {
		return
	}
	if explain {
		m.setLocked(MicDenied)
	} else {
		m.setLocked(MicBlocked)
	}
}

func (m *Microphone) setLocked(s MicState) {
	if m.state != s {
		m.state, m.changed = s, true
	}
}

// unlockNotify releases the lock and then reports a change.
func (m *Microphone) unlockNotify() {
	s, changed := m.state, m.changed
	m.changed = false
	m.mu.Unlock()
	if changed && m.onChange != nil {
		m.onChange(s)
	}
}
