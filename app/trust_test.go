package app

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// localhostBookmark saves a bookmark for the server at addr reached by the
// DNS name "localhost" (as a clearnet server is reached by name through
// a Tor exit), with a server password.
func localhostBookmark(t *testing.T, c *Controller, addr, user, password string) Bookmark {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	b, err := c.SaveBookmark(Bookmark{Address: "localhost", Port: p, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUnverifiedServerAsksBeforeSendingAnything puts a TLS-terminating
// proxy with its own self-signed certificate (the Tor exit in the middle)
// in front of murmur: a fresh bookmark by DNS name stops after the TLS
// handshake and asks, and nothing (no name, no password) reaches the
// proxy unless the user trusts the certificate.
func TestUnverifiedServerAsksBeforeSendingAnything(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15, Password: "s3cret-pw"})
	proxy := murmurtest.StartRecorder(t, srv)
	c := newTestController(t, ControllerConfig{})
	b := localhostBookmark(t, c, proxy.Addr, "alice", "s3cret-pw")

	c.Connect(b.ID)
	st := waitFor(t, c, "the certificate question", func(st State) bool { return st.Certificate != nil })
	if st.Certificate.Fingerprint.String() != proxy.Fingerprint() || st.Certificate.Host != "localhost" || st.Certificate.Reason == "" {
		t.Errorf("question %+v, want the proxy's fingerprint %s", st.Certificate, proxy.Fingerprint())
	}
	if got := proxy.Received(); len(got) != 0 {
		t.Fatalf("the proxy received %d bytes before the user answered", len(got))
	}
	c.AnswerCertificate(CertificateRefuse)
	st = waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	if !strings.Contains(st.Problem.Message, "nothing was sent") || st.Certificate != nil {
		t.Errorf("after refusing: %+v, question %v", st.Problem, st.Certificate)
	}
	if got := proxy.Received(); len(got) != 0 {
		t.Fatalf("the proxy received %d bytes after a refusal", len(got))
	}
	if nb, _ := c.store.Get(b.ID); !nb.PinnedFingerprint.IsZero() {
		t.Error("a refused certificate was pinned")
	}

	// Trust once: connected, nothing pinned, asked again next time.
	c.Connect(b.ID)
	waitFor(t, c, "the question again", func(st State) bool { return st.Certificate != nil })
	c.AnswerCertificate(CertificateTrustOnce)
	waitFor(t, c, "connected", isPhase(PhaseConnected))
	if nb, _ := c.store.Get(b.ID); !nb.PinnedFingerprint.IsZero() {
		t.Error("trust once pinned the certificate")
	}
	if !bytes.Contains(proxy.Received(), []byte("s3cret-pw")) {
		t.Error("trusted once, but the password did not go through: is the proxy recording?")
	}
	c.Disconnect()

	// Trust and pin: the next connection is checked against the pin and
	// asks nothing.
	c.Connect(b.ID)
	waitFor(t, c, "the question a third time", func(st State) bool { return st.Certificate != nil })
	c.AnswerCertificate(CertificateTrustAndPin)
	st = waitFor(t, c, "connected", isPhase(PhaseConnected))
	if nb, _ := c.store.Get(b.ID); nb.PinnedFingerprint.String() != proxy.Fingerprint() {
		t.Errorf("pinned %s, want %s", nb.PinnedFingerprint, proxy.Fingerprint())
	}
	if st.TLS != "TLS 1.3" || st.CertificateExposed {
		t.Errorf("TLS %q, certificate exposed %v; want TLS 1.3, not exposed", st.TLS, st.CertificateExposed)
	}
	c.Disconnect()
	c.Connect(b.ID)
	waitFor(t, c, "connected on the pin", func(st State) bool {
		if st.Certificate != nil {
			t.Fatal("asked again about a pinned certificate")
		}
		return st.Phase == PhaseConnected
	})
}

// TestAmnesicLinkPinCatchesInterceptor: a link kept in a vault carries the
// server's pin, so a fresh amnesic session reached through an interceptor
// refuses it as a changed certificate, naming both, and sends nothing.
func TestAmnesicLinkPinCatchesInterceptor(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V15})
	proxy := murmurtest.StartRecorder(t, srv)
	pin, err := mumble.ParseFingerprint(srv.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(proxy.Addr)
	p, _ := strconv.Atoi(port)
	link := FormatLink(Bookmark{Address: "localhost", Port: p, Username: "alice", PinnedFingerprint: pin}, LinkOptions{})

	c := newTestController(t, ControllerConfig{Amnesic: true})
	b, err := c.ImportLink(link)
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(b.ID)
	st := waitFor(t, c, "refused", isPhase(PhaseDisconnected))
	if st.Problem.Kind != ProblemCertificateChanged || st.Problem.PinnedFingerprint != pin ||
		st.Problem.NewFingerprint.String() != proxy.Fingerprint() {
		t.Errorf("problem %+v, want a changed certificate from %s to %s", st.Problem, pin, proxy.Fingerprint())
	}
	if got := proxy.Received(); len(got) != 0 {
		t.Errorf("the proxy received %d bytes", len(got))
	}
}

