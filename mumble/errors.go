package mumble

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Errors describing the end of a connection.
//
// The error types below (RejectError, PermissionDeniedError and so on) have
// messages without the package prefix; the Client wraps them with the
// operation that failed, for example "mumble: join channel 3: permission
// denied: Enter in channel 3".
var (
	// ErrClosed is the reason given when the Client was closed by its
	// owner (Client.Close). Actions on a closed client return an error
	// wrapping it.
	ErrClosed = errors.New("mumble: client closed")
	// ErrPingTimeout means nothing arrived from the server for
	// Config.PingTimeout.
	ErrPingTimeout = errors.New("mumble: server silent for longer than the ping timeout")
	// ErrServerClosed means the server closed the connection without a
	// Reject or UserRemove message saying why.
	ErrServerClosed = errors.New("mumble: server closed the connection")
)

// A RejectType says why a server refused a connection (MumbleProto
// Reject.RejectType).
type RejectType int32

// Reject types.
const (
	RejectNone              RejectType = 0
	RejectWrongVersion      RejectType = 1
	RejectInvalidUsername   RejectType = 2
	RejectWrongUserPW       RejectType = 3
	RejectWrongServerPW     RejectType = 4
	RejectUsernameInUse     RejectType = 5
	RejectServerFull        RejectType = 6
	RejectNoCertificate     RejectType = 7
	RejectAuthenticatorFail RejectType = 8
	RejectNoNewConnections  RejectType = 9
)

// Sentinel errors matching a *RejectError of each type with errors.Is.
// ErrRejected matches every *RejectError.
var (
	ErrRejected          = errors.New("mumble: connection rejected")
	ErrWrongVersion      = errors.New("mumble: rejected: incompatible version")
	ErrInvalidUsername   = errors.New("mumble: rejected: invalid user name")
	ErrWrongUserPW       = errors.New("mumble: rejected: wrong user password")
	ErrWrongServerPW     = errors.New("mumble: rejected: wrong server password")
	ErrUsernameInUse     = errors.New("mumble: rejected: user name in use")
	ErrServerFull        = errors.New("mumble: rejected: server full")
	ErrNoCertificate     = errors.New("mumble: rejected: certificate required")
	ErrAuthenticatorFail = errors.New("mumble: rejected: authenticator failure")
	ErrNoNewConnections  = errors.New("mumble: rejected: server not accepting connections")
)

var rejectSentinels = map[RejectType]error{
	RejectWrongVersion:      ErrWrongVersion,
	RejectInvalidUsername:   ErrInvalidUsername,
	RejectWrongUserPW:       ErrWrongUserPW,
	RejectWrongServerPW:     ErrWrongServerPW,
	RejectUsernameInUse:     ErrUsernameInUse,
	RejectServerFull:        ErrServerFull,
	RejectNoCertificate:     ErrNoCertificate,
	RejectAuthenticatorFail: ErrAuthenticatorFail,
	RejectNoNewConnections:  ErrNoNewConnections,
}

var rejectNames = map[RejectType]string{
	RejectNone: "None", RejectWrongVersion: "WrongVersion", RejectInvalidUsername: "InvalidUsername",
	RejectWrongUserPW: "WrongUserPW", RejectWrongServerPW: "WrongServerPW", RejectUsernameInUse: "UsernameInUse",
	RejectServerFull: "ServerFull", RejectNoCertificate: "NoCertificate", RejectAuthenticatorFail: "AuthenticatorFail",
	RejectNoNewConnections: "NoNewConnections",
}

// String returns upstream's name for t.
func (t RejectType) String() string {
	if n, ok := rejectNames[t]; ok {
		return n
	}
	return "RejectType(" + strconv.Itoa(int(t)) + ")"
}

// A RejectError is the server's refusal of a connection (a Reject message).
// errors.Is matches it against ErrRejected and the sentinel of its type.
type RejectError struct {
	Type   RejectType
	Reason string // the server's explanation, possibly empty
}

func (e *RejectError) Error() string {
	if e.Reason == "" {
		return "server rejected the connection: " + e.Type.String()
	}
	return fmt.Sprintf("server rejected the connection: %v: %s", e.Type, e.Reason)
}

// Is reports whether target is ErrRejected or the sentinel for e.Type.
func (e *RejectError) Is(target error) bool {
	return target == ErrRejected || (target != nil && rejectSentinels[e.Type] == target)
}

// A DenyType says why the server refused an action (MumbleProto
// PermissionDenied.DenyType).
type DenyType int32

// Deny types.
const (
	DenyText                 DenyType = 0 // see Reason
	DenyPermission           DenyType = 1 // missing Permission in ChannelID
	DenySuperUser            DenyType = 2
	DenyChannelName          DenyType = 3
	DenyTextTooLong          DenyType = 4
	DenyH9K                  DenyType = 5
	DenyTemporaryChannel     DenyType = 6
	DenyMissingCertificate   DenyType = 7
	DenyUserName             DenyType = 8
	DenyChannelFull          DenyType = 9
	DenyNestingLimit         DenyType = 10
	DenyChannelCountLimit    DenyType = 11
	DenyChannelListenerLimit DenyType = 12
	DenyUserListenerLimit    DenyType = 13
)

