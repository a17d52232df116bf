package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// v1Bookmark is a bookmark of testdata/bookmarks-v1.json as written by
// Tumble's version 1 format, declared here independently of the code under
// test.
type v1Bookmark struct {
	ID, Label, Address string
	Port               int
	Username, Password string
	ClientAuthKey      string `json:"client_auth_key"`
	Isolation          struct{ Username, Password string }
	Identity           Identity
	PinnedFingerprint  string `json:"pinned_fingerprint"`
	Channel            []string
}

// TestBookmarksV1Migration loads a bookmark file written by the version 1
// code (testdata/bookmarks-v1.json: onion with a key line, pin and channel;
// onion with a bare key; host name with hand-made SOCKS credentials; IPv6)
// and checks every field survives, then that saving writes version 2 that
// loads to the same bookmarks.
func TestBookmarksV1Migration(t *testing.T) {
	raw, err := os.ReadFile("testdata/bookmarks-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   int
		Bookmarks []v1Bookmark
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Version != 1 || len(doc.Bookmarks) != 4 {
		t.Fatalf("testdata: version %d, %d bookmarks, %v", doc.Version, len(doc.Bookmarks), err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, BookmarksFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s, st := openDirStore(t, dir)
	got := s.List()
	if len(got) != len(doc.Bookmarks) {
		t.Fatalf("loaded %d bookmarks, want %d", len(got), len(doc.Bookmarks))
	}
	for i, old := range doc.Bookmarks {
		b := got[i]
		if b.ID != old.ID || b.Label != old.Label || b.Address != old.Address || b.Port != old.Port ||
			b.Username != old.Username || b.Password != old.Password || b.Identity != old.Identity ||
			b.PinnedFingerprint.String() != old.PinnedFingerprint || !reflect.DeepEqual(b.Channel, old.Channel) {
			t.Errorf("bookmark %d: got %+v\nwant %+v", i, b, old)
		}
		// The SOCKS credentials sent to Tor are the ones version 1 sent:
		// generated ones as they are, hand-made ones hashed.
		wantUser, wantPass := old.Isolation.Username, old.Isolation.Password
		if len(wantUser) != 32 || len(wantPass) != 32 {
			sum := sha256.Sum256([]byte(wantUser + "\x00" + wantPass))
			wantUser, wantPass = hex.EncodeToString(sum[:16]), hex.EncodeToString(sum[16:])
		}
		if b.Isolation.Username() != wantUser || b.Isolation.Password() != wantPass {
			t.Errorf("bookmark %d: isolation %s/%s, want %s/%s", i, b.Isolation.Username(), b.Isolation.Password(), wantUser, wantPass)
		}
		// The client authorization key, line or bare, becomes the line for
		// the bookmark's service.
		wantKey := ""
		if k := old.ClientAuthKey; k != "" {
			if !strings.Contains(k, ":") {
				k = strings.TrimSuffix(old.Address, ".onion") + ":descriptor:x25519:" + k
			}
			wantKey = k
		}
		if gotKey := b.ClientAuthKey.String(); !strings.EqualFold(gotKey, wantKey) {
			t.Errorf("bookmark %d: client auth key %q, want %q (any case)", i, gotKey, wantKey)
		}
	}
	if doc.Bookmarks[0].ClientAuthKey == "" || doc.Bookmarks[1].ClientAuthKey == "" || doc.Bookmarks[0].PinnedFingerprint == "" ||
		len(doc.Bookmarks[2].Isolation.Username) == 32 {
		t.Fatal("testdata no longer covers key line, bare key, pin and hand-made isolation")
	}

	// Loading alone does not rewrite the file; the first change saves
	// version 2, which loads to the same bookmarks.
	if now, _ := os.ReadFile(st.Path(BookmarksFile)); string(now) != string(raw) {
		t.Error("loading rewrote the file")
	}
	if err := s.Move(got[3].ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Move(got[3].ID, 3); err != nil {
		t.Fatal(err)
	}
	v2, _ := os.ReadFile(st.Path(BookmarksFile))
	if !strings.Contains(string(v2), `"version": 2`) || !strings.Contains(string(v2), `"isolation": "iso1-`) {
		t.Errorf("saved file is not version 2:\n%.400s", v2)
	}
	s2, _ := openDirStore(t, dir)
	if again := s2.List(); !reflect.DeepEqual(again, got) {
		t.Errorf("version 2 reloads differently:\n got %+v\nwant %+v", again, got)
	}
}
