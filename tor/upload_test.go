package tor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cretz/bine/control"
)

// TestWaitUploaded feeds waitUploaded the HS_DESC events Tor sends after a
// configuration change.
func TestWaitUploaded(t *testing.T) {
	ev := func(action, dir, reason string) *control.HSDescEvent {
		return &control.HSDescEvent{Action: action, HSDir: dir, Reason: reason}
	}
	tests := []struct {
		name   string
		events []*control.HSDescEvent
		want   string // "" for success; else part of the error
	}{
		{"all uploaded", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("UPLOAD", "b", ""), ev("UPLOADED", "a", ""), ev("UPLOADED", "b", ""),
		}, ""},
		{"one of two failed", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("UPLOAD", "b", ""), ev("FAILED", "a", "UNEXPECTED"), ev("UPLOADED", "b", ""),
		}, ""},
		{"an earlier round's end is ignored", []*control.HSDescEvent{
			ev("UPLOADED", "z", ""), ev("UPLOAD", "a", ""), ev("UPLOADED", "a", ""),
		}, ""},
		// Tor never reports the end of b (its circuit failed): a's
		// success and the grace are enough.
		{"one never ends", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("UPLOAD", "b", ""), ev("UPLOADED", "a", ""),
		}, ""},
		{"all rejected", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("FAILED", "a", "UPLOAD_REJECTED"),
		}, "not newer"},
		{"all failed", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("UPLOAD", "b", ""), ev("FAILED", "a", "UNEXPECTED"), ev("FAILED", "b", "QUERY_REJECTED"),
		}, "descriptor upload failed: a: UNEXPECTED; b: QUERY_REJECTED"},
		// Nothing has succeeded: only the caller's context ends the wait,
		// and the error names what was pending.
		{"none ends", []*control.HSDescEvent{
			ev("UPLOAD", "a", ""), ev("UPLOAD", "b", ""), ev("FAILED", "a", "UNEXPECTED"),
		}, "2 announced, 0 uploaded, 1 failed, still pending at [b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events := make(chan *control.HSDescEvent) // each send waits for waitUploaded
			emb := &embedded{pumpDone: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			result := make(chan error, 1)
			go func() { result <- waitUploaded(ctx, emb, events, 10*time.Millisecond) }()
			for _, e := range tt.events {
				select {
				case events <- e:
				case err := <-result:
					t.Fatalf("waitUploaded returned before event %+v: %v", e, err)
				}
			}
			// Every event is read: only the grace or the context can end
			// the wait now.
			if strings.Contains(tt.want, "pending") {
				cancel()
			}
			err := <-result
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("waitUploaded: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("waitUploaded: %v, want an error with %q", err, tt.want)
			}
		})
	}

	// Tor going away ends the wait.
	emb := &embedded{pumpDone: make(chan struct{})}
	close(emb.pumpDone)
	if err := waitUploaded(context.Background(), emb, make(chan *control.HSDescEvent), time.Second); !errors.Is(err, ErrTorExited) {
		t.Errorf("after Tor exited: %v", err)
	}
}
