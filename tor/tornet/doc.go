// Package tornet runs a private Tor network on 127.0.0.1 for tests.
//
// A network is three directory authorities, three relays, an onion-service
// tor and a standalone client tor. Every one is a /usr/bin/tor process (Debian
// package tor) started by [Start] or [StartT], with its data directory, torrc
// and log under one directory. Every torrc sets TestingTorNetwork 1 and the
// network's own DirAuthority lines, every listener is on 127.0.0.1 and no
// relay is an exit (ExitPolicy reject *:*), so no tor started here ever
// contacts the real Tor network or opens a connection to a destination a
// client chose. Onion services need no exits.
//
// Start launches the authorities and relays first and waits until every
// authority serves a consensus that lists all six as Running and every relay
// (each is a directory cache) holds all their microdescriptors; only then
// does it launch the onion-service and client tors. A tor that bootstraps
// earlier, on a one-relay consensus or from a cache still missing
// microdescriptors, stalls for 10 to 40 seconds before it fetches better
// ones. Start returns once both have bootstrapped, typically 10 to 20 seconds
// after it was called on an idle 2-core machine; the progress of each phase
// is logged to tornet.log in the network's directory.
//
// Tests reach the network in three ways:
//
//   - [Network.SOCKSAddr] is the client tor's SOCKS5 port (IsolateSOCKSAuth,
//     ExtendedErrors); [Network.ControlAddr] and [Network.ControlPassword]
//     give access to its control port, for GETINFO circuit-status or
//     ONION_CLIENT_AUTH_ADD.
//   - [Network.ClientTorrc] is the configuration an embedded Tor needs to
//     join the network instead of the real one.
//   - [Network.AddOnionService] publishes an onion service for a TCP server
//     on 127.0.0.1, optionally with client authorization, and returns once
//     the service is reachable.
//
// Processes are killed by [Network.Close] (StartT registers it with
// t.Cleanup). On Linux the kernel also kills them if the test binary dies
// (Pdeathsig); elsewhere each tor watches the test process
// (__OwningControllerProcess) and exits some seconds after it.
package tornet
