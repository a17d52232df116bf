package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBridgeOptions(t *testing.T) {
	const line = "obfs4 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D cert=qqTGb50kxZAGtS9vNwiWv6+lU1LmLUqySKZBPsSjLmAtKIjQUMr4cm2DAC0oZe0r9B6W5g iat-mode=0"
	base := []string{"--server", "x.example:64738", "--user", "u"}
	env := func(string) string { return "" }
	file := filepath.Join(t.TempDir(), "bridges")
	if err := os.WriteFile(file, []byte("# from bridges.torproject.org\r\n"+line+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parseOptions(append(base, "--bridge", line, "--bridges-file", file), io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(o.bridges, line) || len(o.bridges) < 3 {
		t.Errorf("bridges %q", o.bridges)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bridge", "obfs4 192.0.2.1:443"}, "--bridge: tor: bridge line 1 (obfs4 192.0.2.1:443): missing fingerprint"},
		{[]string{"--bridge", line, "--bridge", "obfs5 192.0.2.1:443 D9A82D2F9C2F65A18407B1D2B764F130847F8B5D"}, `bridge line 2 (obfs5 192.0.2.1:443 D9A82D2F9C2F65A18407...): unknown transport "obfs5" (Tumble knows obfs4, snowflake, webtunnel)`},
		{[]string{"--bridges-file", filepath.Join(t.TempDir(), "missing")}, "--bridges-file: open"},
	} {
		_, err := parseOptions(append(base, tc.args...), io.Discard, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}
