package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
)

// errOnionNeedsTor refuses to connect to an onion service without Tor:
// that would look the name up in the DNS.
var errOnionNeedsTor = errors.New("an .onion address can only be reached through Tor, and Tor is off")

// connectionEnd returns the reason a connection ended, never nil.
func connectionEnd(err error) error {
	if err == nil {
		err = mumble.ErrServerClosed
	}
	return &lostError{err: err}
}

// mayBeNetwork reports whether a connection that ended with err could
// have been ended by the network (or Tor) rather than by the server's
// decision: the connection closed or reset, or silence.
func mayBeNetwork(err error) bool {
	return errors.Is(err, mumble.ErrServerClosed) || errors.Is(err, mumble.ErrPingTimeout) || isTimeout(err) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}

// lostError marks the end of an established connection. tor is the
// status of the Tor server the connection went through when it ended, and
// torDown reports that Tor itself had stopped or lost its readiness then:
// the server is not to blame.
type lostError struct {
	err     error
	tor     tor.Status
	torDown bool
}

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// classify turns why an attempt or connection ended into a Problem for the
// user, and says whether reconnecting automatically makes sense. The
// Message says what happened and what to do, in words a person
// understands; Detail keeps the raw error for the "Details" button. This
// is the one place where Tor, SOCKS, TLS and Mumble failures get their
// sentences.
func classify(b Bookmark, err error) (p Problem, retry bool) {
	p, retry = explain(b, err)
	if err != nil && p.Detail == "" {
		p.Detail = err.Error()
	}
	return p, retry
}

