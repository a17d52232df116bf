package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tumble-voip/tumble/mumble"
)

func openDirStore(t testing.TB, dir string) (*BookmarkStore, *DirStorage) {
	t.Helper()
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBookmarkStore(st)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func TestBookmarkStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, st := openDirStore(t, dir)
	if s.Len() != 0 {
		t.Fatalf("new store has %d bookmarks", s.Len())
	}
	onion := newTestOnion(t)
	key := testClientAuthKey(t, onion)
	want := []Bookmark{}
	inputs := []Bookmark{
		{Label: "Lab", Address: onion, Username: "alice", Password: "pw", ClientAuthKey: key,
			PinnedFingerprint: mumble.FingerprintOf([]byte("cert")), Channel: []string{"Lab", "Quiet room"}},
		{Address: "example.com", Port: 1234, Username: "bob"},
		{Label: "v6", Address: "2001:db8::1", Username: "carol"},
	}
	for i, in := range inputs {
		// Reuse one identity to keep the test fast; Add keeps a given identity.
		in.Identity, _ = testIdentity()
		if i == 0 {
			in.Identity = Identity{} // let Add generate one
		}
		b, err := s.Add(in)
		if err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
		if b.ID == "" || b.Isolation.IsZero() || b.Identity.IsZero() {
			t.Fatalf("Add did not fill in secrets: %+v", b)
		}
		want = append(want, b)
	}
	if want[1].Port != 1234 || want[2].Port != DefaultPort {
		t.Errorf("ports = %d, %d", want[1].Port, want[2].Port)
	}
	if !reflect.DeepEqual(s.List(), want) {
		t.Fatalf("List differs from what Add returned")
	}
	// Reopen from disk.
	s2, _ := openDirStore(t, dir)
	if got := s2.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopening:\n got %+v\nwant %+v", got, want)
	}
	// File mode and format.
	fi, err := os.Stat(st.Path(BookmarksFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("bookmarks file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(st.Path(BookmarksFile))
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if string(doc["version"]) != "2" {
		t.Errorf("version = %s, want 2", doc["version"])
	}
	// Get.
	b, err := s2.Get(want[1].ID)
	if err != nil || !reflect.DeepEqual(b, want[1]) {
		t.Errorf("Get = %+v, %v", b, err)
	}
	if _, err := s2.Get("nope"); !errors.Is(err, ErrBookmarkNotFound) {
		t.Errorf("Get(unknown) err = %v", err)
	}
	// Returned values are copies.
	l := s2.List()
	l[0].Channel[0] = "changed"
	l[0].Label = "changed"
	if got, _ := s2.Get(want[0].ID); got.Channel[0] != "Lab" || got.Label != "Lab" {
		t.Error("List returned shared memory")
	}
}

func TestBookmarkStoreEditing(t *testing.T) {
	dir := t.TempDir()
	s, _ := openDirStore(t, dir)
	var ids []string
	for _, name := range []string{"a", "b", "c", "d"} {
		b, err := s.Add(newTestBookmark(t, name+".example", "u"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	order := func(s *BookmarkStore) string {
		var out []string
		for _, b := range s.List() {
			out = append(out, strings.TrimSuffix(b.Address, ".example"))
		}
		return strings.Join(out, "")
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return s.Move(ids[0], 3) }, "bcda"},
		{func() error { return s.Move(ids[0], 0) }, "abcd"},
		{func() error { return s.Move(ids[2], 1) }, "acbd"},
		{func() error { return s.Move(ids[2], 1) }, "acbd"},
		{func() error { return s.Delete(ids[1]) }, "acd"},
		{func() error {
			b, _ := s.Get(ids[3])
			b.Address = "z.example"
			return s.Update(b)
		}, "acz"},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := order(s); got != st.want {
			t.Fatalf("step %d: order %q, want %q", i, got, st.want)
		}
		reopened, _ := openDirStore(t, dir)
		if got := order(reopened); got != st.want {
			t.Fatalf("step %d: on disk %q, want %q", i, got, st.want)
		}
	}
	// Errors leave everything as it was.
	before := s.List()
	if err := s.Move(ids[0], 5); err == nil {
		t.Error("Move past the end accepted")
	}
	if err := s.Move("unknown", 0); !errors.Is(err, ErrBookmarkNotFound) {
		t.Errorf("Move(unknown) err = %v", err)
	}
	if err := s.Delete("unknown"); !errors.Is(err, ErrBookmarkNotFound) {
		t.Errorf("Delete(unknown) err = %v", err)
	}
	bad := before[0]
	bad.Port = 0 // normalized to the default: fine
	bad.Username = ""
	if err := s.Update(bad); !hasFieldError(err, "username") {
		t.Errorf("Update with empty user name: %v", err)
	}
	unknown := before[0]
	unknown.ID = strings.Repeat("0", 32)
	if err := s.Update(unknown); !errors.Is(err, ErrBookmarkNotFound) {
		t.Errorf("Update(unknown) err = %v", err)
	}
	dup := before[0]
	if _, err := s.Add(dup); err == nil {
		t.Error("Add with an existing ID accepted")
	}
	if _, err := s.Modify(ids[0], func(b *Bookmark) error { b.ID = ids[2]; return nil }); err == nil {
		t.Error("Modify changed the ID")
	}
	if _, err := s.Modify(ids[0], func(b *Bookmark) error { return errors.New("no") }); err == nil {
		t.Error("Modify ignored fn's error")
	}
	if _, err := s.Modify(ids[0], func(b *Bookmark) error { b.Port = 70000; return nil }); !hasFieldError(err, "port") {
		t.Errorf("Modify to invalid port: %v", err)
	}
	if !reflect.DeepEqual(s.List(), before) {
		t.Error("failed operations changed the list")
	}
	// Modify pins a fingerprint.
	fp := mumble.FingerprintOf([]byte("server"))
	got, err := s.Modify(ids[0], func(b *Bookmark) error { b.PinnedFingerprint = fp; return nil })
	if err != nil || got.PinnedFingerprint != fp {
		t.Fatalf("Modify pin = %q, %v", got.PinnedFingerprint, err)
	}
}

func TestBookmarkStoreWriteFailureRollsBack(t *testing.T) {
	// A real failure, root or not: the directory disappears under the store.
	dir := filepath.Join(t.TempDir(), "cfg")
	s, _ := openDirStore(t, dir)
	a, err := s.Add(newTestBookmark(t, "a.example", "u"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	before := s.List()
	if _, err := s.Add(newTestBookmark(t, "b.example", "u")); err == nil {
		t.Fatal("Add succeeded with the directory gone")
	}
	if err := s.Delete(a.ID); err == nil {
		t.Fatal("Delete succeeded with the directory gone")
	}
	if _, err := s.Modify(a.ID, func(b *Bookmark) error { b.Label = "x"; return nil }); err == nil {
		t.Fatal("Modify succeeded with the directory gone")
	}
	if !reflect.DeepEqual(s.List(), before) {
		t.Fatal("failed writes changed the list in memory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(newTestBookmark(t, "b.example", "u")); err != nil {
		t.Fatalf("Add after the directory came back: %v", err)
	}
	reopened, _ := openDirStore(t, dir)
	if reopened.Len() != 2 {
		t.Fatalf("reopened store has %d bookmarks, want 2", reopened.Len())
	}
}

// TestBookmarkStoreBadFileKeptUntouched covers files that must not be
// loaded: each gives a clear error, no store, and the file keeps its bytes.
func TestBookmarkStoreBadFileKeptUntouched(t *testing.T) {
	valid := newTestBookmark(t, "example.com", "alice")
	validJSON, _ := json.Marshal(valid)
	invalid := valid
	invalid.Port = 99999
	invalidJSON, _ := json.Marshal(invalid)
	tests := []struct {
		name    string
		data    string
		is      error
		mention string
	}{
		{"truncated", `{"version":1,"bookmarks":[{"id":`, ErrMalformedFile, "unexpected end"},
		{"garbage", "\x00\x01binary", ErrMalformedFile, "invalid character"},
		{"empty", "", ErrMalformedFile, "unexpected end"},
		{"no version", `{"bookmarks":[]}`, ErrMalformedFile, "version"},
		{"version 0", `{"version":0,"bookmarks":[]}`, ErrMalformedFile, "version 0"},
		{"newer", `{"version":3,"bookmarks":[]}`, ErrNewerFile, "version 3"},
		{"wrong type", `{"version":1,"bookmarks":{"a":1}}`, ErrMalformedFile, "line 1"},
		{"invalid bookmark", `{"version":2,"bookmarks":[` + string(invalidJSON) + `]}`, ErrMalformedFile, "port"},
		{"duplicate id", `{"version":2,"bookmarks":[` + string(validJSON) + "," + string(validJSON) + `]}`, ErrMalformedFile, "repeats"},
		{"v1 isolation missing", `{"version":1,"bookmarks":[{"id":"` + valid.ID + `","address":"example.com","port":1,"username":"a"}]}`, ErrMalformedFile, "isolation"},
		{"v1 key for another onion", `{"version":1,"bookmarks":[{"id":"` + valid.ID + `","address":"` + knownOnions[0] + `","port":1,"username":"a",` +
			`"isolation":{"username":"u","password":"p"},"client_auth_key":"` + strings.TrimSuffix(knownOnions[1], ".onion") + `:descriptor:x25519:` + strings.Repeat("A", 52) + `"}]}`,
			ErrMalformedFile, "different onion"},
		{"trailing data", `{"version":1,"bookmarks":[]} {}`, ErrMalformedFile, "after"},
		{"second line", "{\"version\":1,\n\"bookmarks\": [1]}", ErrMalformedFile, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, BookmarksFile)
			if err := os.WriteFile(path, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := NewDirStorage(dir)
			if err != nil {
				t.Fatal(err)
			}
			s, err := OpenBookmarkStore(st)
			if err == nil || s != nil {
				t.Fatalf("OpenBookmarkStore = %v, %v; want an error and no store", s, err)
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), "untouched") {
				t.Errorf("err = %v; want %v mentioning %q and that the file is untouched", err, tt.is, tt.mention)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, []byte(tt.data)) {
				t.Errorf("file changed to %q", got)
			}
		})
	}
}

func TestBookmarkStoreConcurrent(t *testing.T) {
	s, _ := openDirStore(t, t.TempDir())
	b, err := s.Add(newTestBookmark(t, "example.com", "u"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := s.Modify(b.ID, func(b *Bookmark) error {
				b.Channel = append(b.Channel, fmt.Sprint(len(b.Channel)))
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = s.List()
		}()
	}
	wg.Wait()
	got, _ := s.Get(b.ID)
	if len(got.Channel) != n {
		t.Fatalf("after %d concurrent Modify calls the channel path has %d levels: lost updates", n, len(got.Channel))
	}
}

func TestBookmarkStoreAmnesic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	st, err := Amnesia{On: true}.Storage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBookmarkStore(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(newTestBookmark(t, "example.com", "u")); err != nil {
		t.Fatal(err)
	}
	if err := SaveSettings(st, DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("amnesic mode created the configuration directory")
	}
	again, err := OpenBookmarkStore(st)
	if err != nil || again.Len() != 1 {
		t.Fatalf("in-memory store lost the bookmark: %v, %d", err, again.Len())
	}
}
