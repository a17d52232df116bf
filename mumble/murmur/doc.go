// Package murmur runs the real Mumble server (murmurd / mumble-server from
// the distribution) as a child process bound to 127.0.0.1, configured for a
// room reached only through a Tor onion service.
//
// [Start] finds the binary ([Binary]), writes the server's ini file, TLS
// certificate and key into a private directory (0700, files 0600, atomic
// writes), sets the SuperUser password, starts the server in the foreground
// and returns once it completes TLS handshakes. The ini carries privacy
// defaults for a server whose every guest arrives from 127.0.0.1 through Tor
// (see [Config]): no automatic banning, no log file, no ping, version,
// Bonjour or public registration, Opus always, no HTML.
//
// On Linux the kernel kills the server if the process that started it dies
// (even by SIGKILL), and a pid file lets the next Start kill a server left
// over from a crash on another platform.
package murmur