// TestBookmarkMovedToAnotherServer: editing a bookmark's address or port
// gives it a fresh identity and circuits and drops the pin, so the new
// server cannot link the user to the old one; other edits keep them.
func TestBookmarkMovedToAnotherServer(t *testing.T) {
	srvA := murmurtest.Start(t, murmurtest.Options{})
	srvB := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{})
	b := addServerBookmark(t, c, srvA.Addr, "alice", "")
	connect(t, c, b)
	hashA := selfHash(t, c)
	c.Disconnect()
	a, _ := c.store.Get(b.ID)
	if a.PinnedFingerprint.IsZero() {
		t.Fatal("server A not pinned")
	}

	relabeled := a.Clone()
	relabeled.Label = "renamed"
	if got, err := c.SaveBookmark(relabeled); err != nil || got.Identity.CertificatePEM != a.Identity.CertificatePEM ||
		got.Isolation != a.Isolation || got.PinnedFingerprint != a.PinnedFingerprint {
		t.Fatalf("a new label changed the identity, circuits or pin (%v)", err)
	}

	moved := a.Clone()
	_, port, _ := net.SplitHostPort(srvB.Addr)
	moved.Port, _ = strconv.Atoi(port)
	got, err := c.SaveBookmark(moved)
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity.CertificatePEM == a.Identity.CertificatePEM || got.Isolation == a.Isolation || !got.PinnedFingerprint.IsZero() {
		t.Fatal("the moved bookmark kept its identity, circuits or pin")
	}
	connect(t, c, got)
	if hashB := selfHash(t, c); hashB == hashA || hashB == "" {
		t.Errorf("both servers recorded the certificate hash %q", hashA)
	}
}

// selfHash returns the certificate hash the server recorded for this
// client.
func selfHash(t *testing.T, c *Controller) string {
	t.Helper()
	_, cn := currentConn(t, c)
	h := cn.client.Self().Hash
	if h == "" {
		t.Fatal("the server recorded no certificate hash")
	}
	return h
}

// TestServerSentTooMuch: a connection the client ends because the server
// went over a limit shows a clear problem, is not retried, and touches
// nothing saved.
func TestServerSentTooMuch(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	s := c.Settings()
	s.Network.Reconnect = true
	if err := c.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	connectFake(t, c)
	saved := map[string][]byte{}
	for _, name := range []string{BookmarksFile, SettingsFile} {
		data, err := c.storage.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		saved[name] = data
	}
	fake.drop(fmt.Errorf("%w: more than 256 levels of channels", mumble.ErrServerTooMuch))
	st := waitFor(t, c, "disconnected", isPhase(PhaseDisconnected))
	if !strings.Contains(st.Problem.Message, "sent more than") || st.ReconnectIn != 0 {
		t.Errorf("problem %+v, reconnect in %v", st.Problem, st.ReconnectIn)
	}
	for name, data := range saved {
		now, err := c.storage.ReadFile(name)
		if err != nil || !bytes.Equal(now, data) {
			t.Errorf("%s changed (%v)", name, err)
		}
	}
	if _, retry := classify(Bookmark{}, errors.Join(mumble.ErrServerTooMuch)); retry {
		t.Error("a server that sent too much is retried")
	}
}
