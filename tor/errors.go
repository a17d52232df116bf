package tor

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap them with context and
// the "tor: " prefix; test for them with errors.Is.
var (
	// ErrNotStarted is returned by Dial and friends before Start (or Up).
	ErrNotStarted = errors.New("not started (call Start or Up first)")

	// ErrNotReady is returned by Dial while Tor is still bootstrapping. No
	// connection is attempted: dialing fails closed until Tor is ready.
	ErrNotReady = errors.New("not ready: Tor has not finished bootstrapping")

	// ErrTorExited is returned once the Tor instance has stopped on its own
	// (crash, lost control connection). Nothing is dialed directly instead.
	ErrTorExited = errors.New("the Tor instance is no longer running")

	// ErrSOCKSUnreachable is returned by Dial when nothing answers at the
	// SOCKS port of Tor (Tor not running there, or the address wrong).
	ErrSOCKSUnreachable = errors.New("the SOCKS port of Tor does not answer")

	// ErrNoEmbeddedTor is returned by Start in embedded mode when the binary
	// was built without the embedded Tor (Server.Creator is nil).
	ErrNoEmbeddedTor = errors.New("built without embedded Tor (build with -tags libtor)")

	// ErrNoControl is returned for operations that need Tor's control
	// connection (onion client authorization, Listen) in modes that have none.
	ErrNoControl = errors.New("no control connection to Tor in this mode (only the embedded Tor has one)")

	// ErrTestingNetwork is returned by Start when the extra torrc lines turn
	// on TestingTorNetwork and Server.AllowTestingNetwork is false.
	ErrTestingNetwork = errors.New("torrc enables TestingTorNetwork; refusing to start (only allowed with an explicitly given torrc file)")

	// ErrTorOverTor is returned by Start when an embedded Tor is requested
	// on a system whose traffic already goes through Tor (Whonix workstation).
	ErrTorOverTor = errors.New("this system already routes through Tor (Whonix workstation); use the gateway's SOCKS port instead of running Tor over Tor")

	// ErrV2Onion reports a 16-character (version 2) onion address. The Tor
	// network dropped v2 onion services in 2021.
	ErrV2Onion = errors.New("v2 onion addresses are no longer supported")

	// ErrOnionNeedsTor is returned by Dial in ModeOff for an onion address:
	// only Tor reaches onion services, and a direct dial would ask the
	// system's DNS for the name.
	ErrOnionNeedsTor = errors.New("onion services can only be reached through Tor (Tor is off)")

	// ErrBadOnion reports a malformed v3 onion address (length, alphabet,
	// checksum or version).
	ErrBadOnion = errors.New("invalid onion address")

	// Onion service failures reported by Tor with SOCKS5 extended errors
	// (prop 304, reply codes 0xF0-0xF7).
	ErrOnionNotFound      = errors.New("onion service descriptor not found (service offline or address wrong)")
	ErrOnionInvalid       = errors.New("onion service descriptor is invalid")
	ErrOnionIntroFailed   = errors.New("onion service introduction failed")
	ErrOnionRendFailed    = errors.New("onion service rendezvous failed")
	ErrClientAuthRequired = errors.New("client authorization required")
	ErrClientAuthBad      = errors.New("client authorization key rejected by the onion service")
	ErrOnionBadAddress    = errors.New("onion address rejected by Tor")
	ErrOnionIntroTimeout  = errors.New("onion service introduction timed out")
)

// SOCKSError is a failure reply from Tor's SOCKS5 port. For Tor's extended
// onion service codes it unwraps to one of the ErrOnion*/ErrClientAuth*
// sentinels, so errors.Is(err, ErrClientAuthRequired) works.
type SOCKSError struct {
	// Code is the SOCKS5 reply code (RFC 1928 section 6, Tor prop 304).
	Code byte
}

// socksReplyText holds the RFC 1928 reply texts.
var socksReplyText = map[byte]string{
	0x01: "general SOCKS server failure",
	0x02: "connection not allowed by ruleset",
	0x03: "network unreachable",
	0x04: "host unreachable",
	0x05: "connection refused",
	0x06: "TTL expired (timed out inside Tor)",
	0x07: "command not supported",
	0x08: "address type not supported",
}

func (e *SOCKSError) Error() string {
	if inner := e.Unwrap(); inner != nil {
		return fmt.Sprintf("%v (SOCKS reply 0x%02X)", inner, e.Code)
	}
	if t, ok := socksReplyText[e.Code]; ok {
		return fmt.Sprintf("%s (SOCKS reply 0x%02X)", t, e.Code)
	}
	return fmt.Sprintf("unknown SOCKS reply 0x%02X", e.Code)
}

// Unwrap returns the sentinel error for Tor's extended onion service codes
// and nil for plain SOCKS5 codes.
func (e *SOCKSError) Unwrap() error {
	switch e.Code {
	case 0xF0:
		return ErrOnionNotFound
	case 0xF1:
		return ErrOnionInvalid
	case 0xF2:
		return ErrOnionIntroFailed
	case 0xF3:
		return ErrOnionRendFailed
	case 0xF4:
		return ErrClientAuthRequired
	case 0xF5:
		return ErrClientAuthBad
	case 0xF6:
		return ErrOnionBadAddress
	case 0xF7:
		return ErrOnionIntroTimeout
	}
	return nil
}
