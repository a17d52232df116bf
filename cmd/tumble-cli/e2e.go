package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/e2e"
)

// cliE2E is the encrypted room of a --e2e run.
type cliE2E struct {
	link  *e2e.Link
	trust *e2e.Trust
	ready chan struct{} // closed once --e2e-members members' keys are in and ours is theirs
	want  int
	done  bool // ready closed; event printer goroutine only
}

// newCLIE2E loads (or makes) the identity and trust store and returns the
// disabled link for c.
func newCLIE2E(c *mumble.Client, o *options) (*cliE2E, error) {
	var id *e2e.Identity
	if o.e2eIdentity != "" {
		b, err := os.ReadFile(o.e2eIdentity)
		switch {
		case err == nil:
			if id, err = e2e.UnmarshalIdentity(b); err != nil {
				return nil, fmt.Errorf("--e2e-identity: %w", err)
			}
		case errors.Is(err, fs.ErrNotExist):
			if id, err = e2e.NewIdentity(); err != nil {
				return nil, err
			}
			b, _ := id.MarshalBinary()
			if err := writeAtomic(o.e2eIdentity, b); err != nil {
				return nil, fmt.Errorf("--e2e-identity: %w", err)
			}
		default:
			return nil, fmt.Errorf("--e2e-identity: %w", err)
		}
	} else {
		var err error
		if id, err = e2e.NewIdentity(); err != nil {
			return nil, err
		}
	}
	trust := e2e.NewTrust()
	if o.e2eTrust != "" {
		b, err := os.ReadFile(o.e2eTrust)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--e2e-trust: %w", err)
		}
		if err := trust.UnmarshalText(b); err != nil {
			return nil, fmt.Errorf("--e2e-trust: %w", err)
		}
	}
	link, err := e2e.NewLink(c, e2e.LinkConfig{Identity: id, Trust: trust})
	if err != nil {
		return nil, err
	}
	x := &cliE2E{link: link, trust: trust, ready: make(chan struct{}), want: o.e2eMembers}
	if x.want == 0 {
		close(x.ready)
		x.done = true
	}
	return x, nil
}

// writeAtomic replaces path with data atomically.
func writeAtomic(path string, data []byte) error {
	st, err := app.NewDirStorage(filepath.Dir(path))
	if err != nil {
		return err
	}
	return st.WriteFile(filepath.Base(path), data)
}

// save writes the trust store back.
func (x *cliE2E) save(o *options) error {
	if o.e2eTrust == "" {
		return nil
	}
	b, err := x.trust.MarshalText()
	if err != nil {
		return err
	}
	if err := writeAtomic(o.e2eTrust, b); err != nil {
		return fmt.Errorf("--e2e-trust: %w", err)
	}
	return nil
}

// waitReady waits until the wanted members' keys are in.
func (x *cliE2E) waitReady(ctx context.Context, c *mumble.Client) error {
	select {
	case <-x.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Done():
		return fmt.Errorf("disconnected waiting for %d encrypted room members", x.want)
	}
}

// handle passes e to the link and prints what it yields; true if e was
// signalling (not to be printed). Event printer goroutine only.
func (x *cliE2E) handle(p *eventPrinter, e mumble.Event) bool {
	ctx := context.Background()
	line, consumed, err := x.link.HandleEvent(ctx, e)
	if err != nil {
		p.ev.emit("e2e-error", field{"error", err.Error()})
	}
	for _, n := range x.link.Notices() {
		p.ev.emit("e2e-notice", field{"session", n.Session}, field{"name", n.Name}, field{"notice", n.Text}, field{"warning", n.Warning})
	}
	if line != nil {
		p.ev.emit("text", field{"from", line.Name}, field{"session", line.Sender}, field{"message", app.ParseChatHTML(line.Text).Text},
			field{"links", []string{}}, field{"encrypted", true}, field{"private", line.Private})
	}
	if !x.done {
		if r := x.link.Room(); r != nil {
			n := 0
			for _, m := range r.Members() {
				if m.HasKey {
					n++
				}
			}
			// Ready once they have this member's voice key too (it
			// is used only after every member acknowledged it).
			if n >= x.want && r.KeyDelivered() {
				p.ev.emit("e2e-ready", field{"members", n})
				close(x.ready)
				x.done = true
			}
		}
	}
	return consumed
}

// report prints the members and the drop counters.
func (x *cliE2E) report(p *eventPrinter) {
	r := x.link.Room()
	if r == nil {
		return
	}
	for _, m := range r.Members() {
		p.ev.emit("e2e-member", field{"session", m.Session}, field{"name", m.Name}, field{"trust", m.Trust.String()},
			field{"safety_number", m.SafetyNumber}, field{"has_key", m.HasKey})
	}
	st := r.Stats()
	p.ev.emit("e2e-stats", field{"replayed", st.Replayed}, field{"forged", st.Forged}, field{"unknown_key", st.UnknownKey},
		field{"bad_messages", st.BadMessages}, field{"rekeys", st.Rekeys}, field{"ack_timeouts", st.AckTimeouts})
}
