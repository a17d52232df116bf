package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/cretz/bine/process"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
	"github.com/tumble-voip/tumble/voice"
)

// ControllerConfig configures a Controller. The zero value is usable: real
// sound devices, settings and bookmarks in DefaultConfigDir, the Tor mode
// from the settings.
type ControllerConfig struct {
	// ConfigDir is where bookmarks, settings and the embedded Tor's state
	// live. If empty, DefaultConfigDir.
	ConfigDir string
	// Amnesic keeps bookmarks and settings in memory only and gives Tor a
	// temporary data directory: nothing is written to disk, not even
	// ConfigDir itself. Amnesic mode also starts from empty bookmarks and
	// default settings. Saved settings with Privacy.Amnesic turn it on too
	// (then the saved bookmarks and settings are read once and changes
	// stay in memory).
	Amnesic bool
	// TorMode overrides the settings' Tor mode (the --tor flag): "embedded",
	// "socks=HOST:PORT" or "off". If empty, the settings decide. "off" is
	// the only way to connect without Tor besides choosing it in the
	// settings; State.Tor.Protected is then false.
	TorMode string
	// Torrc holds extra torrc lines for the embedded Tor (tests: a private
	// Tor network).
	Torrc []string
	// AllowTestingTor lets Torrc turn on TestingTorNetwork.
	AllowTestingTor bool
	// TorCreator runs the embedded Tor: libtor.Creator() in builds with
	// -tags libtor. If nil, the embedded mode fails with a clear Problem.
	TorCreator process.Creator
	// Environment is what DetectEnvironment found; it chooses the default
	// Tor mode (the Whonix gateway's SOCKS port on a Whonix workstation)
	// when no settings were saved yet. The zero value is a plain system.
	Environment Environment

	// AudioBackend selects the sound devices: real ones (the default),
	// null devices, WAV files, or none.
	AudioBackend AudioBackend
	// AudioInputFile is the WAV file (48 kHz mono 16-bit) captured from
	// with AudioFile; empty captures silence.
	AudioInputFile string
	// AudioOutputFile is the WAV file played into with AudioFile; empty
	// discards the playback.
	AudioOutputFile string
	// AudioPlatform, if set, adapts the system sound devices to the
	// platform (Android's voice-call audio); nil on desktops.
	AudioPlatform voice.Platform

	// ConnectTimeout bounds dialing, the TLS handshake and the server's
	// initial state transfer. If zero, the mumble package's default (90 s),
	// generous for onion services.
	ConnectTimeout time.Duration
	// Clock drives the reconnect countdown. If nil, the system clock.
	Clock Clock
	// Logf, if set, receives diagnostic messages (never secrets).
	Logf func(format string, args ...any)
}

// Controller is the app's session controller: it owns the bookmarks, the
// settings, the Tor servers and at most one session, and exposes
// everything as a State snapshot that a user interface renders, plus
// intents it calls. The current session owns its part of the state (see
// session); the Controller adds Tor's status. All methods are safe for
// concurrent use; none blocks on the network except Join and
// NewController, and none holds a lock while writing to disk.
type Controller struct {
	cfg     ControllerConfig
	ctx     context.Context // the controller's lifetime
	stop    context.CancelFunc
	storage Storage
	amnesic bool
	// amnesicSaved: amnesic because the saved settings ask for it (not
	// --amnesic or a disposable VM); leaving it is written to disk.
	amnesicSaved bool
	// dir is the persistent configuration directory (also in amnesic
	// mode: WipeSavedData and leaving saved amnesia use it).
	dir   string
	store *BookmarkStore
	tors  *torServers
	clock Clock
	env   *sessionEnv

	// saveMu orders the writes of the settings file, so that the last
	// change is the one on disk. It is never held with mu, and readers
	// of the state never wait for it.
	saveMu sync.Mutex

	mu        sync.Mutex
	settings  Settings
	tor       TorStatus   // the status of torCur, or of the idle mode
	torCur    *tor.Server // server of the current or last session
	idleAudio string      // State.Audio outside a connection
	watchers  map[chan struct{}]struct{}
	sess      *session // current session, nil when idle
	chats     chatHistory
	mic       micTest // the microphone test (mictest.go)
	closed    bool
	sessions  sync.WaitGroup

	host roomHost // the hosted room (roomhost.go)
}

