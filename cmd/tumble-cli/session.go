package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/wav"
)

// session is one tumble-cli run: connect, act, disconnect.
type session struct {
	opts   *options
	ev     *eventWriter
	client *mumble.Client
	e2e    *cliE2E     // nil without --e2e
	wav    *wav.Reader // the --send-wav file, opened before connecting

	// rec receives voice on the connection's read goroutine once it
	// exists; voiceErrs carries refused packets to the event printer.
	rec       atomic.Pointer[recorder]
	voiceErrs chan voiceError
}

// voiceErrorQueue is how many refused voice packets may wait to be
// reported; more are not reported.
const voiceErrorQueue = 64

// voiceError is a voice packet the receive path refused.
type voiceError struct {
	session uint32
	err     error
}

// onVoice is the connection's voice handler (mumble.Config.OnVoice): it
// hands the packet to the receive path, which copies it, and never
// blocks.
func (s *session) onVoice(p *mumble.VoicePacket) {
	r := s.rec.Load()
	if r == nil {
		return
	}
	if s.e2e != nil {
		if play, err := s.e2e.link.OpenVoice(p); !play {
			s.ev.emit("e2e-voice-dropped", field{"session", p.Session}, field{"error", err.Error()})
			return
		}
	}
	if err := r.packet(p); err != nil && !errors.Is(err, voice.ErrReceiverClosed) {
		select {
		case s.voiceErrs <- voiceError{p.Session, err}:
		default:
		}
	}
}

