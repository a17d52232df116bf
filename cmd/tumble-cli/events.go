package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// eventWriter prints events, as JSON lines with --json or as readable lines
// otherwise. It is safe for concurrent use.
type eventWriter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	now  func() time.Time
}

// field is one key/value of an event, kept in order for readable output.
type field struct {
	key   string
	value any
}

// emit writes one event of the given kind.
func (e *eventWriter) emit(kind string, fields ...field) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.json {
		m := make(map[string]any, len(fields)+2)
		m["event"] = kind
		m["time"] = e.now().UTC().Format(time.RFC3339Nano)
		for _, f := range fields {
			m[f.key] = f.value
		}
		b, err := json.Marshal(m)
		if err != nil {
			// Only unsupported value types can fail; report instead of dropping.
			b, _ = json.Marshal(map[string]any{"event": "error", "error": err.Error()})
		}
		e.w.Write(append(b, '\n'))
		return
	}
	var sb strings.Builder
	sb.WriteString(kind)
	for _, f := range fields {
		fmt.Fprintf(&sb, " %s=%s", f.key, formatValue(f.value))
	}
	sb.WriteByte('\n')
	io.WriteString(e.w, sb.String())
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" || strings.ContainsAny(v, " \t\n\"=") {
			b, _ := json.Marshal(v)
			return string(b)
		}
		return v
	case []string:
		s := append([]string(nil), v...)
		sort.Strings(s)
		return formatValue(strings.Join(s, ","))
	default:
		return fmt.Sprint(v)
	}
}