// explain does classify's work, except for Detail.
func explain(b Bookmark, err error) (Problem, bool) {
	name := b.Name()
	other := func(retry bool, format string, args ...any) (Problem, bool) {
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(format, args...)}, retry
	}
	var (
		mismatch   *mumble.CertificateMismatchError
		unverified *mumble.UnverifiedCertificateError
		torErr     *torError
		kicked     *mumble.KickedError
		lost       *lostError
		socksErr   *tor.SOCKSError
		dnsErr     *net.DNSError
	)
	switch {
	case err == nil:
		return other(true, "The connection to %s ended.", name)
	case errors.As(err, &mismatch):
		return Problem{
			Kind: ProblemCertificateChanged,
			Message: fmt.Sprintf("The certificate of %s has changed. This can mean that someone is intercepting "+
				"the connection, or that the server's operator replaced the certificate. The connection was refused.", name),
			PinnedFingerprint: mismatch.Pinned,
			NewFingerprint:    mismatch.Got,
		}, false
	case errors.Is(err, errCertificateRefused):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(
			"The certificate of %s was not trusted, so nothing was sent to it (no password, no name).", name)}, false
	case errors.As(err, &unverified):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(
			"The certificate of %s could not be verified (%v); nothing was sent to it. Its SHA-256 fingerprint is %s.",
			name, unverified.Err, unverified.Fingerprint)}, false
	case errors.Is(err, mumble.ErrServerTooMuch):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(
			"%s sent more than any real Mumble server would, so Tumble disconnected. Nothing you saved was changed.", name)}, false
	case errors.Is(err, mumble.ErrWrongServerPW):
		if b.Password == "" {
			return Problem{Kind: ProblemWrongPassword, PasswordNeeded: true, Message: fmt.Sprintf(
				"%s needs a server password. Enter the password its operator gave you.", name)}, false
		}
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf(
			"%s refused the server password. Check it and enter it again.", name)}, false
	case errors.Is(err, mumble.ErrWrongUserPW):
		if b.Password == "" {
			return Problem{Kind: ProblemWrongPassword, PasswordNeeded: true, Message: fmt.Sprintf(
				"The user name %s is registered on %s with another certificate. Enter that user's password, "+
					"or choose another user name.", b.Username, name)}, false
		}
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf(
			"%s refused the password of the registered user %s. Check it and enter it again.", name, b.Username)}, false
	case errors.Is(err, tor.ErrClientAuthRequired):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s admits only clients with an authorization key, and this bookmark has none. "+
				"Add the key its operator gave you.", name)}, false
	case errors.Is(err, tor.ErrClientAuthBad):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s rejected the bookmark's client authorization key. Ask its operator for the current key.", name)}, false
	case errors.As(err, &lost):
		return explainLost(b, lost)
	case errors.As(err, &torErr):
		return Problem{Kind: ProblemTorFailed, Message: explainTor(torErr)}, false
	case errors.Is(err, errOnionNeedsTor):
		return other(false, "%s is an onion service, which only Tor can reach, and Tor is off. Turn Tor on in Settings > Network.", name)
	case errors.Is(err, tor.ErrSOCKSUnreachable):
		return Problem{Kind: ProblemTorFailed, Message: "Nothing answers at the SOCKS port of Tor: is Tor running there? " +
			"Start that Tor, or check the SOCKS address (or use the embedded Tor) in Settings > Network."}, true
	case errors.Is(err, tor.ErrTorExited):
		return Problem{Kind: ProblemTorFailed, Message: "Tor stopped running. Quit and restart Tumble to start it again."}, false
	case errors.Is(err, tor.ErrNotReady):
		return other(true, "Tor is not connected to the Tor network yet, so %s cannot be reached. Wait for the Tor bar to say ready.", name)
	case errors.Is(err, tor.ErrOnionNotFound):
		return other(true, "%s cannot be found on the Tor network: the onion service is offline, or the address is wrong. "+
			"Check the address, or try again later.", name)
	case errors.Is(err, tor.ErrOnionIntroFailed), errors.Is(err, tor.ErrOnionRendFailed), errors.Is(err, tor.ErrOnionIntroTimeout):
		return other(true, "Tor found the onion service %s but could not get through to it. The service may be "+
			"overloaded or going offline; trying again often helps.", name)
	case errors.Is(err, tor.ErrOnionInvalid):
		return other(true, "The onion service %s publishes broken information on the Tor network. Tell its operator.", name)
	case errors.Is(err, tor.ErrOnionBadAddress), errors.Is(err, tor.ErrBadOnion), errors.Is(err, tor.ErrV2Onion):
		return other(false, "The address of %s is not a valid onion address. Check the bookmark's address.", name)
	case errors.As(err, &socksErr):
		return explainSOCKS(b, socksErr.Code)
	case errors.As(err, &kicked):
		return other(false, "%s removed you (%v).", name, kicked)
	case errors.Is(err, mumble.ErrUsernameInUse):
		return other(true, "%s says the user name %s is in use (an earlier connection may linger for a while). "+
			"Wait a moment, or choose another user name.", name, b.Username)
	case errors.Is(err, mumble.ErrServerFull):
		return other(true, "%s is full. Try again later.", name)
	case errors.Is(err, mumble.ErrNoNewConnections):
		return other(true, "%s accepts no new connections at the moment. Try again later.", name)
	case errors.Is(err, mumble.ErrInvalidUsername):
		return other(false, "%s does not accept the user name %s. Choose another one in the bookmark.", name, b.Username)
	case errors.Is(err, mumble.ErrWrongVersion):
		return other(false, "%s runs a Mumble version Tumble cannot talk to.", name)
	case errors.Is(err, mumble.ErrNoCertificate), errors.Is(err, mumble.ErrAuthenticatorFail):
		return other(false, "%s refused to let this user in (its authenticator said no). Ask its operator.", name)
	case errors.Is(err, mumble.ErrRejected):
		return other(false, "%s refused the connection.", name)
	case errors.Is(err, mumble.ErrPingTimeout):
		return other(true, "%s stopped answering. The network or the Tor circuit may be down.", name)
	case errors.Is(err, mumble.ErrServerClosed):
		return other(true, "%s closed the connection.", name)
	case isTimeout(err):
		return other(true, "%s did not answer in time. The server may be offline, or the network (or Tor) is slow; "+
			"over Tor a first connection can take a minute.", name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return other(true, "%s refused the connection: no server is running on that port, or the address is wrong.", name)
	case errors.As(err, &dnsErr):
		return other(false, "The name %s could not be found. Check the bookmark's address.", b.Address)
	case isTLSFailure(err):
		return other(true, "%s did not complete a secure (TLS) connection: it may not be a Mumble server, "+
			"or something on the way interferes.", name)
	}
	return Problem{Kind: ProblemOther, Message: genericMessage(b)}, true
}

// genericMessage is the Message for a failure explain knows nothing about.
func genericMessage(b Bookmark) string { return fmt.Sprintf("Could not connect to %s.", b.Name()) }

