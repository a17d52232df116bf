package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
)

// sessionOwner is what a session asks of the Controller that started it.
// A session never holds its own lock while calling these.
type sessionOwner interface {
	// currentSettings returns a copy of the settings.
	currentSettings() Settings
	// torChoice returns the Tor mode to use now.
	torChoice() (torChoice, error)
	// useTor reports the Tor server the session uses, whose status the
	// state shows from now on.
	useTor(s *session, srv *tor.Server, choice torChoice)
	// sessionChanged reports a change of the session's state.
	sessionChanged(s *session)
	// rememberVolume keeps a user's local volume (dB; 0 forgets it) for
	// later connections, by certificate hash, and saves it.
	rememberVolume(hash string, db int)
}

// sessionEnv is what every session of a Controller uses: fixed at the
// Controller's start.
type sessionEnv struct {
	cfg   ControllerConfig
	store *BookmarkStore
	tors  *torServers
	// locks are the channels the user locked (encrypted rooms).
	locks *roomLocks
	dial  dialFunc
	logf  func(format string, args ...any)
}

// session is one Connect: attempts to connect to one bookmark, the
// connection, and the automatic reconnection after it. It ends when
// cancelled (Cancel, Disconnect, another Connect, Close) or when it gives
// up (PhaseDisconnected). It owns its part of the state (everything but
// Tor's status) and the lock that guards it.
type session struct {
	owner  sessionOwner
	env    *sessionEnv
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
	// clock runs the reconnect countdowns.
	clock Clock
	// retryNow ends a reconnect countdown early (Controller.RetryNow).
	retryNow chan struct{}

	// bookmark is the session's copy, refreshed from the store before
	// every attempt. Used by the session goroutine only.
	bookmark Bookmark
	// torSrv is the Tor server of the last attempt, nil before one.
	// Used by the session goroutine only.
	torSrv *tor.Server

	// pinChosen records that the user chose to trust and pin the
	// certificate of this attempt. Used by the session goroutine only.
	pinChosen bool

	keys roomKeys // the encrypted rooms' identity and known keys

	// voiceMu guards voiceTo, where the connection's read goroutine
	// (mumble.Config.OnVoice) hands received voice: the live
	// connection's room and call, nil while there is no call. The call
	// is closed only after voiceTo no longer holds it.
	voiceMu sync.Mutex
	voiceTo *voiceSink

	mu     sync.Mutex
	st     State                  // Tor is left zero: the Controller adds it
	conn   *conn                  // the live connection, nil when not connected
	answer chan CertificateAnswer // set while State.Certificate asks
	// reconnector is nil when automatic reconnection is off;
	// reconnectOn is the setting it follows (applySettings), and
	// forgotten is set once the bookmark was deleted: never again.
	reconnector *Reconnector
	reconnectOn bool
	forgotten   bool
}

// newSession returns a session for b with the given settings; start it
// with run.
func newSession(ctx context.Context, owner sessionOwner, env *sessionEnv, b Bookmark, set Settings, clock Clock) *session {
	ctx, cancel := context.WithCancel(ctx)
	s := &session{owner: owner, env: env, ctx: ctx, cancel: cancel, done: make(chan struct{}), bookmark: b.Clone(),
		clock: clock, retryNow: make(chan struct{}, 1)}
	if n := set.Network; n.Reconnect {
		s.reconnectOn = true
		s.reconnector = s.newReconnector(n)
	}
	nb := b.Clone()
	s.st = State{Phase: PhaseStartingTor, Bookmark: &nb}
	return s
}

// newReconnector returns a Reconnector following n's policy, or nil (and
// a log line) if the policy is invalid.
func (s *session) newReconnector(n Network) *Reconnector {
	r, err := NewReconnector(n.ReconnectPolicy(), s.clock)
	if err != nil {
		s.logf("app: reconnect policy: %v; not reconnecting", err)
		return nil
	}
	return r
}

// reconn returns the session's Reconnector, nil when automatic
// reconnection is off.
func (s *session) reconn() *Reconnector {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reconnector
}

// setReconnect applies the automatic reconnection setting n.Reconnect to
// the session: turned on, a later loss reconnects; turned off, a running
// countdown stops and no further attempt is made. Only a change of the
// setting acts, so that saving other settings does not undo the user's
// "stop reconnecting".
func (s *session) setReconnect(n Network) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n.Reconnect == s.reconnectOn {
		return
	}
	s.reconnectOn = n.Reconnect
	if s.reconnector != nil {
		s.reconnector.Stop()
		s.reconnector = nil
	}
	if n.Reconnect && !s.forgotten {
		s.reconnector = s.newReconnector(n)
	}
}

