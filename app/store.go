package app

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
)

// BookmarksFile is the name of the bookmark file inside the Storage.
const BookmarksFile = "bookmarks.json"

// bookmarksVersion is the format version this build writes and the newest
// it reads; older versions are upgraded when read (see upgradeBookmarksV1).
const bookmarksVersion = 2

// bookmarksDoc is the on-disk form:
//
//	{"version": 2, "bookmarks": [ ... ]}
type bookmarksDoc struct {
	Version   int        `json:"version"`
	Bookmarks []Bookmark `json:"bookmarks"`
}

// BookmarkStore is the ordered list of bookmarks, kept in a Storage. Every
// change is written at once, atomically; if writing fails the change is
// undone in memory too and the error returned, so memory and file agree.
// A BookmarkStore is safe for concurrent use.
type BookmarkStore struct {
	st Storage

	mu   sync.Mutex
	list []Bookmark
}

// OpenBookmarkStore loads the bookmarks from st. A missing file is an empty
// list. A file that cannot be parsed, holds an invalid bookmark, or has a
// newer format version is an error matching ErrMalformedFile or
// ErrNewerFile, and no store is returned, so the file cannot be overwritten
// by mistake.
func OpenBookmarkStore(st Storage) (*BookmarkStore, error) {
	if st == nil {
		return nil, errors.New("app: open bookmarks: nil Storage")
	}
	data, err := st.ReadFile(BookmarksFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &BookmarkStore{st: st}, nil
	case err != nil:
		return nil, fmt.Errorf("app: open bookmarks: %w", err)
	}
	list, err := decodeBookmarks(data)
	if err != nil {
		return nil, err
	}
	return &BookmarkStore{st: st, list: list}, nil
}

// decodeBookmarks parses and validates a bookmark file.
func decodeBookmarks(data []byte) ([]Bookmark, error) {
	version, err := checkVersion(BookmarksFile, data, bookmarksVersion)
	if err != nil {
		return nil, err
	}
	var doc bookmarksDoc
	if version == 1 {
		if doc.Bookmarks, err = upgradeBookmarksV1(data); err != nil {
			return nil, err
		}
	} else if err := decodeJSON(BookmarksFile, data, &doc); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(doc.Bookmarks))
	for i, b := range doc.Bookmarks {
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("app: %s: %w: bookmark %d (%q): %w; it was left untouched",
				BookmarksFile, ErrMalformedFile, i+1, b.Name(), err)
		}
		if seen[b.ID] {
			return nil, fmt.Errorf("app: %s: %w: bookmark %d repeats the id %s; it was left untouched",
				BookmarksFile, ErrMalformedFile, i+1, b.ID)
		}
		seen[b.ID] = true
	}
	return doc.Bookmarks, nil
}

// List returns a copy of all bookmarks in order.
func (s *BookmarkStore) List() []Bookmark {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Bookmark, len(s.list))
	for i, b := range s.list {
		out[i] = b.Clone()
	}
	return out
}

// Len returns the number of bookmarks.
func (s *BookmarkStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.list)
}

// Get returns a copy of the bookmark with the given ID, or an error matching
// ErrBookmarkNotFound.
func (s *BookmarkStore) Get(id string) (Bookmark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return Bookmark{}, fmt.Errorf("app: bookmark %q: %w", id, ErrBookmarkNotFound)
	}
	return s.list[i].Clone(), nil
}

