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

// setBridges sets the bridge lines of the embedded Tor (nil: no bridges):
// for the server that get creates next, and at once for a running one,
// through its control connection (tor.Server.SetBridges), so that a Tor
// stuck bootstrapping goes on through the new bridges.
func (t *torServers) setBridges(lines []string) error {
	t.mu.Lock()
	t.bridges = slices.Clone(lines)
	entries := make([]*torEntry, 0, len(t.servers))
	for _, e := range t.servers {
		entries = append(entries, e)
	}
	t.mu.Unlock()
	var errs []error
	for _, e := range entries {
		if err := t.syncBridges(e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// syncBridges gives e's running Tor the current bridge lines if it has
// other ones. It does nothing for a server that has not started (get does
// it once the server has) or that runs no Tor of its own.
func (t *torServers) syncBridges(e *torEntry) error {
	e.bmu.Lock()
	defer e.bmu.Unlock()
	if !e.running || e.srv.Status().Mode != tor.ModeEmbedded {
		return nil
	}
	t.mu.Lock()
	want := t.bridges
	t.mu.Unlock()
	if slices.Equal(want, e.bridges) {
		return nil
	}
	if err := e.srv.SetBridges(t.ctx, len(want) > 0, want); err != nil {
		return fmt.Errorf("app: bridges: %w", err)
	}
	e.bridges = want
	return nil
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