// stopReconnecting stops a running countdown and further automatic
// attempts (the user's "stop reconnecting"). With forget (the bookmark was
// deleted) they stay stopped even if reconnection is turned on again.
func (s *session) stopReconnecting(forget bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if forget {
		s.forgotten = true
	}
	if s.reconnector != nil {
		s.reconnector.Stop()
	}
}

// snapshot returns a deep copy of the session's state.
func (s *session) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// update applies f to the session's state and reports the change.
func (s *session) update(f func(st *State)) {
	s.mu.Lock()
	f(&s.st)
	s.mu.Unlock()
	s.owner.sessionChanged(s)
}

// bookmarkID returns the ID of the session's bookmark.
func (s *session) bookmarkID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Bookmark == nil {
		return ""
	}
	return s.st.Bookmark.ID
}

// current returns the live connection, or nil.
func (s *session) current() *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

func (s *session) logf(format string, args ...any) {
	if s.env.logf != nil {
		s.env.logf(format, args...)
	}
}

// run is the session's goroutine: the state machine.
func (s *session) run() {
	defer close(s.done)
	defer s.cancel()
	for {
		err := s.attempt()
		if s.ctx.Err() != nil {
			return // cancelled: the session is no longer shown
		}
		var lost *lostError
		if errors.As(err, &lost) && s.torSrv != nil {
			// Blame Tor, not the server, when Tor went down with it.
			s.checkTorAfterLoss(lost)
			if s.ctx.Err() != nil {
				return
			}
		}
		p, retry := classify(s.bookmark, err)
		if lost != nil {
			s.systemLine(p.Message)
		}
		if r := s.reconn(); r != nil && retry {
			cd, rerr := r.Next()
			if rerr == nil {
				if s.countdown(cd, p) {
					continue
				}
				if s.ctx.Err() != nil {
					return
				}
			} else if errors.Is(rerr, ErrReconnectExhausted) {
				p.Message += fmt.Sprintf(" Gave up reconnecting after %d attempts.", r.Attempts())
			}
		}
		s.update(func(st *State) {
			resetConnection(st)
			st.Phase = PhaseDisconnected
			st.Problem = p
		})
		return
	}
}

// lossCheckTimeout bounds the check, after a connection through Tor was
// lost, whether Tor still reaches the network.
const lossCheckTimeout = 20 * time.Second

// checkTorAfterLoss finds out whether Tor, rather than the server, ended
// the connection: Tor stopped, has not finished bootstrapping, says it has
// lost the network, or (when the end looks like the network's: closed,
// reset, silence) cannot build a circuit now. Tor's state at the loss and
// the verdict go into lost.
func (s *session) checkTorAfterLoss(lost *lostError) {
	st := s.torSrv.Status()
	lost.tor = st
	lost.torDown = st.Err != nil || !st.Ready || st.NetworkDown
	if lost.torDown || st.Mode == tor.ModeOff || !mayBeNetwork(lost.err) {
		return
	}
	s.update(func(st *State) {
		resetConnection(st)
		st.Phase = PhaseStartingTor
		st.Problem = Problem{Kind: ProblemOther, Message: "The connection was lost. Checking whether Tor still reaches the Tor network..."}
	})
	ctx, cancel := context.WithTimeout(s.ctx, lossCheckTimeout)
	defer cancel()
	checked, err := s.torSrv.CheckNetwork(ctx)
	if err != nil {
		s.logf("app: check Tor's network after a loss: %v", err)
		return
	}
	lost.tor = checked
	lost.torDown = checked.NetworkDown
}

// networkRecheckPause is the pause between two checks of Tor's network
// while it is down, unless Tor gets through by itself first.
const networkRecheckPause = 5 * time.Second

// waitTorNetwork waits, before dialing, while Tor says it has lost the
// network: a dial would only hang. The state stays in PhaseStartingTor and
// the Tor bar says why; Tor is checked again and again (each check a
// circuit that gets built as soon as the network answers) until it gets
// through or the session is cancelled.
func (s *session) waitTorNetwork(srv *tor.Server) error {
	if !srv.Status().NetworkDown {
		return nil
	}
	s.logf("app: Tor has lost the network; waiting for it before dialing")
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	sub := srv.Subscribe(ctx)
	for {
		check, cancelCheck := context.WithTimeout(ctx, lossCheckTimeout)
		st, err := srv.CheckNetwork(check)
		cancelCheck()
		if s.ctx.Err() != nil {
			return s.ctx.Err()
		}
		if err != nil {
			return &torError{err: err, status: st}
		}
		if !st.NetworkDown {
			return nil
		}
		pause := time.NewTimer(networkRecheckPause)
	wait:
		for {
			select {
			case st, ok := <-sub:
				if !ok { // Tor stopped, or the session ends
					pause.Stop()
					if ctx.Err() != nil {
						return ctx.Err()
					}
					st := srv.Status()
					return &torError{err: st.Err, status: st}
				}
				if !st.NetworkDown {
					pause.Stop()
					return nil
				}
			case <-pause.C:
				break wait
			case <-ctx.Done():
				pause.Stop()
				return ctx.Err()
			}
		}
	}
}

