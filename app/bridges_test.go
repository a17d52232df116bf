package app

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tumble-voip/tumble/tor"
)

const testObfs4 = "obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g iat-mode=0"

func TestSettingsBridges(t *testing.T) {
	s := DefaultSettings()
	if s.Network.UseBridges || s.Network.BridgeLinesInUse() != nil {
		t.Fatalf("bridges on by default: %+v", s.Network)
	}
	s.Network.UseBridges, s.Network.BridgeSource = true, BridgesSnowflake
	if err := s.Validate(); err != nil {
		t.Fatalf("built-in Snowflake: %v", err)
	}
	if got := s.Network.BridgeLinesInUse(); !slices.Equal(got, tor.DefaultSnowflakeBridges) {
		t.Errorf("Snowflake lines in use: %q", got)
	}
	s.Network.BridgeSource, s.Network.BridgeLines = BridgesCustom, []string{"# mine", testObfs4}
	if err := s.Validate(); err != nil {
		t.Fatalf("custom obfs4: %v", err)
	}
	if got := s.Network.BridgeLinesInUse(); !slices.Equal(got, s.Network.BridgeLines) {
		t.Errorf("custom lines in use: %q", got)
	}

	for _, tc := range []struct {
		name, field string
		mod         func(*Network)
	}{
		{"no lines", "network.bridge_lines", func(n *Network) { n.BridgeLines = nil }},
		{"bad source", "network.bridge_source", func(n *Network) { n.BridgeSource = "meek" }},
		{"socks mode", "network.use_bridges", func(n *Network) { n.TorMode, n.SOCKSAddress = TorSOCKS, "127.0.0.1:9050" }},
		{"off", "network.use_bridges", func(n *Network) { n.TorMode = TorOff; n.ForceTCP = false }},
	} {
		s2 := s
		tc.mod(&s2.Network)
		fes := FieldErrors(s2.Validate())
		if !slices.ContainsFunc(fes, func(fe *FieldError) bool { return fe.Field == tc.field }) {
			t.Errorf("%s: field errors %v, want one for %s", tc.name, fes, tc.field)
		}
	}

	// Bad lines are reported each with its number, also while bridges are
	// off (they are kept in the settings).
	s.Network.UseBridges = false
	s.Network.BridgeLines = []string{testObfs4, "obfs4 192.0.2.1:443", "", "foo 1.2.3.4:5 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D"}
	fes := FieldErrors(s.Validate())
	if len(fes) != 1 || fes[0].Field != "network.bridge_lines" {
		t.Fatalf("field errors %v", fes)
	}
	var le *tor.BridgeLinesError
	if !errors.As(fes[0].Err, &le) || len(le.Lines) != 2 || le.Lines[0].Line != 2 || le.Lines[1].Line != 4 {
		t.Fatalf("per-line errors: %v", fes[0].Err)
	}
}

// TestTorServersBridges: the bridge lines reach the tor.Server the
// controller creates, for the embedded Tor and not for Tor off.
func TestTorServersBridges(t *testing.T) {
	ts := &torServers{ctx: context.Background(), amnesic: true}
	defer ts.closeAll()
	ts.setBridges([]string{testObfs4})
	e, err := ts.get(torChoice{mode: tor.ModeEmbedded})
	if err != nil {
		t.Fatal(err)
	}
	if !e.srv.UseBridges || !slices.Equal(e.srv.Bridges, []string{testObfs4}) {
		t.Errorf("embedded server: UseBridges %v, Bridges %q", e.srv.UseBridges, e.srv.Bridges)
	}
	e, err = ts.get(torChoice{mode: tor.ModeOff})
	if err != nil {
		t.Fatal(err)
	}
	if e.srv.UseBridges {
		t.Error("Tor off got bridges")
	}
}

func TestBridgeLineProblems(t *testing.T) {
	lines := SplitBridgeText("\n" + testObfs4 + "\r\nobfs4 192.0.2.1:443\n\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	got := BridgeLineProblems(lines)
	if len(got) != 1 || got[0] != "line 2: missing fingerprint (40 hex digits after the address)" {
		t.Errorf("problems %q", got)
	}
	if p := BridgeLineProblems([]string{testObfs4}); p != nil {
		t.Errorf("good line: %q", p)
	}
	if SplitBridgeText(" \n ") != nil {
		t.Error("blank text gives lines")
	}
}

func TestTorStatusViewBridges(t *testing.T) {
	st := tor.Status{Mode: tor.ModeEmbedded, Progress: 5, Hint: "stuck: try bridges", SuggestBridges: true, BridgeFailure: "obfs4 192.0.2.1:443 D9A82D2F: connection refused"}
	v := torStatusView(st, torChoice{mode: tor.ModeDefault})
	if v.Hint != st.Hint || !v.SuggestBridges || v.BridgeFailure != st.BridgeFailure {
		t.Errorf("view %+v", v)
	}
}
