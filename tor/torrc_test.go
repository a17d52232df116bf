package tor

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadTorrc(t *testing.T) {
	in := "# private network\nTestingTorNetwork 1\n\n  DirAuthority a0 orport=5000 \\\n no-v2 127.0.0.1:5100 AAAA\r\n\t# indented comment\nClientUseIPv6 0   \n"
	got, err := ReadTorrc(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"TestingTorNetwork 1", "DirAuthority a0 orport=5000  no-v2 127.0.0.1:5100 AAAA", "ClientUseIPv6 0"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadTorrc = %q, want %q", got, want)
	}
	if err := checkTorrc(got, false); err == nil {
		t.Error("TestingTorNetwork from a file passed without permission")
	}
	for _, bad := range []string{"UseBridges 1 \\\n", "A\x00B 1\n", strings.Repeat("#", maxTorrcSize+10)} {
		if _, err := ReadTorrc(strings.NewReader(bad)); err == nil || !strings.HasPrefix(err.Error(), "tor: torrc: ") {
			t.Errorf("ReadTorrc(%.20q) = %v", bad, err)
		}
	}

	name := filepath.Join(t.TempDir(), "torrc")
	if err := os.WriteFile(name, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadTorrcFile(name); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ReadTorrcFile = %q, %v", got, err)
	}
	if _, err := ReadTorrcFile(name + ".missing"); err == nil || !strings.HasPrefix(err.Error(), "tor: torrc: ") {
		t.Errorf("ReadTorrcFile(missing) = %v", err)
	}
}