// ErrControllerClosed is returned by intents after Close.
var ErrControllerClosed = errors.New("app: controller closed")

// ErrNotConnected is returned by intents that need a connection.
var ErrNotConnected = errors.New("app: not connected")

// ErrLinkNeedsUsername is returned by ImportLink for a link without a user
// name; the parsed bookmark is returned with it so the user can add one and
// save it with SaveBookmark.
var ErrLinkNeedsUsername = errors.New("app: the link names no user; choose a user name")

// NewController opens the storage (creating ConfigDir unless amnesic),
// loads settings and bookmarks and returns an idle Controller. A malformed
// bookmark or settings file is an error (matching ErrMalformedFile) and the
// file is left untouched. ctx bounds the controller's life like Close.
func NewController(ctx context.Context, cfg ControllerConfig) (*Controller, error) {
	cfg.Torrc = append([]string(nil), cfg.Torrc...)
	if cfg.TorMode != "" {
		if _, err := resolveTorChoice(cfg.TorMode, Network{}); err != nil {
			return nil, err
		}
	}
	if err := cfg.AudioBackend.Validate(); err != nil {
		return nil, err
	}
	amnesic := cfg.Amnesic
	var (
		st       Storage
		settings Settings
		dir      = cfg.ConfigDir
	)
	amnesicSaved := false
	if amnesic {
		st = NewMemoryStorage()
		settings = cfg.Environment.DefaultSettings()
		settings.Privacy.Amnesic = true // the Privacy tab shows the truth
		if dir == "" {
			dir, _ = DefaultConfigDir() // only for WipeSavedData; "" if none
		}
	} else {
		if dir == "" {
			d, err := DefaultConfigDir()
			if err != nil {
				return nil, err
			}
			dir = d
		}
		ds, err := NewDirStorage(dir)
		if err != nil {
			return nil, err
		}
		dir = ds.Dir()
		st = ds
		settings, err = loadSettingsOrDefault(ds, cfg.Environment)
		if err != nil {
			return nil, err
		}
		if settings.Privacy.Amnesic {
			// Read what was saved once; keep every change in memory.
			mem, err := copyToMemory(ds, BookmarksFile, SettingsFile)
			if err != nil {
				return nil, err
			}
			st, amnesic, amnesicSaved = mem, true, true
		}
	}
	store, err := OpenBookmarkStore(st)
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = SystemClock()
	}
	cctx, stop := context.WithCancel(ctx)
	c := &Controller{
		cfg:          cfg,
		ctx:          cctx,
		stop:         stop,
		storage:      st,
		amnesic:      amnesic,
		amnesicSaved: amnesicSaved,
		dir:          dir,
		store:        store,
		clock:        clock,
		settings:     settings,
		watchers:     make(map[chan struct{}]struct{}),
	}
	c.env = &sessionEnv{cfg: cfg, store: store, tors: nil, locks: &roomLocks{}, dial: dialMumble, logf: cfg.Logf}
	c.tors = &torServers{
		ctx:          cctx,
		amnesic:      amnesic,
		torrc:        cfg.Torrc,
		allowTesting: cfg.AllowTestingTor,
		creator:      cfg.TorCreator,
		logf:         cfg.Logf,
		onStatus:     c.torStatusChanged,
	}
	if !amnesic {
		c.tors.dataDir = torDataDir(dir)
	}
	c.env.tors = c.tors
	c.tor = c.idleTorStatusLocked()
	c.idleAudio = cfg.AudioBackend.Describe(cfg.AudioInputFile, cfg.AudioOutputFile)
	context.AfterFunc(cctx, func() { c.Close() })
	return c, nil
}

// loadSettingsOrDefault loads the saved settings, or the environment's
// defaults if none were saved.
func loadSettingsOrDefault(st Storage, env Environment) (Settings, error) {
	if _, err := st.ReadFile(SettingsFile); errors.Is(err, fs.ErrNotExist) {
		return env.DefaultSettings(), nil
	}
	return LoadSettings(st)
}

