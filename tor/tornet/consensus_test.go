package tornet

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRunning(t *testing.T) {
	doc := `network-status-version 3 microdesc
vote-status consensus
known-flags Authority Exit Fast Guard HSDir Running Stable V2Dir Valid
r a0 QRlh3Z7aHc6pVQO3sPsJFyImCIc 2038-01-01 00:00:00 127.0.0.1 30149 22605
m 8sqFKnIMnIiDt6WNoF81cC60MX0ZNCcYr88u82W+Cv4
s Authority Fast Guard HSDir Running Stable V2Dir Valid
v Tor 0.4.9.11
r r0 u3zFC6sOuIk+JnFR17Y5R/J/fIs 2038-01-01 00:00:00 127.0.0.1 38717 0
m xxx
s Fast Guard Valid
r r1 axTTBv0FJPf8DFt+ls3YweySJEI 2038-01-01 00:00:00 127.0.0.1 35909 0
m yyy
s Running Valid
directory-footer
`
	got, err := parseRunning(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a0", "r1"}; !slices.Equal(got, want) {
		t.Errorf("parseRunning = %q, want %q", got, want)
	}
	if _, err := parseRunning(strings.NewReader("r\n")); err == nil {
		t.Error("parseRunning accepted an r line without a nickname")
	}
}
