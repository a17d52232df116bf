package app

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// A FieldError reports one invalid field of a bookmark or of the settings.
// Validate methods return several of them joined with errors.Join; use
// FieldErrors to list them, for example to mark fields in a form.
type FieldError struct {
	// Field names the field as in the saved file, e.g. "address" or
	// "input.voice_hold_ms".
	Field string
	// Err says what is wrong with it.
	Err error
}

// Error returns "<field>: <reason>".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors returns every FieldError contained in err, in order, looking
// through errors joined with errors.Join and wrapped with %w.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// fieldErrs collects FieldErrors.
type fieldErrs []error

func (f *fieldErrs) add(field string, err error) {
	if err != nil {
		*f = append(*f, &FieldError{Field: field, Err: err})
	}
}

func (f *fieldErrs) addf(field, format string, args ...any) {
	f.add(field, fmt.Errorf(format, args...))
}

func (f fieldErrs) join() error { return errors.Join(f...) }

// checkText rejects invalid UTF-8, control characters and text longer than
// max runes. It is used for every free-text field a user types.
func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("is %d characters long, the limit is %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	return nil
}