// run connects, does what the flags ask and disconnects cleanly. However
// it ends, the last event is exactly one disconnected event with the
// reason: "client closed" or the error run returns.
func (s *session) run(ctx context.Context) (err error) {
	defer func() {
		// Registered first, so it runs last: after the event printer,
		// the recorder, the connection and Tor are all closed.
		reason := "client closed"
		if err != nil {
			reason = err.Error()
		}
		s.ev.emit("disconnected", field{"reason", reason})
	}()
	o := s.opts
	if o.sendWAV != "" {
		f, r, err := openWAV(o.sendWAV)
		if err != nil {
			return err
		}
		defer f.Close()
		s.wav = r
	}
	network, err := newNetwork(ctx, o, s.ev)
	if err != nil {
		return err
	}
	defer network.Close()

	cfg := &mumble.Config{
		Username:          o.user,
		Password:          o.password,
		Tokens:            o.tokens,
		DialContext:       network.DialContext,
		PinnedFingerprint: o.pin,
		ConnectTimeout:    o.connectTimeout,
		PacketSequence:    o.seqPerPacket,
		OnVoice:           s.onVoice,
	}
	if o.trustFirstUse {
		// Explicitly asked for: accept an unverified certificate once.
		// Without it (or --pin) Dial refuses before sending anything.
		cfg.VerifyServer = func(context.Context, *mumble.UnverifiedCertificateError) error { return nil }
	}
	s.voiceErrs = make(chan voiceError, voiceErrorQueue)
	if o.certFile != "" {
		cert, err := tls.LoadX509KeyPair(o.certFile, o.certFile)
		if err != nil {
			return fmt.Errorf("--cert: %w", err)
		}
		cfg.Certificate = &cert
	}
	c, err := mumble.Dial(ctx, o.server, cfg)
	if err != nil {
		return explainDialError(err)
	}
	s.client = c
	defer c.Close()

	self := c.Self()
	s.ev.emit("connected",
		field{"server", o.server},
		field{"server_version", c.ServerInfo().Version.String()},
		field{"session", self.Session},
		field{"fingerprint", c.Fingerprint()},
		field{"max_bandwidth", c.ServerInfo().MaxBandwidth},
		field{"tor", network.Describe()},
	)
	for _, ch := range c.Channels() {
		s.ev.emit("channel", field{"id", ch.ID}, field{"name", ch.Name}, field{"parent", ch.Parent})
	}
	for _, u := range c.Users() {
		s.ev.emit("user", field{"session", u.Session}, field{"name", u.Name}, field{"channel", u.ChannelID})
	}

	var rec *recorder
	if o.outputDevice != "" {
		rec, err = newDevicePlayer(o.outputDevice)
	} else {
		rec, err = newRecorder(o.recordDir, func(session uint32) string { return userName(c, session) }, o.recordMax<<20)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rec.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if o.outputDevice != "" {
		s.ev.emit("playback-start", field{"device", o.outputDevice})
	}
	if o.recordDir != "" {
		s.ev.emit("record-start", field{"dir", o.recordDir}, field{"origin", rec.Origin().UTC().Format(time.RFC3339Nano)})
	}
	if o.e2e {
		// Before the recorder is stored: onVoice sees s.e2e set once it
		// sees the recorder.
		if s.e2e, err = newCLIE2E(c, o); err != nil {
			return err
		}
		defer s.e2e.link.Close() // after the printer, which feeds it, has finished
	}
	s.rec.Store(rec)
	defer s.rec.Store(nil)
	printer := newEventPrinter(c, s.ev, rec, s.voiceErrs, s.e2e)
	printerDone := make(chan struct{})
	go func() {
		printer.run()
		close(printerDone)
	}()
	defer s.finish(printer, printerDone)

	if o.channel != "" {
		if err := s.joinChannel(ctx, o.channel, o.createChannel); err != nil {
			return err
		}
	}
	if s.e2e != nil {
		if err := s.e2e.link.Enable(ctx); err != nil {
			return err
		}
		s.ev.emit("e2e-enabled", field{"channel", c.Self().ChannelID})
		if err := s.e2e.waitReady(ctx, c); err != nil {
			return err
		}
	}
	if o.waitUser != "" {
		if err := s.waitForUser(ctx, o.waitUser); err != nil {
			return err
		}
	}
	if o.say != "" {
		if err := s.sayInChannel(ctx, o.say); err != nil {
			return err
		}
	}
	if o.sayPrivate != "" {
		name, text, _ := strings.Cut(o.sayPrivate, "=")
		if err := s.sayPrivately(ctx, name, text); err != nil {
			return err
		}
	}

	// Start-up is over: collect its garbage and give the pages back.
	// Until a process has collected once, Go's runtime does not run its
	// periodic (two-minute) collection, and a client whose heap stays far
	// below the runtime's 4 MB minimum goal otherwise touches fresh pages
	// with every allocation for many minutes of a call (bench/soak
	// measured the RSS growing linearly for 7-10 minutes, to the first
	// collection). After this the heap stays at what the call keeps plus
	// at most two minutes of garbage.
	debug.FreeOSMemory()

	sendDone := make(chan error, 1)
	if o.sending() {
		sendCtx, stopSending := context.WithCancel(ctx)
		go func() { sendDone <- s.sendWAV(sendCtx) }()
		defer func() {
			// Its events come before disconnected.
			stopSending()
			if sendDone != nil {
				<-sendDone
			}
		}()
	} else {
		sendDone = nil
	}

	var timer <-chan time.Time
	if o.duration > 0 {
		t := time.NewTimer(o.duration)
		defer t.Stop()
		timer = t.C
	}
	waitForSend := sendDone != nil
	if timer == nil && !waitForSend && o.recordDir == "" && o.outputDevice == "" {
		// Nothing left to do: --say and --channel are done.
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer:
			return nil
		case <-rec.Failed():
			return rec.Err()
		case <-c.Done():
			err := c.Err()
			if err == nil {
				err = errors.New("server closed the connection")
			}
			return fmt.Errorf("disconnected: %w", err)
		case err := <-sendDone:
			sendDone = nil
			if err != nil {
				return err
			}
			if waitForSend && timer == nil {
				// Give the last packets time to leave before closing.
				time.Sleep(200 * time.Millisecond)
				return nil
			}
		}
	}
}

// waitForUser waits until a user called name is on the server.
func (s *session) waitForUser(ctx context.Context, name string) error {
	c := s.client
	sub := c.Subscribe()
	defer sub.Close()
	for {
		if _, ok := c.UserByName(name); ok {
			s.ev.emit("user-present", field{"name", name})
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for user %s: %w", name, ctx.Err())
		case <-c.Done():
			return fmt.Errorf("disconnected waiting for user %s", name)
		case _, ok := <-sub.C:
			if !ok {
				return fmt.Errorf("disconnected waiting for user %s", name)
			}
		}
	}
}

// finish disconnects (a no-op if the connection is already gone), stops
// the event printer and prints the receive statistics.
func (s *session) finish(p *eventPrinter, done <-chan struct{}) {
	s.client.Close()
	p.stop()
	<-done
	p.voiceStats()
	if s.e2e != nil {
		s.e2e.report(p)
		if err := s.e2e.save(s.opts); err != nil {
			s.ev.emit("e2e-error", field{"error", err.Error()})
		}
	}
}