var denyNames = map[DenyType]string{
	DenyText: "Text", DenyPermission: "Permission", DenySuperUser: "SuperUser", DenyChannelName: "ChannelName",
	DenyTextTooLong: "TextTooLong", DenyH9K: "H9K", DenyTemporaryChannel: "TemporaryChannel",
	DenyMissingCertificate: "MissingCertificate", DenyUserName: "UserName", DenyChannelFull: "ChannelFull",
	DenyNestingLimit: "NestingLimit", DenyChannelCountLimit: "ChannelCountLimit",
	DenyChannelListenerLimit: "ChannelListenerLimit", DenyUserListenerLimit: "UserListenerLimit",
}

// String returns upstream's name for t.
func (t DenyType) String() string {
	if n, ok := denyNames[t]; ok {
		return n
	}
	return "DenyType(" + strconv.Itoa(int(t)) + ")"
}

// ErrPermissionDenied matches every *PermissionDeniedError with errors.Is.
var ErrPermissionDenied = errors.New("mumble: permission denied")

// A PermissionDeniedError is the server's refusal of an action (a
// PermissionDenied message).
type PermissionDeniedError struct {
	Type       DenyType
	Permission Permission // the missing permission, for DenyPermission
	ChannelID  uint32     // the channel concerned, for DenyPermission
	HasChannel bool       // ChannelID was sent
	Session    uint32     // the user concerned, if any
	Reason     string     // the server's explanation, for DenyText
	Name       string     // the invalid name, for DenyUserName
}

func (e *PermissionDeniedError) Error() string {
	switch {
	case e.Type == DenyPermission && e.HasChannel:
		return fmt.Sprintf("permission denied: %v in channel %d", e.Permission, e.ChannelID)
	case e.Type == DenyPermission:
		return fmt.Sprintf("permission denied: %v", e.Permission)
	case e.Reason != "":
		return fmt.Sprintf("permission denied (%v): %s", e.Type, e.Reason)
	case e.Name != "":
		return fmt.Sprintf("permission denied (%v): %q", e.Type, e.Name)
	}
	return fmt.Sprintf("permission denied (%v)", e.Type)
}

// Is reports whether target is ErrPermissionDenied.
func (e *PermissionDeniedError) Is(target error) bool { return target == ErrPermissionDenied }

// A CertificateMismatchError reports a server certificate whose SHA-256
// fingerprint differs from the pinned one. It may mean the server's
// certificate was replaced, or that someone is intercepting the connection.
type CertificateMismatchError struct {
	Pinned Fingerprint // the expected fingerprint
	Got    Fingerprint // the server's fingerprint
}

func (e *CertificateMismatchError) Error() string {
	return fmt.Sprintf("server certificate changed: pinned SHA-256 %s, server presented %s", e.Pinned, e.Got)
}

// An UnverifiedCertificateError stops a connection to a server reached by
// a DNS name whose certificate is neither pinned nor valid for that name
// under the system's certificate authorities (self-signed certificates are
// common on Mumble servers). It comes after the TLS handshake and before
// anything was sent to the server: no user name, password or token left.
// Anyone between the client and the server (a Tor exit relay) could have
// presented this certificate: compare Fingerprint with one obtained from
// the server's operator, then pin it (Config.PinnedFingerprint) or accept
// it with Config.VerifyServer.
type UnverifiedCertificateError struct {
	Host        string
	Fingerprint Fingerprint // the certificate's SHA-256
	Err         error       // why verification failed
}

func (e *UnverifiedCertificateError) Error() string {
	return fmt.Sprintf("server certificate for %s is not verified (%v); its SHA-256 fingerprint is %s", e.Host, e.Err, e.Fingerprint)
}

func (e *UnverifiedCertificateError) Unwrap() error { return e.Err }

// A KickedError is the reason for a disconnection when the server removed
// this client (UserRemove for our own session).
type KickedError struct {
	Actor  uint32 // session of the user who kicked or banned us; 0 if the server
	By     string // that user's name, if known
	Reason string
	Ban    bool
}

func (e *KickedError) Error() string {
	what := "kicked"
	if e.Ban {
		what = "banned"
	}
	s := what
	if e.By != "" {
		s += " by " + e.By
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// A TextTooLongError reports a text message longer than the server allows.
// Lengths count UTF-16 code units, as the server does.
type TextTooLongError struct {
	Length, Max int
}

func (e *TextTooLongError) Error() string {
	return fmt.Sprintf("text message of %d characters exceeds the server's limit of %d", e.Length, e.Max)
}

// pingTimeoutError wraps ErrPingTimeout with the duration.
func pingTimeoutError(d time.Duration) error {
	return fmt.Errorf("%w (%v)", ErrPingTimeout, d)
}
