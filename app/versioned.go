package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