// copyToMemory returns a MemoryStorage holding the named files of st that
// exist.
func copyToMemory(st Storage, names ...string) (*MemoryStorage, error) {
	mem := NewMemoryStorage()
	for _, n := range names {
		data, err := st.ReadFile(n)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := mem.WriteFile(n, data); err != nil {
			return nil, err
		}
	}
	return mem, nil
}

// Amnesic reports whether this controller writes nothing to disk.
func (c *Controller) Amnesic() bool { return c.amnesic }

// State returns a snapshot of the current state; the caller may keep and
// modify it.
func (c *Controller) State() State {
	c.mu.Lock()
	sess, ts, audio := c.sess, c.tor, c.idleAudio
	c.mu.Unlock()
	var st State
	if sess != nil {
		st = sess.snapshot()
	}
	st.Tor = ts
	st.Hosting = c.roomView()
	if st.Audio == "" {
		st.Audio = audio
	}
	return st
}

// Watch returns a channel that receives a value after every change of the
// State. Notifications are coalesced: a slow reader gets one signal for
// many changes and should then read State. The controller never blocks on
// a watcher. cancel stops the notifications and closes the channel.
func (c *Controller) Watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		close(ch)
		return ch, func() {}
	}
	c.watchers[ch] = struct{}{}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if _, ok := c.watchers[ch]; ok {
				delete(c.watchers, ch)
				close(ch)
			}
		})
	}
}

// notifyLocked signals every watcher. c.mu must be held.
func (c *Controller) notifyLocked() {
	for ch := range c.watchers {
		select {
		case ch <- struct{}{}:
		default: // a signal is already pending
		}
	}
}

// Bookmarks returns the bookmarks in order.
func (c *Controller) Bookmarks() []Bookmark { return c.store.List() }

// SaveBookmark adds b (if its ID is empty) or updates the bookmark with
// b's ID, and returns it as stored. A new bookmark gets fresh isolation
// credentials and its own identity. When updating, a zero Isolation or
// Identity and an empty PinnedFingerprint keep the stored ones (an editor
// working on an older copy does not undo pinning; see ForgetCertificate),
// unless the address or port changed: a bookmark moved to another server
// gets a fresh identity, fresh isolation credentials and no pin. The
// encrypted rooms' keys (RoomKeys) are kept as stored, or dropped when the
// server changed.
func (c *Controller) SaveBookmark(b Bookmark) (Bookmark, error) {
	if b.ID == "" {
		nb, err := c.store.Add(b)
		if err == nil {
			c.changed()
		}
		return nb, err
	}
	// A bookmark moved to another server is another server's bookmark: a
	// fresh identity and fresh circuits (so the two servers cannot link
	// the user), and no pin (the old one would only raise a false alarm).
	// The RSA key is made before the store is locked.
	var fresh Bookmark
	if cur, err := c.store.Get(b.ID); err == nil && serverMoved(cur, b) {
		if err := fresh.generateMissing(); err != nil {
			return Bookmark{}, err
		}
	}
	nb, err := c.store.Modify(b.ID, func(cur *Bookmark) error {
		in := b.Clone()
		if serverMoved(*cur, in) {
			if fresh.Identity.IsZero() {
				if err := fresh.generateMissing(); err != nil {
					return err
				}
			}
			in.Identity, in.Isolation = fresh.Identity, fresh.Isolation
			in.PinnedFingerprint = mumble.Fingerprint{}
			in.RoomKeys = RoomKeys{} // a fresh E2E identity too, and no known members
			*cur = in
			return nil
		}
		// The room keys change only through the session (an editor's
		// copy may be older).
		in.RoomKeys = cur.RoomKeys
		if in.Isolation.IsZero() {
			in.Isolation = cur.Isolation
		}
		if in.Identity.IsZero() {
			in.Identity = cur.Identity
		}
		if in.PinnedFingerprint.IsZero() {
			in.PinnedFingerprint = cur.PinnedFingerprint
		}
		*cur = in
		return nil
	})
	if err != nil {
		return Bookmark{}, err
	}
	c.bookmarkChanged(nb)
	return nb, nil
}

