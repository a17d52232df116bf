package mumble

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanLine makes a server-supplied one-line string (a user or channel
// name, a kick reason) safe to display: it drops control characters (a
// newline in a user name would forge a chat line) and the bidirectional
// marks, embeddings, overrides and isolates that make text read
// differently from what it is, and replaces invalid UTF-8.
func cleanLine(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || hiddenInLine(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if hiddenInLine(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func hiddenInLine(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// cleanLinePtr cleans *p in place, if p is set.
func cleanLinePtr(p *string) {
	if p != nil {
		*p = cleanLine(*p)
	}
}
