package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tumble-voip/tumble/tor"
)

// ErrMalformedFile is matched (errors.Is) by the error returned when a saved
// file cannot be parsed or holds invalid values. The file is left untouched.
var ErrMalformedFile = errors.New("malformed file")

// ErrNewerFile is matched (errors.Is) by the error returned when a saved file
// was written by a newer Tumble with a format version this one does not
// know. The file is left untouched.
var ErrNewerFile = errors.New("file written by a newer version of Tumble")

// maxFileSize bounds the files Tumble reads back; bookmarks and settings are
// a few kilobytes each, so anything larger is not ours.
const maxFileSize = 64 << 20

// checkVersion reads the "version" field of a versioned JSON document and
// checks it against the versions this build understands (1..current).
func checkVersion(name string, data []byte, current int) (int, error) {
	if len(data) > maxFileSize {
		return 0, fmt.Errorf("app: %s is %d bytes, more than the %d a Tumble file can be: %w; it was left untouched",
			name, len(data), maxFileSize, ErrMalformedFile)
	}
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return 0, fmt.Errorf("app: %s: %w: %s; it was left untouched", name, ErrMalformedFile, describeJSONError(data, err))
	}
	switch {
	case head.Version == nil:
		return 0, fmt.Errorf("app: %s: %w: no \"version\" field; it was left untouched", name, ErrMalformedFile)
	case *head.Version < 1:
		return 0, fmt.Errorf("app: %s: %w: version %d is not valid; it was left untouched", name, ErrMalformedFile, *head.Version)
	case *head.Version > current:
		return 0, fmt.Errorf("app: %s has format version %d but this Tumble only knows up to %d: %w; it was left untouched",
			name, *head.Version, current, ErrNewerFile)
	}
	return *head.Version, nil
}

// decodeJSON decodes data into v, reporting errors with a line number.
func decodeJSON(name string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("app: %s: %w: %s; it was left untouched", name, ErrMalformedFile, describeJSONError(data, err))
	}
	if dec.More() {
		return fmt.Errorf("app: %s: %w: data after the JSON document; it was left untouched", name, ErrMalformedFile)
	}
	return nil
}

// describeJSONError turns a JSON error into text with a line number where
// the error carries an offset.
func describeJSONError(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// encodeJSON renders v as indented JSON with a trailing newline.
func encodeJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Bookmark file versions:
//
//	1: "isolation" is {"username": ..., "password": ...}, any SOCKS text;
//	   "client_auth_key" is Tor's auth_private line or the bare base32 key.
//	2: "isolation" is tor.Isolation's text form ("iso1-" + 64 hex digits);
//	   "client_auth_key" is always Tor's auth_private line.
//
// upgradeBookmarksV1 turns a version 1 file into bookmarks. Every field is
// kept; each bookmark keeps the very SOCKS credentials, and so the
// circuits, it had (see isolationFromV1).
func upgradeBookmarksV1(data []byte) ([]Bookmark, error) {
	var doc struct {
		Bookmarks []bookmarkV1 `json:"bookmarks"`
	}
	if err := decodeJSON(BookmarksFile, data, &doc); err != nil {
		return nil, err
	}
	list := make([]Bookmark, len(doc.Bookmarks))
	for i, v := range doc.Bookmarks {
		b, err := v.upgrade()
		if err != nil {
			return nil, fmt.Errorf("app: %s: %w: bookmark %d (%q): %w; it was left untouched",
				BookmarksFile, ErrMalformedFile, i+1, v.Name(), err)
		}
		list[i] = b
	}
	return list, nil
}

// bookmarkV1 is a bookmark as version 1 stored it: the fields whose form
// changed shadow Bookmark's (encoding/json prefers the shallower field),
// the others are read into the embedded Bookmark.
type bookmarkV1 struct {
	Bookmark
	ClientAuthKey string `json:"client_auth_key,omitempty"`
	Isolation     struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"isolation"`
}

// upgrade returns v as a current Bookmark.
func (v bookmarkV1) upgrade() (Bookmark, error) {
	b := v.Bookmark
	iso, err := isolationFromV1(v.Isolation.Username, v.Isolation.Password)
	if err != nil {
		return Bookmark{}, &FieldError{Field: "isolation", Err: err}
	}
	b.Isolation = iso
	if err := b.SetClientAuthKey(v.ClientAuthKey); err != nil {
		return Bookmark{}, err
	}
	return b, nil
}

// isolationFromV1 maps version 1 SOCKS credentials onto tor.Isolation
// exactly as version 1 did when dialing: credentials it generated (32 hex
// digits each) become the same SOCKS user name and password; any other
// text (edited by hand) is hashed into a token, which still gives each
// distinct pair its own circuits.
func isolationFromV1(user, pass string) (tor.Isolation, error) {
	if user == "" && pass == "" {
		return tor.Isolation{}, errNoIsolation
	}
	token := user + pass
	if len(user) != 32 || len(pass) != 32 || !isLowerHex(token) {
		sum := sha256.Sum256([]byte(user + "\x00" + pass))
		token = hex.EncodeToString(sum[:])
	}
	iso, err := tor.ParseIsolation("iso1-" + token)
	if err != nil {
		return tor.Isolation{}, fmt.Errorf("app: version 1 isolation: %w", err)
	}
	return iso, nil
}