// serverMoved reports whether edited names another server than cur: its
// address (as normalized) or port changed.
func serverMoved(cur, edited Bookmark) bool {
	a, b := cur.Clone(), edited.Clone()
	a.Normalize()
	b.Normalize()
	return !strings.EqualFold(a.Address, b.Address) || a.Port != b.Port
}

// DeleteBookmark removes a bookmark and forgets its chat. A connection
// using it goes on, but is not reconnected automatically any more.
func (c *Controller) DeleteBookmark(id string) error {
	if err := c.store.Delete(id); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.chats, id)
	s := c.sess
	c.mu.Unlock()
	if s != nil && s.bookmarkID() == id {
		s.stopReconnecting(true)
	}
	c.changed()
	return nil
}

// MoveBookmark moves a bookmark to position to (0-based).
func (c *Controller) MoveBookmark(id string, to int) error {
	if err := c.store.Move(id, to); err != nil {
		return err
	}
	c.changed()
	return nil
}

// ImportLink adds a bookmark for a mumble:// link and returns it. A link
// without a user name is not saved: the parsed bookmark is returned with
// ErrLinkNeedsUsername, to be completed and saved with SaveBookmark.
func (c *Controller) ImportLink(link string) (Bookmark, error) {
	b, err := ParseLink(link)
	if err != nil {
		return Bookmark{}, err
	}
	if b.Username == "" {
		return b, ErrLinkNeedsUsername
	}
	return c.SaveBookmark(b)
}

// ForgetCertificate clears a bookmark's pinned server certificate: the next
// connection trusts and pins whatever certificate the server presents.
func (c *Controller) ForgetCertificate(id string) error {
	b, err := c.store.Modify(id, func(b *Bookmark) error {
		b.PinnedFingerprint = mumble.Fingerprint{}
		return nil
	})
	if err != nil {
		return err
	}
	c.bookmarkChanged(b)
	return nil
}

// NewCircuit gives a bookmark fresh isolation credentials, so that Tor uses
// new circuits for it from the next connection on.
func (c *Controller) NewCircuit(id string) error {
	b, err := c.store.Modify(id, func(b *Bookmark) error { return b.NewCircuit() })
	if err != nil {
		return err
	}
	c.bookmarkChanged(b)
	return nil
}

// bookmarkChanged refreshes State.Bookmark if it is b and notifies.
func (c *Controller) bookmarkChanged(b Bookmark) {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess != nil {
		sess.bookmarkChanged(b)
	}
	c.changed()
}

// changed notifies watchers of a change outside State (bookmarks,
// settings).
func (c *Controller) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notifyLocked()
}

// Settings returns a copy of the settings.
func (c *Controller) Settings() Settings {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.settings.Clone()
}

// SetSettings validates s, saves it and applies it: audio settings at once
// to a running connection, bridges at once to the running embedded Tor (a
// stalled bootstrap goes on through them), the Tor mode and reconnect
// policy from the next connection on. An error from applying the bridges
// comes after the settings were saved.
func (c *Controller) SetSettings(s Settings) error {
	s = s.Clone()
	if err := s.Validate(); err != nil {
		return fmt.Errorf("app: settings: %w", err)
	}
	c.saveMu.Lock()
	err := c.saveSettings(s)
	if err == nil {
		err = c.leaveSavedAmnesia(c.Settings(), s)
	}
	if err == nil {
		c.mu.Lock()
		c.settings = s
		c.mu.Unlock()
	}
	c.saveMu.Unlock()
	if err != nil {
		return err
	}
	c.mu.Lock()
	sess := c.sess
	if sess == nil {
		c.tor = c.idleTorStatusLocked()
	}
	c.mu.Unlock()
	if sess != nil {
		sess.applySettings(s)
	}
	if err := c.mic.applySettings(s); err != nil {
		c.logf("app: microphone test settings: %v", err)
	}
	berr := c.tors.setBridges(s.Network.BridgeLinesInUse())
	c.changed()
	if berr != nil {
		return fmt.Errorf("app: settings saved, but the running Tor refused the bridges: %w", berr)
	}
	return nil
}