// resetConnection clears what belongs to a connection from the state,
// keeping the bookmark, the chat of the session and the last problem.
func resetConnection(st *State) {
	st.Root = nil
	st.Self = UserView{}
	st.SelfMute, st.SelfDeaf, st.Transmitting = false, false, false
	st.ReconnectIn, st.ReconnectAttempt, st.ReconnectMaxAttempts = 0, 0, 0
	st.Bitrate = 0
	st.Audio = ""
	st.TLS, st.CertificateExposed = "", false
}

// countdown shows the wait before the next attempt and reports whether it
// elapsed (false: stopped or cancelled).
func (s *session) countdown(cd *Countdown, p Problem) bool {
	defer cd.Stop()
	s.update(func(st *State) {
		resetConnection(st)
		st.Phase = PhaseReconnectWait
		st.Problem = p
		st.ReconnectIn = cd.Delay
		st.ReconnectAttempt, st.ReconnectMaxAttempts = cd.Attempt, cd.MaxAttempts
	})
	for {
		select {
		case left, ok := <-cd.C:
			if !ok {
				return cd.Err() == nil && s.ctx.Err() == nil
			}
			s.update(func(st *State) { st.ReconnectIn = left })
		case <-s.retryNow:
			return true
		case <-s.ctx.Done():
			return false
		}
	}
}

