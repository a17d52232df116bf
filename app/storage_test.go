package app

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestDirStorageWriteRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg", "tumble")
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != DirMode {
		t.Errorf("directory mode = %v, want %v", got, DirMode)
	}
	if _, err := st.ReadFile("x.json"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadFile of missing file: err = %v, want fs.ErrNotExist", err)
	}
	for _, data := range [][]byte{[]byte("first"), []byte("second, longer"), {}} {
		if err := st.WriteFile("x.json", data); err != nil {
			t.Fatal(err)
		}
		got, err := st.ReadFile("x.json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("read %q, want %q", got, data)
		}
		fi, err := os.Stat(st.Path("x.json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != FileMode {
			t.Errorf("file mode = %v, want %v", got, FileMode)
		}
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want just x.json: %v", len(entries), entries)
	}
}

func TestDirStorageFileModeIgnoresUmaskAndOldMode(t *testing.T) {
	dir := t.TempDir()
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A pre-existing world-readable file is replaced by a 0600 one.
	if err := os.WriteFile(st.Path("f"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteFile("f", []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st.Path("f"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestDirStorageRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".bookmarks.json.tmp-12345")
	other := filepath.Join(dir, "keep.txt")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := NewDirStorage(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file still there (err %v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("unrelated file removed: %v", err)
	}
}

func TestDirStorageWriteFailureKeepsOldFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions, so the write cannot be made to fail this way")
	}
	dir := t.TempDir()
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WriteFile("f", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := st.WriteFile("f", []byte("new")); err == nil {
		t.Fatal("WriteFile into a read-only directory succeeded")
	}
	got, err := os.ReadFile(st.Path("f"))
	if err != nil || string(got) != "old" {
		t.Fatalf("old file = %q, %v; want it intact", got, err)
	}
}

func TestStorageRejectsBadNames(t *testing.T) {
	dir := t.TempDir()
	ds, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []Storage{ds, NewMemoryStorage()} {
		for _, name := range []string{"", ".", "..", "../x", "a/b", `a\b`, ".hidden", "x\x00y"} {
			if err := st.WriteFile(name, []byte("x")); err == nil {
				t.Errorf("%T.WriteFile(%q) succeeded", st, name)
			}
			if _, err := st.ReadFile(name); err == nil || errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%T.ReadFile(%q) err = %v, want a name error", st, name, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "x")); err == nil {
		t.Error("a file escaped the storage directory")
	}
}

func TestMemoryStorage(t *testing.T) {
	var m MemoryStorage // zero value usable
	if m.Persistent() {
		t.Error("MemoryStorage claims to be persistent")
	}
	if _, err := m.ReadFile("a"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	data := []byte("hello")
	if err := m.WriteFile("a", data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // the storage keeps its own copy
	got, err := m.ReadFile("a")
	if err != nil || string(got) != "hello" {
		t.Fatalf("got %q, %v", got, err)
	}
	got[0] = 'Y'
	again, _ := m.ReadFile("a")
	if string(again) != "hello" {
		t.Fatalf("ReadFile returned shared memory: %q", again)
	}
}

func TestOpenStorageAmnesicTouchesNoDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never")
	st, err := OpenStorage(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if st.Persistent() {
		t.Fatal("amnesic storage is persistent")
	}
	if err := st.WriteFile("settings.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("amnesic storage created %s (err %v)", dir, err)
	}
	st, err = OpenStorage(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Persistent() {
		t.Fatal("dir storage not persistent")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("dir storage did not create %s: %v", dir, err)
	}
}

func TestDirStorageFailedRenameLeavesNoTemp(t *testing.T) {
	// Works as root too: renaming a file over a non-empty directory fails.
	dir := t.TempDir()
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "busy", "inner"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteFile("busy", []byte("data")); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "busy" {
		t.Errorf("after the failed write the directory holds %v, want only busy/", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "busy", "inner")); err != nil {
		t.Errorf("failed write damaged the target: %v", err)
	}
}

func TestAmnesicStorageReadsThroughWritesNothing(t *testing.T) {
	dir := t.TempDir()
	// A bookmark file already on disk (say, from a disposable VM's template).
	disk, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBookmarkStore(disk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(newTestBookmark(t, "example.com", "alice")); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(disk.Path(BookmarksFile))
	entriesBefore, _ := os.ReadDir(dir)

	st, err := OpenStorage(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	am, err := OpenBookmarkStore(st)
	if err != nil {
		t.Fatal(err)
	}
	if am.Len() != 1 {
		t.Fatalf("amnesic store sees %d bookmarks, want the 1 on disk", am.Len())
	}
	if _, err := am.Add(newTestBookmark(t, "other.example", "bob")); err != nil {
		t.Fatal(err)
	}
	if err := am.Delete(am.List()[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := SaveSettings(st, DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if am.Len() != 1 || am.List()[0].Address != "other.example" {
		t.Fatalf("amnesic store in memory: %+v", am.List())
	}
	after, _ := os.ReadFile(disk.Path(BookmarksFile))
	if !bytes.Equal(before, after) {
		t.Error("amnesic session changed the bookmark file on disk")
	}
	entriesAfter, _ := os.ReadDir(dir)
	if len(entriesAfter) != len(entriesBefore) {
		t.Errorf("amnesic session created files: %v -> %v", entriesBefore, entriesAfter)
	}
	// A fresh amnesic session sees the disk again, not the last one's changes.
	st2, _ := OpenStorage(dir, true)
	am2, err := OpenBookmarkStore(st2)
	if err != nil || am2.Len() != 1 || am2.List()[0].Address != "example.com" {
		t.Fatalf("second amnesic session: %v %+v", err, am2.List())
	}
}

func TestSetSavedAmnesia(t *testing.T) {
	dir := t.TempDir()
	st, _ := NewDirStorage(dir)
	s := DefaultSettings()
	s.Input.QualityBitrate = 24000
	s.Privacy.Amnesic = true
	if err := SaveSettings(st, s); err != nil {
		t.Fatal(err)
	}
	// From inside an amnesic session, the user turns amnesic mode off.
	if err := SetSavedAmnesia(dir, false); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(st)
	if err != nil {
		t.Fatal(err)
	}
	if got.Privacy.Amnesic || got.Input.QualityBitrate != 24000 {
		t.Errorf("after SetSavedAmnesia(false): amnesic %v, bitrate %d", got.Privacy.Amnesic, got.Input.QualityBitrate)
	}
}
