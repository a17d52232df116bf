package mobile

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// phone stands in for the phone's system (no device can run here): it
// answers like PackageManager, Activity, the audiofx classes and
// AudioManager do, and a test plays the user by setting the answer the
// permission dialog will give.
type phone struct {
	mu        sync.Mutex
	granted   bool
	explain   bool // shouldShowRequestPermissionRationale
	neverAsk  bool // the user chose "don't ask again": no dialog
	answer    bool // what the user taps in the next dialog
	requests  int
	settings  int
	failCheck error

	api     int     // Build.VERSION.SDK_INT; 0 means 34
	fx      Effects // the audiofx effects isAvailable reports
	fxErr   error   // VoiceEffects fails with it
	fxReads int     // VoiceEffects calls
	modeErr error   // SetCommunicationMode fails with it (mode unchanged)
	mode    []bool  // SetCommunicationMode calls that succeeded
}

func (p *phone) APILevel() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.api == 0 {
		return 34
	}
	return p.api
}

func (p *phone) MicrophoneGranted() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.granted, p.failCheck
}

func (p *phone) ShouldExplainMicrophone() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.explain, nil
}

// RequestMicrophone records the request; the dialog's outcome is applied
// by dialog() (the user answering), or at once when Android will not ask.
func (p *phone) RequestMicrophone() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	return nil
}

// dialog is the user answering the dialog Android showed.
func (p *phone) dialog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.granted = p.answer
	// Android: after one refusal the rationale flag is set; after a
	// refusal with "don't ask again" it is clear again.
	p.explain = !p.answer && !p.neverAsk
}

func (p *phone) OpenAppSettings() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings++
	return nil
}

func (p *phone) VoiceEffects() (Effects, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fxReads++
	if p.fxErr != nil {
		return Effects{}, p.fxErr
	}
	return p.fx, nil
}

func (p *phone) SetCommunicationMode(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.modeErr != nil {
		return p.modeErr
	}
	p.mode = append(p.mode, on)
	return nil
}

// modes returns the successful SetCommunicationMode calls.
func (p *phone) modes() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.mode...)
}

// states collects Microphone's notifications.
type states struct {
	mu  sync.Mutex
	got []MicState
}

func (s *states) add(m MicState) {
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
}

func (s *states) list() []MicState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]MicState(nil), s.got...)
}

func TestMicrophoneAlreadyGranted(t *testing.T) {
	p := &phone{granted: true}
	var seen states
	m := NewMicrophone(p, seen.add)
	st, err := m.Ensure()
	if err != nil || st != MicGranted {
		t.Fatalf("Ensure = %v, %v; want granted", st, err)
	}
	if p.requests != 0 {
		t.Errorf("%d requests for a granted permission", p.requests)
	}
	if got := seen.list(); len(got) != 1 || got[0] != MicGranted {
		t.Errorf("notifications %v, want [granted]", got)
	}
	if st.Message() != "" || st.Action() != "" {
		t.Errorf("granted shows %q / %q", st.Message(), st.Action())
	}
}

func TestMicrophoneAskGrant(t *testing.T) {
	p := &phone{answer: true}
	m := NewMicrophone(p, nil)
	st, err := m.Ensure()
	if err != nil || st != MicAsking || p.requests != 1 {
		t.Fatalf("Ensure = %v, %v with %d requests; want asking after 1 request", st, err, p.requests)
	}
	// A second Ensure while the dialog is up must not ask twice.
	if st, _ := m.Ensure(); st != MicAsking || p.requests != 1 {
		t.Fatalf("second Ensure = %v with %d requests", st, p.requests)
	}
	m.Background() // the dialog takes the foreground
	p.dialog()
	if st := m.Foreground(); st != MicGranted {
		t.Fatalf("after the user allowed: %v", st)
	}
}