// Add normalizes b, generates whatever it lacks (ID, isolation credentials,
// identity), validates it, appends it to the list and saves. It returns the
// bookmark as stored.
func (s *BookmarkStore) Add(b Bookmark) (Bookmark, error) {
	b = b.Clone()
	b.Normalize()
	// Key generation is slow; do it before taking the lock.
	if err := b.generateMissing(); err != nil {
		return Bookmark{}, err
	}
	if err := b.Validate(); err != nil {
		return Bookmark{}, fmt.Errorf("app: add bookmark: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.index(b.ID) >= 0 {
		return Bookmark{}, fmt.Errorf("app: add bookmark: id %s already exists", b.ID)
	}
	next := append(s.snapshot(), b)
	if err := s.commit(next); err != nil {
		return Bookmark{}, fmt.Errorf("app: add bookmark: %w", err)
	}
	return b.Clone(), nil
}

// Update replaces the bookmark with b's ID by b (normalized and validated)
// and saves.
func (s *BookmarkStore) Update(b Bookmark) error {
	b = b.Clone()
	b.Normalize()
	if err := b.Validate(); err != nil {
		return fmt.Errorf("app: update bookmark: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(b.ID)
	if i < 0 {
		return fmt.Errorf("app: update bookmark %q: %w", b.ID, ErrBookmarkNotFound)
	}
	next := s.snapshot()
	next[i] = b
	if err := s.commit(next); err != nil {
		return fmt.Errorf("app: update bookmark: %w", err)
	}
	return nil
}

// Modify applies fn to a copy of the bookmark with the given ID and, if fn
// returns nil and the result is valid, stores and saves it, all under the
// store's lock (so two concurrent Modify calls do not lose each other's
// changes). fn must not change the ID or call the store. It returns the
// bookmark as stored.
func (s *BookmarkStore) Modify(id string, fn func(*Bookmark) error) (Bookmark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return Bookmark{}, fmt.Errorf("app: modify bookmark %q: %w", id, ErrBookmarkNotFound)
	}
	b := s.list[i].Clone()
	if err := fn(&b); err != nil {
		return Bookmark{}, fmt.Errorf("app: modify bookmark %s: %w", s.list[i].Name(), err)
	}
	if b.ID != id {
		return Bookmark{}, fmt.Errorf("app: modify bookmark %s: the id cannot be changed", s.list[i].Name())
	}
	b.Normalize()
	if err := b.Validate(); err != nil {
		return Bookmark{}, fmt.Errorf("app: modify bookmark %s: %w", s.list[i].Name(), err)
	}
	next := s.snapshot()
	next[i] = b
	if err := s.commit(next); err != nil {
		return Bookmark{}, fmt.Errorf("app: modify bookmark: %w", err)
	}
	return b.Clone(), nil
}

// Delete removes the bookmark with the given ID and saves.
func (s *BookmarkStore) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return fmt.Errorf("app: delete bookmark %q: %w", id, ErrBookmarkNotFound)
	}
	next := s.snapshot()
	next = append(next[:i], next[i+1:]...)
	if err := s.commit(next); err != nil {
		return fmt.Errorf("app: delete bookmark: %w", err)
	}
	return nil
}

// Move puts the bookmark with the given ID at position index (0-based) of
// the list, shifting the others, and saves.
func (s *BookmarkStore) Move(id string, index int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.index(id)
	if i < 0 {
		return fmt.Errorf("app: move bookmark %q: %w", id, ErrBookmarkNotFound)
	}
	if index < 0 || index >= len(s.list) {
		return fmt.Errorf("app: move bookmark: position %d is outside 0-%d", index, len(s.list)-1)
	}
	if i == index {
		return nil
	}
	next := s.snapshot()
	b := next[i]
	next = append(next[:i], next[i+1:]...)
	next = append(next[:index], append([]Bookmark{b}, next[index:]...)...)
	if err := s.commit(next); err != nil {
		return fmt.Errorf("app: move bookmark: %w", err)
	}
	return nil
}

// index returns the position of id, or -1. s.mu must be held.
func (s *BookmarkStore) index(id string) int {
	for i := range s.list {
		if s.list[i].ID == id {
			return i
		}
	}
	return -1
}

// snapshot returns a copy of the list to build the next version in.
// s.mu must be held.
func (s *BookmarkStore) snapshot() []Bookmark {
	return append(make([]Bookmark, 0, len(s.list)+1), s.list...)
}

// commit writes next to storage and, only if that succeeded, makes it the
// current list. s.mu must be held.
func (s *BookmarkStore) commit(next []Bookmark) error {
	if next == nil {
		next = []Bookmark{}
	}
	data, err := encodeJSON(bookmarksDoc{Version: bookmarksVersion, Bookmarks: next})
	if err != nil {
		return fmt.Errorf("encode bookmarks: %w", err)
	}
	if err := s.st.WriteFile(BookmarksFile, data); err != nil {
		return err
	}
	s.list = next
	return nil
}
