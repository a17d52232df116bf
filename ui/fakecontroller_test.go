package ui

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tumble-voip/tumble/app"
)

// fakeController is a Controller serving canned state, for layout tests
// that need no app.Controller: no configuration directory, no Tor, no
// sound. Bookmarks and settings live in memory (settings are validated
// by app, as the real controller does); every other intent is recorded in
// calls, and local volumes in volumes. Tests that need the real behaviour
// (connecting, saving to disk) use newController.
type fakeController struct {
	mu        sync.Mutex
	state     app.State
	settings  app.Settings
	bookmarks []app.Bookmark
	devices   app.SoundDevices
	watchers  map[chan struct{}]bool
	calls     []string
	volumes   []volumeCall
	nextID    int
	mic       app.MicLevel // what MicLevel returns (fakemic_test.go)
}

// volumeCall is one SetUserVolume call.
type volumeCall struct {
	session uint32
	v       float64
	final   bool
}

var _ Controller = (*fakeController)(nil)

// newFakeController returns a fake showing st, with the default settings
// and the given bookmarks (IDs are given to those without one).
func newFakeController(st app.State, bookmarks ...app.Bookmark) *fakeController {
	c := &fakeController{state: st, settings: app.DefaultSettings(), watchers: map[chan struct{}]bool{}}
	for _, b := range bookmarks {
		if b.ID == "" {
			b.ID = c.newID()
		}
		b.Normalize()
		c.bookmarks = append(c.bookmarks, b)
	}
	return c
}

func (c *fakeController) newID() string {
	c.nextID++
	return fmt.Sprintf("fake-%d", c.nextID)
}

// setState replaces the canned state and signals the watchers, as the real
// controller does after a change.
func (c *fakeController) setState(st app.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = st
	c.notifyLocked()
}

func (c *fakeController) notifyLocked() {
	for ch := range c.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (c *fakeController) record(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

// callsSoFar returns the recorded calls so far.
func (c *fakeController) callsSoFar() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// volumeCalls returns the SetUserVolume calls so far.
func (c *fakeController) volumeCalls() []volumeCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.volumes)
}

func (c *fakeController) State() app.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *fakeController) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	c.watchers[ch] = true
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.watchers, ch)
			c.mu.Unlock()
			close(ch)
		})
	}
}

func (c *fakeController) Bookmarks() []app.Bookmark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.bookmarks)
}

func (c *fakeController) index(id string) int {
	return slices.IndexFunc(c.bookmarks, func(b app.Bookmark) bool { return b.ID == id })
}

var errNoBookmark = errors.New("ui fake controller: no such bookmark")

func (c *fakeController) SaveBookmark(b app.Bookmark) (app.Bookmark, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b.Normalize()
	if b.ID == "" {
		b.ID = c.newID()
		c.bookmarks = append(c.bookmarks, b)
		return b, nil
	}
	i := c.index(b.ID)
	if i < 0 {
		return app.Bookmark{}, errNoBookmark
	}
	c.bookmarks[i] = b
	return b, nil
}

func (c *fakeController) DeleteBookmark(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.index(id)
	if i < 0 {
		return errNoBookmark
	}
	c.bookmarks = slices.Delete(c.bookmarks, i, i+1)
	return nil
}

func (c *fakeController) MoveBookmark(id string, to int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.index(id)
	if i < 0 || to < 0 || to >= len(c.bookmarks) {
		return errNoBookmark
	}
	b := c.bookmarks[i]
	c.bookmarks = slices.Insert(slices.Delete(c.bookmarks, i, i+1), to, b)
	return nil
}

func (c *fakeController) ImportLink(link string) (app.Bookmark, error) {
	c.record("ImportLink " + link)
	return app.Bookmark{}, errors.ErrUnsupported
}

func (c *fakeController) NewCircuit(id string) error {
	c.record("NewCircuit " + id)
	return nil
}

func (c *fakeController) ForgetCertificate(id string) error {
	c.record("ForgetCertificate " + id)
	return nil
}

func (c *fakeController) Settings() app.Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings.Clone()
}

func (c *fakeController) SetSettings(s app.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings = s.Clone()
	return nil
}

func (c *fakeController) SoundDevices() (app.SoundDevices, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.devices, nil
}

func (c *fakeController) Connect(id string)    { c.record("Connect " + id) }
func (c *fakeController) Cancel()              { c.record("Cancel") }
func (c *fakeController) Disconnect()          { c.record("Disconnect") }
func (c *fakeController) TrustNewCertificate() { c.record("TrustNewCertificate") }
func (c *fakeController) AnswerCertificate(a app.CertificateAnswer) {
	c.record(fmt.Sprintf("AnswerCertificate(%d)", a))
}
func (c *fakeController) StopReconnect() { c.record("StopReconnect") }

func (c *fakeController) Join(channelID uint32) error {
	c.record(fmt.Sprintf("Join %d", channelID))
	return nil
}

func (c *fakeController) SendChat(text string) error {
	c.record("SendChat " + text)
	return nil
}

func (c *fakeController) SetSelfMute(on bool)     { c.record(fmt.Sprintf("SetSelfMute %v", on)) }
func (c *fakeController) SetSelfDeaf(on bool)     { c.record(fmt.Sprintf("SetSelfDeaf %v", on)) }
func (c *fakeController) PushToTalk(pressed bool) { c.record(fmt.Sprintf("PushToTalk %v", pressed)) }

func (c *fakeController) SetUserVolume(session uint32, v float64, final bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.volumes = append(c.volumes, volumeCall{session, v, final})
}

func (c *fakeController) SetUserMute(session uint32, muted bool) {
	c.record(fmt.Sprintf("SetUserMute %d %v", session, muted))
}

func (c *fakeController) ExportBookmark(id, path, passphrase string) error {
	c.record("ExportBookmark(" + id + ")")
	return nil
}

func (c *fakeController) ImportBookmarkFile(path, passphrase string) (app.Bookmark, error) {
	c.record("ImportBookmarkFile")
	return app.Bookmark{}, errors.New("fake: no bookmark files")
}

func (c *fakeController) Register() error      { c.record("Register"); return nil }
func (c *fakeController) WipeSavedData() error { c.record("WipeSavedData"); return nil }
func (c *fakeController) RetryNow()            { c.record("RetryNow") }

func (c *fakeController) SendPrivate(session uint32, text string) error {
	c.record(fmt.Sprintf("SendPrivate(%d)", session))
	return nil
}
