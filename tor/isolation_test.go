package tor

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIsolation(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		iso := NewIsolation()
		if iso.IsZero() {
			t.Fatal("NewIsolation is zero")
		}
		u, p := iso.Username(), iso.Password()
		if len(u) != 32 || len(p) != 32 || seen[u] || seen[p] || u == p {
			t.Fatalf("credentials %q/%q not fresh", u, p)
		}
		seen[u], seen[p] = true, true

		text := iso.String()
		if !strings.HasPrefix(text, "iso1-") || len(text) != 69 {
			t.Fatalf("String() = %q", text)
		}
		back, err := ParseIsolation(text)
		if err != nil || back != iso {
			t.Fatalf("ParseIsolation(%q) = %v, %v", text, back, err)
		}
	}
	var zero Isolation
	if !zero.IsZero() || zero.String() != "" {
		t.Error("zero Isolation")
	}
	if _, err := zero.MarshalText(); err == nil {
		t.Error("zero Isolation marshalled")
	}
	iso := NewIsolation()
	for _, bad := range []string{"", "iso1-", iso.String()[:68], iso.String() + "0", "iso2-" + iso.String()[5:],
		"iso1-" + strings.Repeat("g", 64)} {
		if _, err := ParseIsolation(bad); err == nil || !strings.HasPrefix(err.Error(), "tor: ") {
			t.Errorf("ParseIsolation(%q) = %v", bad, err)
		}
	}
	// Errors never echo the secret.
	if _, err := ParseIsolation(iso.String() + "x"); strings.Contains(err.Error(), iso.Username()) {
		t.Errorf("error %q contains the credentials", err)
	}
	// Stored in a bookmark as JSON.
	type bookmark struct{ Iso Isolation }
	data, err := json.Marshal(bookmark{iso})
	if err != nil {
		t.Fatal(err)
	}
	var b bookmark
	if err := json.Unmarshal(data, &b); err != nil || b.Iso != iso {
		t.Fatalf("JSON round trip: %s -> %v, %v", data, b.Iso, err)
	}
}
