package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tumble-voip/tumble/tor"
)

// Bridge sources for Network.BridgeSource.
const (
	// BridgesSnowflake uses the Snowflake bridges built into Tumble
	// (tor.DefaultSnowflakeBridges, as Tor Browser ships them).
	BridgesSnowflake = "snowflake"
	// BridgesCustom uses the bridge lines the user entered
	// (Network.BridgeLines): obfs4, Snowflake, WebTunnel or plain.
	BridgesCustom = "custom"
)

// maxBridgeLines bounds Network.BridgeLines.
const maxBridgeLines = 100

// BridgeLinesInUse returns the bridge lines the embedded Tor is to use, or
// nil when bridges are off.
func (n Network) BridgeLinesInUse() []string {
	if !n.UseBridges {
		return nil
	}
	if n.BridgeSource == BridgesSnowflake {
		return slices.Clone(tor.DefaultSnowflakeBridges)
	}
	return slices.Clone(n.BridgeLines)
}

// validateBridges checks the bridge settings. Bad bridge lines are one
// FieldError for "network.bridge_lines" whose Err is a
// *tor.BridgeLinesError, which names every bad line (for marking them in
// a form).
func (n Network) validateBridges(errs *fieldErrs) {
	switch n.BridgeSource {
	case "", BridgesSnowflake, BridgesCustom:
	default:
		errs.addf("network.bridge_source", "%q is not one of %s, %s", n.BridgeSource, BridgesSnowflake, BridgesCustom)
	}
	if len(n.BridgeLines) > maxBridgeLines {
		errs.addf("network.bridge_lines", "%d lines: at most %d", len(n.BridgeLines), maxBridgeLines)
		return
	}
	bridges, err := tor.ParseBridgeLines(n.BridgeLines)
	if err != nil {
		var le *tor.BridgeLinesError
		if errors.As(err, &le) {
			errs.add("network.bridge_lines", le)
		} else {
			errs.add("network.bridge_lines", err)
		}
	}
	if !n.UseBridges {
		return
	}
	if n.TorMode != TorEmbedded {
		errs.addf("network.use_bridges", "bridges apply only to the embedded Tor: with Tor mode %q, bridges are configured in that Tor (Tor Browser, Orbot, Tails, the Whonix gateway)", n.TorMode)
	}
	if n.BridgeSource != BridgesSnowflake && len(bridges) == 0 && err == nil {
		errs.add("network.bridge_lines", fmt.Errorf("no bridge lines: paste some from https://bridges.torproject.org or choose the built-in Snowflake bridges"))
	}
}

// setBridges sets the bridge lines of the embedded Tor server that get
// creates next. The embedded Tor runs once per process: a change reaches it
// only at the next start of the program.
func (t *torServers) setBridges(lines []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bridges = lines
}

// BridgeLineProblems returns one message per bad line of pasted bridge
// text ("line 2: missing fingerprint ..."), for showing next to a bridge
// lines box; nil if every line is good. SplitBridgeText splits the text.
func BridgeLineProblems(lines []string) []string {
	_, err := tor.ParseBridgeLines(lines)
	var le *tor.BridgeLinesError
	if !errors.As(err, &le) {
		return nil
	}
	out := make([]string, len(le.Lines))
	for i, l := range le.Lines {
		out[i] = fmt.Sprintf("line %d: %v", l.Line, l.Err)
	}
	return out
}

// SplitBridgeText splits text from a box, a file or a QR code into bridge
// lines for Network.BridgeLines, dropping blank lines at the ends.
func SplitBridgeText(text string) []string {
	lines := tor.SplitBridgeLines(strings.TrimSpace(text))
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}
