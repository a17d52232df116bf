package mumble_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestServerChannelDescriptions measures when real servers send a channel
// description inline and when by hash only, and fetches the long ones with
// RequestChannelDescriptions: at login and after a change.
func TestServerChannelDescriptions(t *testing.T) {
	forEachServer(t, func(t *testing.T, v murmurtest.Version) {
		// Murmur counts the description's length in UTF-16 code units (Qt's
		// QString::length) and sends it inline below 128.
		descs := []struct {
			channel, text string
			inline        bool
		}{
			{"Inline127", strings.Repeat("a", 127), true},
			{"Hash128", strings.Repeat("b", 128), false},
			{"Accents", strings.Repeat("é", 127), true}, // 254 bytes of UTF-8, 127 code units
			{"Emoji63", strings.Repeat("😀", 63), true},  // 126 code units
			{"Emoji64", strings.Repeat("😀", 64), false}, // 128 code units, 256 bytes
			{"Markup", `<p>Rules: <a href="https://example.com/rules">read them</a>.</p><img src="http://127.0.0.1:9/pixel.png">` + strings.Repeat(" filler", 20), false},
		}
		var paths []string
		for _, d := range descs {
			paths = append(paths, d.channel)
		}
		// Creating more than 5 channels in a row exceeds the server's
		// default messageburst.
		srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: paths,
			Extra: map[string]string{"messageburst": "100", "messagelimit": "100"}})
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		admin := connect(t, srv, "SuperUser", func(cfg *mumble.Config) { cfg.Password = srv.SuperUserPassword })
		for _, d := range descs {
			if err := admin.SetChannelDescription(ctx, srv.Channels[d.channel], d.text); err != nil {
				t.Fatal(err)
			}
			// The server echoes the change to its author too: inline or
			// as a hash by the same rule.
			ch, _ := admin.Channel(srv.Channels[d.channel])
			if ch.NeedsDescription() == d.inline {
				t.Errorf("%s: echo to the author inline = %v, want %v", d.channel, !ch.NeedsDescription(), d.inline)
			}
		}

		bob := connect(t, srv, "bob", nil)
		var missing []uint32
		for _, d := range descs {
			ch, _ := bob.Channel(srv.Channels[d.channel])
			sum := sha1.Sum([]byte(d.text))
			if !bytes.Equal(ch.DescriptionHash, sum[:]) {
				t.Errorf("%s: hash %x, want the SHA-1 of the UTF-8 text %x", d.channel, ch.DescriptionHash, sum)
			}
			if d.inline && ch.Description != d.text {
				t.Errorf("%s: inline description %q", d.channel, ch.Description)
			}
			if !d.inline && !ch.NeedsDescription() {
				t.Errorf("%s: %d code units sent inline: %+v", d.channel, len([]rune(d.text)), ch)
			}
			if ch.NeedsDescription() {
				missing = append(missing, ch.ID)
			}
		}
		if len(missing) != 3 {
			t.Errorf("%d descriptions sent by hash, want 3", len(missing))
		}
		// One request for every channel: only the missing ones are asked
		// for.
		var all []uint32
		for _, ch := range bob.Channels() {
			all = append(all, ch.ID)
		}
		if err := bob.RequestChannelDescriptions(ctx, all...); err != nil {
			t.Fatal(err)
		}
		for _, d := range descs {
			ch, _ := bob.Channel(srv.Channels[d.channel])
			if ch.Description != d.text || ch.NeedsDescription() {
				t.Errorf("%s after the request: %q", d.channel, ch.Description)
			}
		}

		// A change to another long description arrives as a hash; the new
		// text is fetched.
		sub := bob.Subscribe()
		defer sub.Close()
		id := srv.Channels["Hash128"]
		changed := strings.Repeat("c", 200)
		if err := admin.SetChannelDescription(ctx, id, changed); err != nil {
			t.Fatal(err)
		}
		ev := waitFor(t, sub, func(e *mumble.ChannelChangedEvent) bool { return e.Channel.ID == id })
		if !ev.Channel.NeedsDescription() || ev.Prev.Description != descs[1].text {
			t.Errorf("long change seen as %+v", ev.Channel)
		}
		if err := bob.RequestChannelDescriptions(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ch, _ := bob.Channel(id); ch.Description != changed {
			t.Errorf("changed description %q", ch.Description)
		}
		// Removing it reaches everyone inline (empty).
		if err := admin.SetChannelDescription(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, sub, func(e *mumble.ChannelChangedEvent) bool {
			return e.Channel.ID == id && e.Channel.Description == "" && len(e.Channel.DescriptionHash) == 0
		})

		// Without the Write permission the server refuses.
		err := bob.SetChannelDescription(ctx, id, "mine now")
		var pd *mumble.PermissionDeniedError
		if !errors.As(err, &pd) || pd.Permission != mumble.PermissionWrite {
			t.Errorf("guest setting a description: %v", err)
		}
	})
}
