package app

import (
	"errors"
	"fmt"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
)

// errOnionNeedsTor refuses to connect to an onion service without Tor:
// that would look the name up in the DNS.
var errOnionNeedsTor = errors.New("an .onion address can only be reached through Tor, and Tor is off")

// connectionEnd returns the reason a connection ended, never nil.
func connectionEnd(err error) error {
	if err == nil {
		return mumble.ErrServerClosed
	}
	return &lostError{err: err}
}

// lostError marks the end of an established connection.
type lostError struct{ err error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// classify turns why an attempt or connection ended into a Problem for the
// user, and says whether reconnecting automatically makes sense.
func classify(b Bookmark, err error) (p Problem, retry bool) {
	name := b.Name()
	var (
		mismatch   *mumble.CertificateMismatchError
		unverified *mumble.UnverifiedCertificateError
		torErr     *torError
		kicked     *mumble.KickedError
		lost       *lostError
	)
	switch {
	case err == nil:
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("The connection to %s ended.", name)}, true
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
			"%s sent more than any real Mumble server would (%v), so Tumble disconnected. Nothing you saved was changed.", name, err)}, false
	case errors.Is(err, mumble.ErrWrongServerPW):
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf("%s refused the server password.", name)}, false
	case errors.Is(err, mumble.ErrWrongUserPW):
		return Problem{Kind: ProblemWrongPassword, Message: fmt.Sprintf("%s refused the password of the registered user %s.", name, b.Username)}, false
	case errors.Is(err, tor.ErrClientAuthRequired):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s requires client authorization. Add the key its operator gave you to the bookmark.", name)}, false
	case errors.Is(err, tor.ErrClientAuthBad):
		return Problem{Kind: ProblemClientAuthRequired, Message: fmt.Sprintf(
			"The onion service %s rejected the bookmark's client authorization key.", name)}, false
	case errors.As(err, &torErr):
		return Problem{Kind: ProblemTorFailed, Message: "Tor failed: " + torErr.Error()}, false
	case errors.Is(err, errOnionNeedsTor):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("Cannot connect to %s: %v.", name, err)}, false
	case errors.As(err, &kicked):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s: %v", name, kicked)}, false
	case errors.Is(err, mumble.ErrUsernameInUse):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf(
			"%s says the user name %s is in use (an earlier connection may linger for a while).", name, b.Username)}, true
	case errors.Is(err, mumble.ErrServerFull), errors.Is(err, mumble.ErrNoNewConnections):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s refused the connection: %v", name, err)}, true
	case errors.Is(err, mumble.ErrRejected):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("%s refused the connection: %v", name, err)}, false
	case errors.As(err, &lost):
		return Problem{Kind: ProblemOther, Message: fmt.Sprintf("The connection to %s was lost: %v", name, lost.err)}, true
	}
	return Problem{Kind: ProblemOther, Message: fmt.Sprintf("Could not connect to %s: %v", name, err)}, true
}
