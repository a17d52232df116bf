package ui

import (
	"context"
	"net"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// talkTo sends voice packets from c to voice target until stop is closed,
// then a terminator.
func talkTo(ctx context.Context, c *mumble.Client, target uint32, stop <-chan struct{}) <-chan error {
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		// A 20 ms Opus packet of silence (CELT, TOC 0xf8 + padding).
		opus := []byte{0xf8, 0xff, 0xfe}
		for {
			select {
			case <-stop:
				done <- c.SendVoice(ctx, mumble.OutgoingVoice{Opus: opus, Frames: 2, Target: target, Last: true})
				return
			case <-tick.C:
				if err := c.SendVoice(ctx, mumble.OutgoingVoice{Opus: opus, Frames: 2, Target: target}); err != nil {
					done <- err
					return
				}
			}
		}
	}()
	return done
}

// TestTreeWhisperAndShout: over a real server, a user in another channel
// who whispers to this client and then shouts to its channel shows in the
// tree as whispering and as shouting, each by name, colour and icon, and
// as silent afterwards.
func TestTreeWhisperAndShout(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{Channels: []string{"Lobby"}})
	ctrl := newController(t, app.ControllerConfig{AudioBackend: app.AudioNull})
	addBookmark(t, ctrl, app.Bookmark{Label: "Test server", Address: "127.0.0.1", Port: srv.Port,
		Username: "alice", Channel: []string{"Lobby"}})
	u := newTestUI(t, ctrl, nil)
	test.Tap(findButton(t, u.servers.object(), "Connect"))
	st := waitFor(t, u, "alice in Lobby", func(st app.State) bool { _, ch := userIn(st.Root, "alice"); return ch == "Lobby" })
	lobby := srv.Channels["Lobby"]
	alice := st.Self.Session

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var d net.Dialer
	carol, err := mumble.Dial(ctx, srv.Addr, &mumble.Config{Username: "carol", DialContext: d.DialContext})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	st = waitFor(t, u, "carol in Root", func(st app.State) bool { c, _ := userIn(st.Root, "carol"); return c != nil })
	carolView, _ := userIn(st.Root, "carol")
	row := func() *treeRow { return treeRowFor(t, u, userUID(carolView.Session, 0)) }

	for _, tc := range []struct {
		what   string
		target mumble.VoiceTarget
		kind   app.TalkKind
		text   string
		imp    widget.Importance
		icon   string
	}{
		{"whisper", mumble.VoiceTarget{Users: []uint32{alice}}, app.TalkWhisper, "carol (whispering to you)", widget.HighImportance, iconWhisper().Name()},
		{"shout", mumble.VoiceTarget{Channels: []mumble.VoiceTargetChannel{{ID: lobby}}}, app.TalkShout, "carol (shouting)", widget.WarningImportance, iconShout().Name()},
	} {
		const id = 3
		if err := carol.SetVoiceTarget(ctx, id, tc.target); err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		done := talkTo(ctx, carol, id, stop)
		waitFor(t, u, "carol's "+tc.what, func(st app.State) bool {
			c, _ := userIn(st.Root, "carol")
			return c != nil && c.Talking && c.Talk == tc.kind
		})
		r := row()
		if r.name.Text != tc.text || r.name.Importance != tc.imp || !r.name.TextStyle.Bold || r.icon.Resource.Name() != tc.icon {
			t.Errorf("%s: row reads %q (importance %v, bold %v, icon %s); want %q, %v, bold, %s", tc.what,
				r.name.Text, r.name.Importance, r.name.TextStyle.Bold, r.icon.Resource.Name(), tc.text, tc.imp, tc.icon)
		}
		close(stop)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		waitFor(t, u, "carol silent after the "+tc.what, func(st app.State) bool {
			c, _ := userIn(st.Root, "carol")
			return c != nil && !c.Talking
		})
		if r := row(); r.name.Text != "carol" || r.name.TextStyle.Bold || r.icon.Resource.Name() != iconSilent().Name() {
			t.Errorf("after the %s: row reads %q (bold %v, icon %s)", tc.what, r.name.Text, r.name.TextStyle.Bold, r.icon.Resource.Name())
		}
	}
}