// joinChannel joins the channel at path, creating the last element as a
// temporary channel when create is set and it does not exist.
func (s *session) joinChannel(ctx context.Context, path string, create bool) error {
	c := s.client
	ch, ok := c.ChannelByPath(path)
	if !ok {
		if !create {
			return fmt.Errorf("channel %q does not exist (use --create-channel)", path)
		}
		i := strings.LastIndex(path, "/")
		if i < 0 {
			return fmt.Errorf("channel %q: cannot create the root channel", path)
		}
		parent, ok := c.ChannelByPath(path[:i])
		if !ok {
			return fmt.Errorf("channel %q: parent %q does not exist", path, path[:i])
		}
		created, err := c.CreateChannel(ctx, parent.ID, path[i+1:], true)
		if err != nil {
			// Another client may have created it at the same moment.
			if again, ok := c.ChannelByPath(path); ok {
				created = again
			} else {
				return fmt.Errorf("create channel %q: %w", path, err)
			}
		}
		ch = created
	}
	if err := c.Join(ctx, ch.ID); err != nil {
		return fmt.Errorf("join %q: %w", path, err)
	}
	s.ev.emit("joined", field{"channel", path}, field{"id", ch.ID})
	return nil
}

// sayInChannel sends text to the channel we are in.
func (s *session) sayInChannel(ctx context.Context, text string) error {
	self := s.client.Self()
	html, err := app.FormatChatMessage(text, int(s.client.ServerInfo().MessageLength))
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	if s.e2e != nil {
		err = s.e2e.link.SendChat(ctx, html)
	} else {
		err = s.client.SendText(ctx, mumble.TextMessage{Channels: []uint32{self.ChannelID}, Message: html})
	}
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	return nil
}

// sayPrivately sends text to user name alone: encrypted if it is a member
// of our encrypted room, else in clear. The "said-private" event says which.
func (s *session) sayPrivately(ctx context.Context, name, text string) error {
	u, ok := s.client.UserByName(name)
	if !ok {
		return fmt.Errorf("--say-private: no user %q on the server", name)
	}
	html, err := app.FormatChatMessage(text, int(s.client.ServerInfo().MessageLength))
	if err != nil {
		return fmt.Errorf("--say-private: %w", err)
	}
	encrypted := false
	if s.e2e != nil {
		if r := s.e2e.link.Room(); r != nil && r.IsMember(u.Session) {
			encrypted = true
			err = s.e2e.link.SendPrivate(ctx, u.Session, html)
		}
	}
	if !encrypted {
		err = s.client.SendText(ctx, mumble.TextMessage{Users: []uint32{u.Session}, Message: html})
	}
	if err != nil {
		return fmt.Errorf("--say-private: %w", err)
	}
	s.ev.emit("said-private", field{"to", name}, field{"session", u.Session}, field{"encrypted", encrypted})
	return nil
}

// explainDialError adds what the user can do to the errors a user can fix.
func explainDialError(err error) error {
	var mismatch *mumble.CertificateMismatchError
	var unverified *mumble.UnverifiedCertificateError
	switch {
	case errors.As(err, &unverified):
		return fmt.Errorf("refusing to send anything to %s: its certificate is not verified (%v) and anyone on the way could have presented it; "+
			"check the SHA-256 fingerprint %s with the server's operator, then connect with --pin %s (or accept it unchecked with --trust-first-use)",
			unverified.Host, unverified.Err, unverified.Fingerprint, unverified.Fingerprint)
	case errors.Is(err, mumble.ErrWrongServerPW):
		return fmt.Errorf("wrong server password (give it with --password-file or TUMBLE_PASSWORD): %w", err)
	case errors.Is(err, mumble.ErrWrongUserPW):
		return fmt.Errorf("wrong password for this registered user name: %w", err)
	case errors.As(err, &mismatch):
		return fmt.Errorf("the server's certificate changed, refusing to connect (check with the server's operator before trusting it): %w", err)
	}
	return err
}

// userName returns the name of the user with the given session, or "".
func userName(c *mumble.Client, session uint32) string {
	if u, ok := c.User(session); ok {
		return u.Name
	}
	return ""
}
