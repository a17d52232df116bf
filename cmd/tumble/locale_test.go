package main

import (
	"bytes"
	"log"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
)

// TestQuietCLocale: under C.UTF-8 Fyne finds English without logging
// "Error parsing user locale C"; other locales and a LANGUAGE chosen by
// the user are left alone.
func TestQuietCLocale(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{"LANG": "C.UTF-8"}, true},
		{map[string]string{"LC_ALL": "POSIX.utf8", "LANG": "de_DE.UTF-8"}, true},
		{map[string]string{"LC_MESSAGES": "C.UTF-8"}, true},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "de_DE.UTF-8"}, false},
		{map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "fr"}, false},
		{map[string]string{"LC_ALL": "fr_FR.UTF-8", "LANG": "C.UTF-8"}, false},
		{map[string]string{}, false},
	} {
		set := map[string]string{}
		got := quietCLocale(func(k string) string { return tc.env[k] }, func(k, v string) error {
			set[k] = v
			return nil
		})
		if got != tc.want || (got && set["LANGUAGE"] != "en") || (!got && len(set) != 0) {
			t.Errorf("env %v: set %v, reported %v; want %v", tc.env, set, got, tc.want)
		}
	}

	// The real thing: Fyne's locale lookup under C.UTF-8.
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANGUAGE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("LANG", "C.UTF-8")
	if !quietCLocale(os.Getenv, os.Setenv) {
		t.Fatal("LANGUAGE not set under LANG=C.UTF-8")
	}
	t.Cleanup(func() { os.Unsetenv("LANGUAGE") })
	var buf bytes.Buffer
	log.SetOutput(&buf)
	defer log.SetOutput(os.Stderr)
	loc := lang.SystemLocale()
	if strings.Contains(buf.String(), "locale") {
		t.Errorf("Fyne still logs about the locale:\n%s", buf.String())
	}
	if loc.LanguageString() != "en" {
		t.Errorf("Fyne's locale is %q, want en", loc)
	}
}