// saveSettings writes s to the settings file, unless the controller is
// closed. c.saveMu must be held; c.mu must not be.
func (c *Controller) saveSettings(s Settings) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return ErrControllerClosed
	}
	return SaveSettings(c.storage, s)
}

// rememberVolume keeps a user's local volume in the settings
// (Output.UserVolumeDB, by certificate hash; 0 dB forgets it) and saves
// them. The file is written outside the state lock: readers of the state
// never wait for the disk.
func (c *Controller) rememberVolume(hash string, db int) {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	c.mu.Lock()
	if old, ok := c.settings.Output.UserVolumeDB[hash]; ok == (db != 0) && old == db {
		c.mu.Unlock()
		return // unchanged
	}
	set := c.settings.Clone()
	if set.Output.UserVolumeDB == nil {
		set.Output.UserVolumeDB = make(map[string]int)
	}
	if db == 0 {
		delete(set.Output.UserVolumeDB, hash)
	} else {
		set.Output.UserVolumeDB[hash] = db
	}
	c.settings = set
	c.mu.Unlock()
	if err := c.saveSettings(set); err != nil && !errors.Is(err, ErrControllerClosed) {
		c.logf("app: save local volume: %v", err)
	}
}

// currentSettings implements sessionOwner.
func (c *Controller) currentSettings() Settings { return c.Settings() }

// torChoice implements sessionOwner.
func (c *Controller) torChoice() (torChoice, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.torChoiceLocked()
}

// useTor implements sessionOwner: the state shows srv's status from now
// on, if s is the current session.
func (c *Controller) useTor(s *session, srv *tor.Server, choice torChoice) {
	c.mu.Lock()
	if c.sess != s || c.closed {
		c.mu.Unlock()
		return
	}
	c.torCur = srv
	c.tor = torStatusView(srv.Status(), choice)
	c.notifyLocked()
	c.mu.Unlock()
}

// sessionChanged implements sessionOwner.
func (c *Controller) sessionChanged(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == s && !c.closed {
		c.notifyLocked()
	}
}

// ResetSettings replaces the settings by a preset (PresetTorRecommended
// etc.), keeping devices, per-user volumes, the Tor mode and amnesic mode
// (see Settings.ResetToPreset), and saves them.
func (c *Controller) ResetSettings(preset string) error {
	s := c.Settings()
	if err := s.ResetToPreset(PresetName(preset)); err != nil {
		return err
	}
	return c.SetSettings(s)
}

// torChoiceLocked returns the Tor mode to use now. c.mu must be held.
func (c *Controller) torChoiceLocked() (torChoice, error) {
	return resolveTorChoice(c.cfg.TorMode, c.settings.Network)
}

// idleTorStatusLocked returns the Tor status to show before a session
// uses Tor: the status of the server of this mode if it runs already,
// else the mode with no progress. c.mu must be held.
func (c *Controller) idleTorStatusLocked() TorStatus {
	choice, err := c.torChoiceLocked()
	if err != nil {
		return TorStatus{Mode: "?", Protected: true, Warning: err.Error()}
	}
	c.tors.mu.Lock()
	e := c.tors.servers[choice]
	c.tors.mu.Unlock()
	if e != nil {
		c.torCur = e.srv
		return torStatusView(e.srv.Status(), choice)
	}
	ts := TorStatus{Mode: choice.name(), Protected: choice.mode != tor.ModeOff}
	if choice.mode == tor.ModeOff {
		ts.Summary = "Tor is off: connections are NOT protected"
	}
	return ts
}

// torStatusView converts a tor.Status for the interface.
func torStatusView(st tor.Status, choice torChoice) TorStatus {
	ts := TorStatus{
		Mode:      choice.name(),
		Protected: choice.mode != tor.ModeOff,
		Progress:  st.Progress,
		Summary:   st.Summary,
		Ready:     st.Ready,

		Hint:           st.Hint,
		SuggestBridges: st.SuggestBridges,
		BridgeFailure:  st.BridgeFailure,

		NetworkDown:    st.Ready && st.NetworkDown,
		NetworkProblem: st.NetworkProblem,
	}
	if st.Mode != tor.ModeDefault {
		// The effective mode: ModeDefault may have become the Whonix
		// gateway's SOCKS port.
		ts.Mode = torChoice{mode: st.Mode}.name()
		ts.Protected = st.Mode != tor.ModeOff
	}
	if st.Stalled() {
		ts.Warning = torWarning(st)
	}
	if st.Err != nil {
		ts.Ready = false
		ts.Warning = st.Err.Error()
	}
	return ts
}

