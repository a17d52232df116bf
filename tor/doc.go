// Package tor owns Tumble's connection to the Tor network: starting or
// finding a Tor, dialing through it without leaks, onion address checks,
// onion client authorization and publishing onion services.
//
// A Server is configured through its fields and used like tailscale's
// tsnet.Server:
//
//	s := &tor.Server{Creator: libtor.Creator()} // embedded Tor, default data dir
//	defer s.Close()
//	for st := range s.Subscribe(ctx) { ... }    // bootstrap progress for a progress bar
//	if _, err := s.Up(ctx); err != nil { ... }  // wait for bootstrap
//	conn, err := s.Isolated(bookmark.Isolation).DialContext(ctx, "tcp", "xyz...xyz.onion:64738")
//
// # Modes
//
// ModeEmbedded runs Tor inside the process (package tor/libtor, build tag
// libtor; this package itself has no cgo). ModeSOCKS uses an existing Tor's
// SOCKS port (Whonix gateway, Tails, Orbot); on a Whonix workstation the
// default mode uses the gateway's port and an embedded Tor is refused, since
// Tor over Tor only weakens anonymity. ModeOff connects directly and must be
// chosen explicitly; IsProtected then reports false.
//
// # Bridges
//
// With Server.UseBridges the embedded Tor reaches the network only through
// the bridges in Server.Bridges (obfs4, Snowflake, WebTunnel or plain
// bridge lines, checked line by line by ParseBridgeLines). Pluggable
// transports run as Tor managed proxies (ClientTransportPlugin ... exec):
// the distribution's programs (Debian's obfs4proxy and snowflake-client),
// not Go transports built into Tumble and re-executed. The Go modules
// (lyrebird, snowflake) cannot be had through the module proxy here
// (lyrebird v0.6.1: 403 "not available"), and the distribution's programs
// get security updates from the distribution. A build for Android, where
// there are no such packages, will need the built-in transports; it can
// set Server.TransportPaths to them. Status.BridgeFailure names a failing
// bridge and Status.Hint suggests bridges when Tor cannot reach a relay.
// Bridges are refused in socks and off modes (ErrBridgesNotHere): there
// they belong to the Tor that owns the SOCKS port.
//
// # Privacy invariants
//
//   - Host names, .onion or not, are sent to Tor's SOCKS port as names
//     (SOCKS5 address type 3). This package never resolves a name and never
//     dials a target directly, except in ModeOff.
//   - Dialing fails closed: before Tor has bootstrapped, after it stopped
//     and after Close, Dial returns an error (ErrNotReady, ErrTorExited,
//     net.ErrClosed) and opens no connection at all.
//   - Every Isolation (one per bookmark) is sent as SOCKS username and
//     password; the SocksPort isolates by them (IsolateSOCKSAuth), so
//     different servers never share a circuit.
//   - The embedded Tor has no TCP control port; it is controlled over its
//     owning control socket only, and refuses TestingTorNetwork unless
//     Server.AllowTestingNetwork is set.
//
// Errors returned by this package start with "tor: " and wrap the
// package's sentinel errors where one applies (use errors.Is).
package tor
