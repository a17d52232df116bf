// Package murmurtest starts real Mumble servers on loopback for tests, in the
// spirit of net/http/httptest.
//
// Two server versions are available: [V13], the Debian bookworm murmurd 1.3.4
// (/usr/sbin/murmurd, package mumble-server), and [V15], the Mumble 1.5 server
// unpacked from Debian trixie's packages by prepare-murmur15.sh (run by
// `make deps`) into $TUMBLE_MURMUR15_PREFIX.
//
// [Start] runs a server for one test: it picks a free port on 127.0.0.1,
// writes the server's ini file, database and log into t.TempDir(), sets a
// SuperUser password, optionally creates channels, waits until the server
// completes TLS handshakes and stops it when the test ends, logging the
// server's output if the test failed. When a server binary is missing the test
// is skipped, or fails if TUMBLE_REQUIRE_SERVERS=1. [StartProcess] does the
// same without a testing.TB, for TestMain functions and benchmark harnesses.
//
// Servers only ever listen on 127.0.0.1. They are configured for tests: no
// automatic banning of repeated connections (which would otherwise ban
// loopback after 10 connections in 120 s), no Ice or D-Bus RPC, no Bonjour,
// Opus always, a cheap password hash. Like any Mumble server they drop a
// client that sends nothing for 30 seconds.
package murmurtest
