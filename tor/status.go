package tor

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Status is a snapshot of a Server's progress towards being usable. It is
// what Server.Status returns and Server.Subscribe delivers.
type Status struct {
	// Mode is the effective mode (ModeDefault resolved).
	Mode Mode
	// Progress is Tor's bootstrap progress in percent (0-100). In socks
	// and off modes it is 100 once the Server is ready.
	Progress int
	// Tag and Summary are Tor's name and description of the current
	// bootstrap phase, e.g. "loading_descriptors", "Loading relay
	// descriptors".
	Tag     string
	Summary string
	// Warning, Reason and Recommendation carry Tor's own words when
	// bootstrapping has a problem (a BOOTSTRAP status event with
	// WARNING=...); they are cleared when progress moves on.
	// Recommendation is "warn" when Tor thinks the user should be told
	// and "ignore" when it will retry on its own.
	Warning        string
	Reason         string
	Recommendation string
	// BridgeFailure names the last bridge that failed and why, e.g.
	// "obfs4 192.0.2.1:443 0123ABCD: connection refused" (from Tor's
	// bootstrap warnings and connection events); "" without bridges or
	// failures. It stays after the failure, as a hint, until Ready.
	BridgeFailure string
	// Hint is set when Tor has not reached a relay after
	// Server.BridgeHintAfter: a sentence for the user saying the network
	// may block Tor and what to try. SuggestBridges is true when that is
	// to turn on bridges (the Server does not use any). Both are cleared
	// once Tor gets further.
	Hint           string
	SuggestBridges bool
	// Ready is true once connections can be made (bootstrap 100%). It
	// stays true when the network is lost later: see NetworkDown.
	Ready bool
	// NetworkDown is set, once Ready, while Tor has lost the Tor network:
	// Tor said so, its circuits keep failing or stall, or CheckNetwork
	// could not build one (in socks mode: the SOCKS port stopped
	// answering). NetworkProblem says what, in words for the user, as a
	// sentence without the final period ("No circuit got an answer for
	// 30s"). Both
	// are cleared when Tor gets through again (see health.go).
	NetworkDown    bool
	NetworkProblem string
	// Err is set once the Server has stopped (Close, or Tor exited); no
	// further updates follow.
	Err error
}

// Stalled reports whether Tor reported a bootstrap problem for the current
// phase.
func (st Status) Stalled() bool { return st.Warning != "" && !st.Ready && st.Err == nil }

// String describes st in one line for a status bar.
func (st Status) String() string {
	switch {
	case st.Err != nil:
		return "Tor stopped: " + st.Err.Error()
	case st.Mode == ModeOff && st.Ready:
		return "Tor off: direct connections (not protected)"
	case st.Ready && st.NetworkDown:
		return "Tor has lost the network: " + st.NetworkProblem
	case st.Ready:
		return "Tor ready"
	case st.Hint != "":
		return st.Hint
	case st.Warning != "":
		s := fmt.Sprintf("Tor %d%%: %s: problem: %s", st.Progress, st.Summary, st.Warning)
		if st.Reason != "" {
			s += " (" + st.Reason + ")"
		}
		return s
	case st.Summary != "":
		return fmt.Sprintf("Tor %d%%: %s", st.Progress, st.Summary)
	}
	return fmt.Sprintf("Tor %d%%", st.Progress)
}

// bootstrapPhase is one BOOTSTRAP status line from Tor.
type bootstrapPhase struct {
	Severity       string // NOTICE, WARN or ERR
	Progress       int
	Tag            string
	Summary        string
	Warning        string
	Reason         string
	Recommendation string
	HostID         string // the relay or bridge concerned ("$FPR"), if any
	HostAddr       string // its address ("IP:PORT"), if any
}

// parseBootstrap parses the text of a STATUS_CLIENT BOOTSTRAP event or of
// GETINFO status/bootstrap-phase (control-spec 5.4, 6.2):
//
//	NOTICE BOOTSTRAP PROGRESS=10 TAG=conn_done SUMMARY="Connected to a relay"
//	WARN BOOTSTRAP PROGRESS=5 TAG=conn SUMMARY="..." WARNING="..." REASON=DONE COUNT=1 RECOMMENDATION=ignore
func parseBootstrap(line string) (bootstrapPhase, error) {
	var ph bootstrapPhase
	severity, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	action, rest, _ := strings.Cut(rest, " ")
	if action != "BOOTSTRAP" {
		return ph, fmt.Errorf("tor: not a BOOTSTRAP status: %.60q", line)
	}
	switch severity {
	case "NOTICE", "WARN", "ERR":
		ph.Severity = severity
	default:
		return ph, fmt.Errorf("tor: BOOTSTRAP status: unknown severity %.20q", severity)
	}
	kv, err := parseKeyVals(rest)
	if err != nil {
		return ph, fmt.Errorf("tor: BOOTSTRAP status: %w", err)
	}
	p, err := strconv.Atoi(kv["PROGRESS"])
	if err != nil || p < 0 || p > 100 {
		return ph, fmt.Errorf("tor: BOOTSTRAP status: bad PROGRESS %.20q", kv["PROGRESS"])
	}
	ph.Progress = p
	ph.Tag = kv["TAG"]
	ph.Summary = kv["SUMMARY"]
	ph.Warning = kv["WARNING"]
	ph.Reason = kv["REASON"]
	ph.Recommendation = kv["RECOMMENDATION"]
	ph.HostID = kv["HOSTID"]
	ph.HostAddr = kv["HOSTADDR"]
	return ph, nil
}

// parseKeyVals parses space separated KEY=VALUE pairs in which VALUE is
// either a bare word or a C-style quoted string (control-spec 2.1.1).
// Words without "=" are ignored, as the spec asks of unknown extensions.
func parseKeyVals(s string) (map[string]string, error) {
	kv := make(map[string]string)
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return kv, nil
		}
		i := strings.IndexAny(s, "= ")
		if i < 0 || s[i] == ' ' { // a word without value
			if i < 0 {
				return kv, nil
			}
			s = s[i:]
			continue
		}
		key := s[:i]
		s = s[i+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			v, n, err := unquote(s)
			if err != nil {
				return nil, fmt.Errorf("value of %.20s: %w", key, err)
			}
			val, s = v, s[n:]
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		kv[key] = val
	}
}

var errUnterminated = errors.New("unterminated quoted string")

// unquote decodes the quoted string at the start of s and returns it with
// the number of bytes consumed (quotes included). It understands the escapes
// Tor writes: \\ \" \n \r \t and octal \NNN.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i >= len(s) {
				return "", 0, errUnterminated
			}
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := 0
				j := i
				for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
					v = v*8 + int(s[j]-'0')
				}
				if v > 255 {
					return "", 0, fmt.Errorf("octal escape out of range")
				}
				b.WriteByte(byte(v))
				i = j - 1
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errUnterminated
}