// explainLost says why an established connection ended. A loss caused by
// Tor is Tor's, not the server's.
func explainLost(b Bookmark, lost *lostError) (Problem, bool) {
	name := b.Name()
	if lost.torDown {
		msg := fmt.Sprintf("The connection to %s was lost because Tor stopped working", name)
		switch st := lost.tor; {
		case st.Ready && st.NetworkDown && st.Err == nil:
			msg = fmt.Sprintf("The connection to %s was lost because Tor lost the network, not because of the server: %s. "+
				"Check this computer's network connection; Tumble connects again once Tor gets through.", name, st.NetworkProblem)
			if st.Mode == tor.ModeSOCKS {
				msg = fmt.Sprintf("The connection to %s was lost because the Tor Tumble uses stopped working, "+
					"not because of the server: %s. Check that this Tor (Tails, Whonix, Orbot) still runs and reaches the network.",
					name, st.NetworkProblem)
			}
			return Problem{Kind: ProblemOther, Message: msg}, true
		case st.Err != nil:
			msg += " (Tor is no longer running). Quit and restart Tumble."
			return Problem{Kind: ProblemTorFailed, Message: msg}, false
		case st.Hint != "":
			msg += ". " + st.Hint
		default:
			msg += "; it is reconnecting to the Tor network. Tumble connects again when Tor is ready."
		}
		return Problem{Kind: ProblemOther, Message: msg}, true
	}
	inner, retry := explain(b, lost.err)
	switch {
	case lost.tor.Mode == tor.ModeSOCKS && lost.tor.Ready && mayBeNetwork(lost.err):
		// The other Tor's circuits are not ours to see: say so.
		inner.Message = fmt.Sprintf("The connection to %s was lost: the server or the Tor network ended it. "+
			"Through an external Tor (SOCKS port) Tumble cannot see which; that Tor's SOCKS port still answers.", name)
		retry = true
	case errors.Is(lost.err, mumble.ErrServerClosed) || errors.Is(lost.err, mumble.ErrPingTimeout):
		inner.Message = "The connection was lost: " + inner.Message
	case inner.Message == genericMessage(b):
		inner.Message = fmt.Sprintf("The connection to %s was lost. The network or the Tor circuit may be down.", name)
		retry = true
	}
	return inner, retry
}

// explainTor says why Tor could not carry the connection.
func explainTor(e *torError) string {
	switch {
	case errors.Is(e, tor.ErrNoEmbeddedTor):
		return "This Tumble was built without its own Tor. Choose a running Tor's SOCKS port in Settings > Network."
	case errors.Is(e, tor.ErrTorOverTor):
		return "This system already sends everything through Tor (Whonix). Use the gateway's SOCKS port in Settings > Network."
	case errors.Is(e, tor.ErrNoTransport):
		return "A bridge needs a pluggable transport program that is not installed (obfs4proxy or snowflake-client). " +
			"Install it, or choose other bridges in Settings > Network."
	case errors.Is(e, tor.ErrTestingNetwork):
		return "The extra Tor configuration turns on a testing network, which Tumble refuses outside tests."
	case errors.Is(e, tor.ErrSOCKSUnreachable):
		return "Nothing answers at the SOCKS port of Tor: is Tor running there? Check Settings > Network."
	}
	msg := "Tor could not connect to the Tor network."
	if e.status.Hint != "" {
		msg += " " + e.status.Hint
	} else {
		msg += " If this network blocks Tor, turn on bridges in Settings > Network; if you already run Tor " +
			"(Tails, Whonix, Orbot), choose its SOCKS port there."
	}
	return msg
}

// explainSOCKS says what a SOCKS failure reply from Tor means for a
// connection to b.
func explainSOCKS(b Bookmark, code byte) (Problem, bool) {
	name := b.Name()
	var msg string
	retry := true
	switch code {
	case 0x01:
		msg = fmt.Sprintf("Tor could not connect to %s: the server may be offline or refuse connections from Tor.", name)
	case 0x02:
		msg = fmt.Sprintf("Tor does not allow connections to %s on port %d. Ask the operator for an onion address "+
			"or a usual port.", name, b.Port)
		retry = false
	case 0x03, 0x04:
		msg = fmt.Sprintf("Tor could not reach %s: the name is unknown or the host unreachable. Check the address.", name)
	case 0x05:
		msg = fmt.Sprintf("%s refused the connection: no server is running on that port, or the address is wrong.", name)
	case 0x06:
		msg = fmt.Sprintf("%s did not answer in time through Tor. The server may be offline, or the circuit slow.", name)
	default:
		msg = fmt.Sprintf("Tor could not connect to %s.", name)
	}
	return Problem{Kind: ProblemOther, Message: msg}, retry
}

// isTimeout reports a deadline that passed: a context deadline or a
// network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// isTLSFailure reports a failed TLS handshake: an alert from the peer, a
// record that is not TLS, or a certificate that cannot be parsed.
func isTLSFailure(err error) bool {
	var (
		alert  tls.AlertError
		record tls.RecordHeaderError
		cert   x509.CertificateInvalidError
		parse  asn1.StructuralError
	)
	return errors.As(err, &alert) || errors.As(err, &record) || errors.As(err, &cert) || errors.As(err, &parse)
}