// torStatusChanged receives every status change of every Tor server.
func (c *Controller) torStatusChanged(srv *tor.Server, st tor.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.torCur != srv || c.closed {
		return
	}
	c.tor = torStatusView(st, torChoice{mode: srv.Mode, socks: srv.SOCKSAddr})
	c.notifyLocked()
}

// Connect connects to the bookmark with the given ID in the background,
// ending any current session first. Progress, the result and problems
// show in State.
func (c *Controller) Connect(id string) {
	c.mic.stop() // the connection takes the sound devices
	b, err := c.store.Get(id)
	set := c.Settings()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.endSessionLocked()
	if err != nil {
		// A session that never runs shows the problem.
		s := newSession(c.ctx, c, c.env, Bookmark{}, Settings{}, c.clock)
		s.st = State{Phase: PhaseDisconnected, Problem: Problem{Kind: ProblemOther, Message: err.Error()}}
		c.sess = s
		c.notifyLocked()
		return
	}
	s := newSession(c.ctx, c, c.env, b, set, c.clock)
	s.st.Chat = cloneChat(c.chats[b.ID])
	c.sess = s
	c.notifyLocked()
	c.sessions.Add(1)
	go func() {
		defer c.sessions.Done()
		s.run()
	}()
}

// endSessionLocked stops the current session, if any; its goroutine winds
// down in the background and is no longer shown. c.mu must be held.
func (c *Controller) endSessionLocked() {
	if c.sess == nil {
		return
	}
	c.keepChatLocked(c.sess)
	c.sess.cancel()
	c.sess = nil
}

// Cancel stops whatever is going on (starting Tor, connecting, connected,
// waiting to reconnect) and returns to PhaseIdle. Tor keeps running for the
// next connection.
func (c *Controller) Cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endSessionLocked()
	if c.closed {
		return
	}
	c.tor = c.idleTorStatusLocked()
	c.notifyLocked()
}

// Disconnect leaves the server and returns to PhaseIdle; it is Cancel by
// another name, for the connected phase.
func (c *Controller) Disconnect() { c.Cancel() }

// StopReconnect stops automatic reconnection: a running countdown ends and
// the state stays PhaseDisconnected with the last Problem.
func (c *Controller) StopReconnect() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.stopReconnecting(false)
	}
}

// RetryNow ends a running reconnect countdown and makes the next attempt
// at once. It does nothing outside PhaseReconnectWait.
func (c *Controller) RetryNow() {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s == nil || s.snapshot().Phase != PhaseReconnectWait {
		return
	}
	select {
	case s.retryNow <- struct{}{}:
	default: // already asked
	}
}

// TrustNewCertificate accepts the changed server certificate reported by
// a ProblemCertificateChanged: the bookmark is pinned to the new
// fingerprint (exactly the one shown) and connected again. It does nothing
// if the current problem is not a changed certificate.
func (c *Controller) TrustNewCertificate() {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess == nil {
		return
	}
	st := sess.snapshot()
	p, b := st.Problem, st.Bookmark
	if p.Kind != ProblemCertificateChanged || b == nil || p.NewFingerprint.IsZero() {
		return
	}
	nb, err := c.store.Modify(b.ID, func(b *Bookmark) error {
		if b.PinnedFingerprint != p.PinnedFingerprint {
			return errors.New("the pinned certificate changed meanwhile")
		}
		b.PinnedFingerprint = p.NewFingerprint
		return nil
	})
	if err != nil {
		sess.update(func(st *State) {
			st.Problem.Message = fmt.Sprintf("Could not trust the new certificate: %v", err)
		})
		return
	}
	c.bookmarkChanged(nb)
	c.Connect(nb.ID)
}

