package app

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/app/apptest"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestControllerChannelDescriptions checks that channel descriptions show
// as plain text: short ones sent with the channel, long ones (sent by hash)
// fetched from the server when connecting and again when they change, with
// images as placeholders that are never loaded and links listed as text.
// The server keeps its default message rate limit.
func TestControllerChannelDescriptions(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			tracker, fetched := apptest.Tracker(t)
			srv := murmurtest.Start(t, murmurtest.Options{Version: v, Channels: []string{"Rules", "Short", "Plain", "Rules/Archive"}})
			ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
			defer cancel()
			admin := apptest.SuperUser(t, srv)
			rules := `<h1>House rules</h1><p>Be kind. Read <a href="https://example.com/rules">the full rules</a>.</p>` +
				`<img src="` + tracker + `/pixel.png"><script>fetch("` + tracker + `/js")</script>` +
				`<p style="background:url(` + tracker + `/bg.png)">` + strings.Repeat("Speak one at a time. ", 8) + `</p>`
			archive := `<p>Old logs` + strings.Repeat(".", 150) + `</p><img src="` + tracker + `/archive.png">`
			short := `Say <b>hi</b> <img src="` + tracker + `/s.png">`
			for ch, d := range map[string]string{"Rules": rules, "Rules/Archive": archive, "Short": short} {
				if err := admin.SetChannelDescription(ctx, srv.Channels[ch], d); err != nil {
					t.Fatal(err)
				}
			}

			c := newTestController(t, ControllerConfig{})
			connect(t, c, addServerBookmark(t, c, srv.Addr, "alice", ""))
			wantRules := "House rules\nBe kind. Read the full rules.\n" + ImagePlaceholder + "\n" +
				strings.TrimSpace(strings.Repeat("Speak one at a time. ", 8))
			st := waitFor(t, c, "long descriptions fetched", func(st State) bool {
				r, a := channelByName(st.Root, "Rules"), channelByName(st.Root, "Archive")
				return r != nil && a != nil && r.Description != "" && a.Description != ""
			})
			r := channelByName(st.Root, "Rules")
			if r.Description != wantRules || r.DescriptionPending {
				t.Errorf("Rules description %q (pending %v), want %q", r.Description, r.DescriptionPending, wantRules)
			}
			if want := []ChatLink{{Text: "the full rules", URL: "https://example.com/rules"}}; !reflect.DeepEqual(r.DescriptionLinks, want) {
				t.Errorf("Rules links %+v, want %+v", r.DescriptionLinks, want)
			}
			if a := channelByName(st.Root, "Archive"); a.Description != "Old logs"+strings.Repeat(".", 150)+"\n"+ImagePlaceholder {
				t.Errorf("Archive description %q", a.Description)
			}
			if s := channelByName(st.Root, "Short"); s.Description != "Say hi "+ImagePlaceholder || s.DescriptionPending || len(s.DescriptionLinks) != 0 {
				t.Errorf("Short description %+v", s)
			}
			if p := channelByName(st.Root, "Plain"); p.Description != "" || p.DescriptionPending || st.Root.Description != "" {
				t.Errorf("channels without a description: %+v, root %q", p, st.Root.Description)
			}
			if strings.Contains(fmt.Sprint(st.Root), tracker) {
				t.Errorf("the tree holds an address of remote content: %+v", st.Root)
			}

			// A long description changed while connected is fetched again.
			changed := "<p>New rules: " + strings.Repeat("listen more. ", 12) + "</p>"
			if err := admin.SetChannelDescription(ctx, srv.Channels["Rules"], changed); err != nil {
				t.Fatal(err)
			}
			wantChanged := "New rules: " + strings.TrimSpace(strings.Repeat("listen more. ", 12))
			st = waitFor(t, c, "the changed description", func(st State) bool {
				r := channelByName(st.Root, "Rules")
				return r != nil && r.Description == wantChanged && !r.DescriptionPending && len(r.DescriptionLinks) == 0
			})
			// A new channel with a long description.
			if _, err := admin.CreateChannel(ctx, 0, "Later", false); err != nil {
				t.Fatal(err)
			}
			later := strings.Repeat("later ", 30)
			laterCh, ok := admin.ChannelByPath("Root/Later")
			if !ok {
				t.Fatal("no channel Later")
			}
			if err := admin.SetChannelDescription(ctx, laterCh.ID, later); err != nil {
				t.Fatal(err)
			}
			waitFor(t, c, "the new channel's description", func(st State) bool {
				l := channelByName(st.Root, "Later")
				return l != nil && l.Description == strings.TrimSpace(later)
			})

			// The snapshot is a copy.
			st = c.State()
			channelByName(st.Root, "Rules").Description = "edited"
			if got := channelByName(c.State().Root, "Rules").Description; got != wantChanged {
				t.Errorf("State shares channel views: %q", got)
			}
			if n := fetched(); n != 0 {
				t.Errorf("%d connections to the address in the descriptions: remote content was fetched", n)
			}
		})
	}
}
