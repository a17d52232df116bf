// Package libtor runs Tor inside the current process. It implements
// github.com/cretz/bine's process.Creator over Tor's embedding API
// (tor_api.h: tor_main_configuration_new, tor_main_configuration_set_command_line,
// tor_main_configuration_setup_control_socket, tor_run_main), linked
// statically from libtor.a.
//
// Why not github.com/ipsn/go-libtor: it bundles Tor 0.3.5, which today's
// network rejects. Current directory authorities list FlowCtrl=1 as a
// required protocol; Tor 0.3.5 does not support it, logs "At least one
// protocol listed as required in the consensus is not supported" and calls
// exit(1), killing the whole program. This package links a current Tor
// instead (0.4.9, built from Debian's tor source package by build-libtor.sh,
// see TOR_VERSION), so the embedded Tor stays as current as Debian's.
//
// Build with -tags libtor and cgo flags pointing at the built library:
//
//	CGO_CFLAGS=-I$LIBTOR_DIR/include CGO_LDFLAGS=-L$LIBTOR_DIR/lib
//
// Without the libtor tag this package is empty, so that ordinary builds,
// go vet and -race test runs never compile or link Tor.
//
// libevent, OpenSSL and zlib are linked statically from the system's .a
// files, so the binary depends only on libc and libm.
//
// Tor runs with --__DisableSignalHandlers 1 (it must not take over SIGINT
// and SIGTERM from the Go runtime) and is controlled only over the owning
// control socket returned by EmbeddedControlConn: pre-authenticated, no TCP
// control port, and Tor exits when that socket is closed.
//
// Tor can run only once per process. Tor keeps global state that its
// shutdown does not fully reset; starting it a second time in the same
// process is unsafe (Tor 0.4.9 was measured to abort with an assertion on
// the third start). A second Start therefore fails with ErrAlreadyStarted;
// run one Tor for the life of the process and isolate users of it with SOCKS
// credentials instead.
package libtor
