package main

import "strings"

// quietCLocale makes Fyne fall back to English quietly on the C and POSIX
// locales with a character set ("C.UTF-8", "POSIX.utf8"): Fyne reads the
// locale from LC_ALL, LC_MESSAGES or LANG and, for "C.UTF-8", logs "Error
// parsing user locale C" at every start. Fyne then consults LANGUAGE
// before the locale, so LANGUAGE=en is set, unless the user set LANGUAGE.
// The C library ignores LANGUAGE under the C locale (gettext's rule), so
// nothing else changes. It reports whether it set LANGUAGE.
func quietCLocale(getenv func(string) string, setenv func(key, value string) error) bool {
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc = getenv(k); loc != "" {
			break
		}
	}
	base, _, found := strings.Cut(loc, ".")
	if !found || (base != "C" && base != "POSIX") || getenv("LANGUAGE") != "" {
		return false
	}
	return setenv("LANGUAGE", "en") == nil
}