// attempt makes one connection attempt and, if it succeeds, runs the
// connection until it ends. It returns why it ended.
func (s *session) attempt() error {
	if b, err := s.env.store.Get(s.bookmark.ID); err == nil {
		s.bookmark = b // pick up a new pin, circuit or password
	}
	b := s.bookmark
	s.update(func(st *State) {
		resetConnection(st)
		nb := b.Clone()
		st.Bookmark = &nb
		st.Phase = PhaseStartingTor
	})
	dialer, err := s.startTor(b)
	if err != nil {
		return err
	}
	s.update(func(st *State) { st.Phase = PhaseConnecting })
	cfg, err := s.mumbleConfig(b, dialer)
	if err != nil {
		return err
	}
	s.pinChosen = false
	client, err := s.env.dial(s.ctx, b.HostPort(), cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	if r := s.reconn(); r != nil {
		r.Reset()
	}
	if b.PinnedFingerprint.IsZero() && (s.pinChosen || pinsOnFirstUse(b.Address)) {
		s.pin(client.Fingerprint())
	}
	return s.connected(client)
}

// startTor starts (or reuses) the Tor server of the current mode, waits
// until it is ready and returns a dialer isolated for bookmark b, with b's
// onion client authorization key given to Tor.
func (s *session) startTor(b Bookmark) (*tor.Dialer, error) {
	choice, err := s.owner.torChoice()
	if err != nil {
		return nil, &torError{err: err}
	}
	if choice.mode == tor.ModeOff && b.IsOnion() {
		return nil, errOnionNeedsTor
	}
	if err := s.env.tors.setBridges(s.owner.currentSettings().Network.BridgeLinesInUse()); err != nil {
		s.logf("%v", err)
	}
	e, err := s.env.tors.get(choice)
	if err != nil {
		return nil, &torError{err: err}
	}
	if err := s.env.tors.syncBridges(e); err != nil {
		return nil, &torError{err: err, status: e.srv.Status()}
	}
	s.owner.useTor(s, e.srv, choice)
	s.torSrv = e.srv
	if _, err := e.up(s.ctx); err != nil {
		return nil, err
	}
	if err := s.waitTorNetwork(e.srv); err != nil {
		return nil, err
	}
	if b.Isolation.IsZero() {
		return nil, fmt.Errorf("bookmark %s: %w", b.Name(), errNoIsolation)
	}
	if k := b.ClientAuthKey; !k.IsZero() {
		if err := e.srv.AddClientAuth(s.ctx, k); errors.Is(err, tor.ErrNoControl) {
			s.logf("app: %v; the key must be in that Tor's ClientOnionAuthDir", err)
		} else if err != nil {
			return nil, &torError{err: err, status: e.srv.Status()}
		}
	}
	return e.srv.Isolated(b.Isolation), nil
}

// mumbleConfig returns the client configuration for bookmark b.
func (s *session) mumbleConfig(b Bookmark, dialer *tor.Dialer) (*mumble.Config, error) {
	cert, err := b.Identity.TLSCertificate()
	if err != nil {
		return nil, fmt.Errorf("bookmark %s: %w", b.Name(), err)
	}
	return &mumble.Config{
		Username:          b.Username,
		Password:          b.Password,
		DialContext:       dialer.DialContext,
		Certificate:       &cert,
		PinnedFingerprint: b.PinnedFingerprint,
		VerifyServer:      s.askCertificate,
		ConnectTimeout:    s.env.cfg.ConnectTimeout,
		OnVoice:           s.handleVoice,
	}, nil
}

// pinsOnFirstUse reports whether the server at host is pinned on first
// use without asking: an onion address authenticates the service itself,
// and an IP address cannot be checked against certificate authorities.
// A server reached by a DNS name is pinned only when the user chose so
// (its certificate is otherwise checked against the authorities).
func pinsOnFirstUse(host string) bool {
	return tor.IsOnion(host) || net.ParseIP(strings.Trim(host, "[]")) != nil
}

// errCertificateRefused ends an attempt whose server certificate the user
// did not trust.
var errCertificateRefused = errors.New("the server's certificate was not trusted")

// askCertificate is the connection's VerifyServer hook: the server (by
// DNS name) presented a certificate that is neither pinned nor valid for
// its name. Nothing has been sent to it. The state asks the user, and
// the attempt waits for AnswerCertificate.
func (s *session) askCertificate(ctx context.Context, e *mumble.UnverifiedCertificateError) error {
	ch := make(chan CertificateAnswer, 1)
	s.update(func(st *State) {
		s.answer = ch
		st.Certificate = &CertificateQuestion{Host: e.Host, Fingerprint: e.Fingerprint, Reason: certificateReason(e.Err)}
	})
	defer s.update(func(st *State) {
		s.answer = nil
		st.Certificate = nil
	})
	select {
	case a := <-ch:
		switch a {
		case CertificateTrustAndPin:
			s.pinChosen = true
			return nil
		case CertificateTrustOnce:
			return nil
		}
		return errCertificateRefused
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answerCertificate passes the user's answer to a waiting askCertificate.
func (s *session) answerCertificate(a CertificateAnswer) {
	s.mu.Lock()
	ch := s.answer
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- a:
		default: // answered already
		}
	}
}

// certificateReason says in words why a certificate failed verification.
func certificateReason(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return "it is not signed by a certificate authority this system trusts (self-signed certificates are common on Mumble servers)"
	case errors.As(err, &hostname):
		return "it is not made out for this server's name"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "it has expired or is not yet valid"
	case err != nil:
		return err.Error()
	}
	return "it could not be verified"
}

// pin saves the server's certificate fingerprint into the bookmark (trust
// on first use).
func (s *session) pin(fp mumble.Fingerprint) {
	nb, err := s.env.store.Modify(s.bookmark.ID, func(b *Bookmark) error {
		if b.PinnedFingerprint.IsZero() {
			b.PinnedFingerprint = fp
		}
		return nil
	})
	if err != nil {
		s.logf("app: pin server certificate of %s: %v", s.bookmark.Name(), err)
		s.systemLine(fmt.Sprintf("The server's certificate could not be saved (%v): it will not be checked next time.", err))
		return
	}
	s.bookmark = nb
	s.update(func(st *State) {
		b := nb.Clone()
		st.Bookmark = &b
	})
}

// bookmarkChanged shows b if it is the session's bookmark.
func (s *session) bookmarkChanged(b Bookmark) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Bookmark != nil && s.st.Bookmark.ID == b.ID {
		nb := b.Clone()
		s.st.Bookmark = &nb
	}
}

// systemLine adds a system line to the chat.
func (s *session) systemLine(text string) {
	s.update(func(st *State) {
		addChat(st, ChatLine{Time: time.Now(), Text: text, System: true})
	})
}

// chatLine makes a chat line from server HTML.
func chatLine(from, html string, system bool) ChatLine {
	m := ParseChatHTML(html)
	return ChatLine{Time: time.Now(), From: from, Text: m.Text, Links: m.Links, System: system}
}

// addChat appends a line, dropping the oldest beyond MaxChatLines.
func addChat(st *State, l ChatLine) {
	st.Chat = append(st.Chat, l)
	if n := len(st.Chat) - MaxChatLines; n > 0 {
		st.Chat = slices.Delete(st.Chat, 0, n)
	}
}