func TestMicrophoneDenyThenAllow(t *testing.T) {
	p := &phone{answer: false}
	var seen states
	m := NewMicrophone(p, seen.add)
	m.Ensure()
	m.Background()
	p.dialog()
	st := m.Foreground()
	if st != MicDenied {
		t.Fatalf("after a refusal: %v, want denied", st)
	}
	if st.Message() == "" || st.Action() != "Allow microphone" {
		t.Errorf("denied: message %q, action %q", st.Message(), st.Action())
	}
	// Connecting again does not nag: only the user's tap asks again.
	if st, err := m.Ensure(); err != nil || st != MicDenied || p.requests != 1 {
		t.Fatalf("Ensure after a refusal = %v, %v with %d requests; want denied, 1 request", st, err, p.requests)
	}
	// Tapping "Allow microphone" asks again.
	p.answer = true
	if st, err := m.Act(); err != nil || st != MicAsking || p.requests != 2 {
		t.Fatalf("Act = %v, %v with %d requests", st, err, p.requests)
	}
	m.Background()
	p.dialog()
	if st := m.Foreground(); st != MicGranted {
		t.Fatalf("after allowing: %v", st)
	}
	want := []MicState{MicAsking, MicDenied, MicAsking, MicGranted}
	if got := seen.list(); !equalStates(got, want) {
		t.Errorf("notifications %v, want %v", got, want)
	}
}

// TestMicrophoneBlockedWithoutDialog: the user refused for good in an
// earlier run; Android answers the request without showing a dialog, so
// Tumble never leaves the foreground. The settle timer must read the
// answer, and the state must be blocked with the way to the settings.
func TestMicrophoneBlockedWithoutDialog(t *testing.T) {
	p := &phone{neverAsk: true}
	var seen states
	m := NewMicrophone(p, seen.add)
	m.SetSettleTime(20 * time.Millisecond)
	if st, _ := m.Ensure(); st != MicAsking {
		t.Fatalf("Ensure = %v", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for m.State() != MicBlocked && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := m.State()
	if st != MicBlocked {
		t.Fatalf("state %v after the settle time, want blocked", st)
	}
	if st.Action() != "Open settings" || st.Message() == "" {
		t.Errorf("blocked: message %q, action %q", st.Message(), st.Action())
	}
	// Ensure does not ask again when Android will not show the dialog.
	if st, _ := m.Ensure(); st != MicBlocked || p.requests != 1 {
		t.Errorf("Ensure when blocked = %v with %d requests", st, p.requests)
	}
	// "Open settings", the user allows it there, and comes back.
	if _, err := m.Act(); err != nil || p.settings != 1 {
		t.Fatalf("Act when blocked: %v, %d settings pages", err, p.settings)
	}
	m.Background()
	p.mu.Lock()
	p.granted = true
	p.mu.Unlock()
	if st := m.Foreground(); st != MicGranted {
		t.Errorf("after allowing in the settings: %v", st)
	}
}

// TestMicrophoneSettleWaitsForDialog: when the dialog did appear (Tumble
// left the foreground), the settle timer must not decide before the user
// answered.
func TestMicrophoneSettleWaitsForDialog(t *testing.T) {
	p := &phone{}
	m := NewMicrophone(p, nil)
	m.SetSettleTime(10 * time.Millisecond)
	m.Ensure()
	m.Background()
	time.Sleep(60 * time.Millisecond)
	if st := m.State(); st != MicAsking {
		t.Fatalf("state %v while the dialog is up, want asking", st)
	}
	p.answer = true
	p.dialog()
	if st := m.Foreground(); st != MicGranted {
		t.Fatalf("after the answer: %v", st)
	}
}

func TestMicrophoneCheckError(t *testing.T) {
	boom := errors.New("binder died")
	p := &phone{failCheck: boom}
	m := NewMicrophone(p, nil)
	if _, err := m.Ensure(); !errors.Is(err, boom) {
		t.Fatalf("Ensure error %v, want %v", err, boom)
	}
	if p.requests != 0 {
		t.Error("requested after a failed check")
	}
}

func TestMicStateStrings(t *testing.T) {
	for s := MicUnknown; s <= MicBlocked; s++ {
		if s.String() == "" || s.String()[0] == 'M' {
			t.Errorf("state %d has name %q", int(s), s.String())
		}
	}
	if MicState(99).String() != "MicState(99)" {
		t.Error(MicState(99).String())
	}
}

func equalStates(a, b []MicState) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
