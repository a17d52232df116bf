package tornet

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Files in a tor's directory, which is also its DataDirectory.
const (
	torrcName       = "torrc"
	noticeLogName   = "notice.log"   // Log notice file
	stdoutName      = "stdout.log"   // the process's stdout and stderr
	controlPortName = "control-port" // ControlPortWriteToFile: "PORT=127.0.0.1:N"
	resolvConfName  = "resolv.conf"  // ServerDNSResolvConfFile for relays (no exits: unused)
	emptyTorrcName  = "empty-torrc"  // in the network directory: --defaults-torrc
)

// A nodeKind is the role of one tor in the network.
type nodeKind int

const (
	authority nodeKind = iota // directory authority (also a relay)
	relay                     // non-exit relay
	onionHost                 // hosts the onion services
	client                    // standalone client with a SocksPort
	bridge                    // unpublished bridge relay with an obfs4 transport
)

func (k nodeKind) String() string {
	switch k {
	case authority:
		return "authority"
	case relay:
		return "relay"
	case onionHost:
		return "onion service"
	case client:
		return "client"
	case bridge:
		return "bridge"
	}
	return "kind " + strconv.Itoa(int(k))
}

// commonTorrc is what every tor in the network is configured with, after
// its DataDirectory and logs. It keeps the network small and fast: short
// paths-needed threshold, every relay a Guard and an HSDir, IPv4 only.
var commonTorrc = []string{
	"TestingTorNetwork 1",
	"AssumeReachable 1",
	"PathsNeededToBuildCircuits 0.67",
	"TestingDirAuthVoteGuard *",
	"TestingDirAuthVoteHSDir *",
	"V3AuthNIntervalsValid 2",
	"ClientUseIPv6 0",
	// No entry guards. The first consensuses of a fresh network put nearly
	// all path-selection weight on one or two relays: relays are weighed by
	// the bandwidth they observed, zero until a self-test some 15 seconds
	// after they start. A client with guards then kept choosing its one
	// usable guard as the last hop of its onion-service circuits too, every
	// such circuit failed, and it stalled at "Establishing a Tor circuit"
	// for 10 to 40 seconds (in about 1 start of 5). Without guards a relay
	// is never chosen twice for one circuit (no stall in 16 starts).
	"UseEntryGuards 0",
	"SafeLogging 0",
	// CELL_STATS events for CountCells (allowed on test networks only).
	"TestingEnableCellStatsEvent 1",
	"LogTimeGranularity 1",
	"ShutdownWaitLength 0",
}

// authorityTorrc holds the directory-authority settings: a vote every 10
// seconds (5 for the first) with 2-second vote and distribution delays.
var authorityTorrc = []string{
	"AuthoritativeDirectory 1",
	"V3AuthoritativeDirectory 1",
	"TestingV3AuthInitialVotingInterval 5",
	"V3AuthVotingInterval 10",
	"TestingV3AuthInitialVoteDelay 2",
	"V3AuthVoteDelay 2",
	"TestingV3AuthInitialDistDelay 2",
	"V3AuthDistDelay 2",
}

// torrc returns the configuration file of nd in network n. Every listener is
// on 127.0.0.1; ports other than the authorities' ORPort and DirPort are
// chosen by tor ("auto") and read back from the control port.
func (n *Network) torrc(nd *node) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# tornet %s %s", nd.kind, nd.name)
	line("DataDirectory %s", nd.dir)
	line("Nickname %s", nd.name)
	line("Log notice file %s", filepath.Join(nd.dir, noticeLogName))
	for _, l := range commonTorrc {
		line("%s", l)
	}
	for _, l := range n.dirAuthorities {
		line("%s", l)
	}
	line("ControlPort 127.0.0.1:auto")
	line("ControlPortWriteToFile %s", filepath.Join(nd.dir, controlPortName))
	line("HashedControlPassword %s", n.hashedPassword)
	// Exit when the test process exits, even where Pdeathsig is missing.
	line("__OwningControllerProcess %d", os.Getpid())
	switch nd.kind {
	case authority, relay, bridge:
		line("SocksPort 0")
		switch {
		case nd.kind == bridge:
			// Clients reach the bridge only through obfs4 on BridgeHost;
			// its ORPort on 127.0.0.1 is for obfs4proxy (and the
			// authorities' reachability tests, skipped: AssumeReachable).
			line("ORPort 127.0.0.1:auto")
			line("BridgeRelay 1")
			line("PublishServerDescriptor 0") // clients fetch it from the bridge
			line("ExtORPort auto")
			line("ServerTransportPlugin obfs4 exec %s", Obfs4Proxy)
			line("ServerTransportListenAddr obfs4 %s:%d", BridgeHost, nd.orPort)
		case nd.innerORPort != 0:
			// Advertise the delay proxy's port, listen behind it.
			line("ORPort 127.0.0.1:%d NoListen", nd.orPort)
			line("ORPort 127.0.0.1:%d NoAdvertise", nd.innerORPort)
		case nd.kind == authority:
			line("ORPort 127.0.0.1:%d", nd.orPort)
		default:
			line("ORPort 127.0.0.1:auto")
		}
		if nd.kind == authority {
			line("DirPort 127.0.0.1:%d", nd.dirPort)
		} else {
			// As directory caches, fetch each consensus and its
			// microdescriptors from the authorities as soon as they
			// publish it, so that clients asking a cache find them.
			line("FetchDirInfoEarly 1")
			line("FetchDirInfoExtraEarly 1")
		}
		line("Address 127.0.0.1")
		line("AddressDisableIPv6 1")
		line("ContactInfo %s@tornet.invalid", nd.name)
		line("ExitRelay 0")
		line("ExitPolicy reject *:*")
		line("ServerDNSResolvConfFile %s", filepath.Join(nd.dir, resolvConfName))
		if nd.kind == authority {
			for _, l := range authorityTorrc {
				line("%s", l)
			}
		}
	case onionHost:
		// A SocksPort of its own, to check that a new service is reachable
		// without touching the standalone client's state.
		line("SocksPort 127.0.0.1:auto ExtendedErrors")
	case client:
		line("SocksPort 127.0.0.1:auto IsolateSOCKSAuth ExtendedErrors")
	}
	return b.String()
}

// writeTorrc writes nd's torrc and the files it refers to.
func (n *Network) writeTorrc(nd *node) error {
	if nd.kind == authority || nd.kind == relay || nd.kind == bridge {
		// Relays never resolve names (no exits); keep tor from reading the
		// host's resolver configuration all the same.
		if err := os.WriteFile(filepath.Join(nd.dir, resolvConfName), []byte("nameserver 127.0.0.1\n"), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(nd.dir, torrcName), []byte(n.torrc(nd)), 0o600)
}

// isFingerprint reports whether s is 40 upper-case hex digits.
func isFingerprint(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