// AnswerCertificate answers State.Certificate: refuse, trust once, or
// trust and pin the certificate. It does nothing when nothing is asked.
func (c *Controller) AnswerCertificate(a CertificateAnswer) {
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil {
		s.answerCertificate(a)
	}
}

// connected returns the current session and its connection.
func (c *Controller) connected() (*session, *conn, error) {
	c.mu.Lock()
	s, closed := c.sess, c.closed
	c.mu.Unlock()
	if closed {
		return nil, nil, ErrControllerClosed
	}
	if s == nil {
		return nil, nil, ErrNotConnected
	}
	cn := s.current()
	if cn == nil {
		return nil, nil, ErrNotConnected
	}
	return s, cn, nil
}

// Join moves this client into a channel and waits (at most 30 s) for the
// server to confirm; call it off the user interface's event loop.
func (c *Controller) Join(channelID uint32) error {
	_, cn, err := c.connected()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cn.ctx, 30*time.Second)
	defer cancel()
	if err := cn.client.Join(ctx, channelID); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// SendChat sends text (plain text, as typed) to the current channel and
// adds it to the chat.
func (c *Controller) SendChat(text string) error {
	s, cn, err := c.connected()
	if err != nil {
		return err
	}
	return s.sendChat(cn, text)
}

// SendPrivate sends text (plain text, as typed) to the user with the given
// session alone, and adds it to the chat marked with whom it went to.
func (c *Controller) SendPrivate(session uint32, text string) error {
	s, cn, err := c.connected()
	if err != nil {
		return err
	}
	return s.sendPrivate(cn, session, text)
}

// SetSelfMute mutes or unmutes this client on the server (in the
// background; State.SelfMute follows the server's confirmation).
func (c *Controller) SetSelfMute(mute bool) {
	if s, cn, err := c.connected(); err == nil {
		s.setSelfMute(cn, mute)
	}
}

// SetSelfDeaf deafens or undeafens this client on the server (in the
// background; State.SelfDeaf follows the server's confirmation).
func (c *Controller) SetSelfDeaf(deaf bool) {
	if s, cn, err := c.connected(); err == nil {
		s.setSelfDeaf(cn, deaf)
	}
}

// PushToTalk presses (true) or releases (false) the push-to-talk key. It
// transmits in every transmission mode (as in Mumble) unless self-muted.
func (c *Controller) PushToTalk(pressed bool) {
	if c.mic.pushToTalk(pressed) {
		return
	}
	if _, cn, err := c.connected(); err == nil {
		cn.call.PushToTalk(pressed)
	}
}

// SetUserVolume sets the local volume of the user with the given session,
// linear 0-2 (1 unchanged), on every call. When final is true (the
// user's change ended: a slider released) a user with a certificate has it
// remembered in the settings (Output.UserVolumeDB) for later connections;
// the steps before it only change what is heard, so dragging a slider
// writes no file.
func (c *Controller) SetUserVolume(session uint32, v float64, final bool) {
	s, cn, err := c.connected()
	if err != nil {
		return
	}
	if hash, db := s.setUserVolume(cn, session, v); final && hash != "" {
		c.rememberVolume(hash, db)
	}
}

// SetUserMute mutes or unmutes the user with the given session locally:
// the server still sends the voice, it is not played.
func (c *Controller) SetUserMute(session uint32, muted bool) {
	if s, cn, err := c.connected(); err == nil {
		s.setUserMute(cn, session, muted)
	}
}

// Close ends the session, stops Tor and releases everything. Watch
// channels are closed. A second Close returns ErrControllerClosed.
func (c *Controller) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrControllerClosed
	}
	c.closed = true
	c.endSessionLocked()
	defer c.mic.stop()
	for ch := range c.watchers {
		close(ch)
	}
	c.watchers = nil
	c.mu.Unlock()
	roomErr := c.StopRoom()
	c.stop()
	c.sessions.Wait()
	return errors.Join(roomErr, c.tors.closeAll())
}

// logf logs a diagnostic message if a logger is configured.
func (c *Controller) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}
