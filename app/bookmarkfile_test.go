package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/mumble/e2e"
)

// TestBookmarkFileRoundTrip: a bookmark exported with its certificate
// comes back with the same identity on import (into another controller,
// as in a fresh disposable VM), with fresh isolation credentials; a wrong
// passphrase, a changed file, a later version and a non-file are clear
// errors.
func TestBookmarkFileRoundTrip(t *testing.T) {
	src := newTestController(t, ControllerConfig{})
	b, err := src.SaveBookmark(Bookmark{Label: "Home", Address: "example.org", Port: 64739, Username: "me",
		Password: "pw", Channel: []string{"Laboratory"}})
	if err != nil {
		t.Fatal(err)
	}
	// The encrypted rooms' keys go along.
	roomID, err := e2e.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := roomID.MarshalBinary()
	known := "v " + strings.Repeat("ab", 32) + " bob\n"
	if b, err = src.store.Modify(b.ID, func(b *Bookmark) error {
		b.RoomKeys = RoomKeys{Identity: secret, Known: known}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "home"+BookmarkFileExt)
	if err := src.ExportBookmark(b.ID, path, ""); !errors.Is(err, ErrEmptyPassphrase) {
		t.Errorf("export without a passphrase: %v", err)
	}
	if err := src.ExportBookmark(b.ID, path, "correct horse"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("the file is readable by others: %v", fi.Mode())
	}
	data, _ := os.ReadFile(path)
	for _, secret := range []string{"PRIVATE KEY", "example.org", `"pw"`, "Laboratory"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the file shows %q in clear", secret)
		}
	}

	dst := newTestController(t, ControllerConfig{Amnesic: true})
	if _, err := dst.ImportBookmarkFile(path, "wrong horse"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	got, err := dst.ImportBookmarkFile(path, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RoomKeys.Identity, secret) || got.RoomKeys.Known != known {
		t.Errorf("imported room keys %+v", got.RoomKeys)
	}
	h1, _ := b.Identity.Hash()
	h2, _ := got.Identity.Hash()
	if h1 == "" || h1 != h2 {
		t.Errorf("imported identity %s, want %s", h2, h1)
	}
	if got.Address != b.Address || got.Port != b.Port || got.Username != b.Username || got.Password != b.Password ||
		got.Label != b.Label || strings.Join(got.Channel, "/") != "Laboratory" {
		t.Errorf("imported %+v, want the fields of %+v", got, b)
	}
	if got.Isolation == b.Isolation || got.Isolation.IsZero() {
		t.Error("the imported bookmark did not get fresh isolation credentials")
	}

	// Changes to the file.
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	mutate := func(k string, v any) []byte {
		m := map[string]any{}
		for k, v := range f {
			m[k] = v
		}
		m[k] = v
		out, _ := json.Marshal(m)
		return out
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"cheaper kdf", mutate("n", 1<<14), "wrong passphrase"},
		{"other salt", mutate("salt", "AAAAAAAAAAAAAAAAAAAAAA=="), "wrong passphrase"},
		{"huge kdf", mutate("n", 1<<30), "parameters are invalid"},
		{"later version", mutate("version", 2), "version 2"},
		{"other format", mutate("format", "x"), "not a Tumble bookmark file"},
		{"garbage", []byte("\x00garbage"), "not a Tumble bookmark file"},
		{"empty", nil, "not a Tumble bookmark file"},
	} {
		if _, err := DecryptBookmark(tc.data, "correct horse"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// FuzzDecryptBookmark: no file makes DecryptBookmark panic or succeed
// without the passphrase it was made with.
func FuzzDecryptBookmark(f *testing.F) {
	b := Bookmark{Address: "example.org", Port: 64738, Username: "me"}
	if err := b.generateMissing(); err != nil {
		f.Fatal(err)
	}
	data, err := EncryptBookmark(b, "pw")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"format":"tumble-bookmark","version":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecryptBookmark(data, "other"); err == nil {
			t.Error("a file opened with another passphrase")
		}
	})
}
