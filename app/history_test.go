package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble"
)

// chatHas reports whether st's chat has a line whose text contains text.
func chatHas(st State, text string) bool {
	return slices.ContainsFunc(st.Chat, func(l ChatLine) bool { return strings.Contains(l.Text, text) })
}

// moveUser moves a user of the fake server to channel to, with the event
// a server sends.
func (f *fakeClient) moveUser(session, to uint32) {
	f.mu.Lock()
	prev := f.users[session]
	u := prev
	u.ChannelID = to
	f.users[session] = u
	f.mu.Unlock()
	f.events <- &mumble.UserChangedEvent{User: u, Prev: prev, Change: mumble.UserChangedChannel}
}

// TestChatHistorySurvivesReconnect: the chat of a server is kept in memory
// across Cancel and Connect again, with join, leave and move notices and
// private messages marked with whom they went to; deleting the bookmark
// forgets it.
func TestChatHistorySurvivesReconnect(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	st := connectFake(t, c)
	id := st.Bookmark.ID
	fake.addChannel(mumble.Channel{ID: 5, Name: "Lab"})
	fake.addUser(mumble.User{Session: 2, Name: "alice"})
	waitFor(t, c, "join notice", func(st State) bool { return chatHas(st, "alice connected.") })
	fake.moveUser(2, 5)
	waitFor(t, c, "move notice", func(st State) bool { return chatHas(st, "alice left your channel for Lab.") })
	fake.moveUser(2, 0)
	waitFor(t, c, "move notice", func(st State) bool { return chatHas(st, "alice joined your channel.") })
	if err := c.SendChat("hello all"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendPrivate(2, "psst"); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	last := fake.texts[len(fake.texts)-1]
	fake.mu.Unlock()
	if !slices.Equal(last.Users, []uint32{2}) || len(last.Channels) != 0 || last.Message != "psst" {
		t.Errorf("private message sent as %+v; want to session 2 alone", last)
	}
	st = c.State()
	pm := st.Chat[len(st.Chat)-1]
	if !pm.Own || !pm.Private || pm.To != "alice" || pm.Text != "psst" {
		t.Errorf("private message in the chat: %+v; want own, private, to alice", pm)
	}
	if err := c.SendPrivate(99, "nobody"); err == nil {
		t.Error("a private message to an unknown session was accepted")
	}
	fake.removeUser(2)
	waitFor(t, c, "leave notice", func(st State) bool { return chatHas(st, "alice disconnected.") })

	// Cancel, then connect again (to a fresh connection): the chat is back.
	c.Cancel()
	if st := c.State(); len(st.Chat) != 0 {
		t.Errorf("idle state shows %d chat lines", len(st.Chat))
	}
	fake2 := newFakeClient("me")
	c.env.dial = fake2.dial
	b, err := c.store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	st = connect(t, c, b)
	for _, want := range []string{"hello all", "psst", "alice disconnected."} {
		if !chatHas(st, want) {
			t.Errorf("after Connect again the chat lacks %q: %+v", want, st.Chat)
		}
	}

	// Another server has its own chat.
	other, err := c.SaveBookmark(Bookmark{Address: "other.example", Port: 64738, Username: "me"})
	if err != nil {
		t.Fatal(err)
	}
	c.env.dial = newFakeClient("me").dial
	if st := connect(t, c, other); chatHas(st, "hello all") {
		t.Error("another server shows the first server's chat")
	}

	// Deleting the bookmark forgets its chat.
	if err := c.DeleteBookmark(id); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	_, kept := c.chats[id]
	c.mu.Unlock()
	if kept {
		t.Error("the chat of a deleted bookmark is still kept")
	}
}

// TestReconnectFlow: "retry now" ends the countdown at once, deleting the
// bookmark stops reconnecting to it, and turning automatic reconnection
// off applies to the current connection.
func TestReconnectFlow(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	set := c.Settings()
	set.Network.Reconnect = true
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	st := connectFake(t, c)
	id := st.Bookmark.ID

	fake2 := newFakeClient("me")
	c.env.dial = fake2.dial
	fake.drop(errors.New("fake: reset"))
	waitFor(t, c, "countdown", isPhase(PhaseReconnectWait))
	c.RetryNow()
	waitFor(t, c, "connected again at once", func(st State) bool { return st.Phase == PhaseConnected && st.Root != nil })

	fake3 := newFakeClient("me")
	c.env.dial = fake3.dial
	fake2.drop(errors.New("fake: reset"))
	waitFor(t, c, "countdown", isPhase(PhaseReconnectWait))
	if err := c.DeleteBookmark(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "reconnecting stopped", isPhase(PhaseDisconnected))

	// Reconnection turned off while connected: a drop is final.
	st = connectFake(t, c)
	set.Network.Reconnect = false
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	fake3.drop(errors.New("fake: reset"))
	if st := waitFor(t, c, "end", func(st State) bool {
		return st.Phase == PhaseDisconnected || st.Phase == PhaseReconnectWait
	}); st.Phase != PhaseDisconnected {
		t.Errorf("phase %v after a drop with reconnection turned off", st.Phase)
	}
}

// countingDial returns a dialFunc that hands out f and counts its calls.
func countingDial(f *fakeClient, n *atomic.Int32) dialFunc {
	return func(ctx context.Context, addr string, cfg *mumble.Config) (serverClient, error) {
		n.Add(1)
		return f.dial(ctx, addr, cfg)
	}
}

// TestReconnectSettingAppliesToTheConnection: automatic reconnection
// turned on while connected makes a later drop reconnect; turned off
// during the countdown it stops the countdown and no attempt follows;
// saving other settings does not undo the user's "stop reconnecting"; a
// deleted bookmark is not reconnected to even if reconnection is turned
// on again.
func TestReconnectSettingAppliesToTheConnection(t *testing.T) {
	fake := newFakeClient("me")
	c := newFakeController(t, fake)
	set := c.Settings()
	set.Network.Reconnect = false
	set.Network.ReconnectInitialSeconds = 60 // never elapses in the test: RetryNow does
	set.Network.ReconnectMaxSeconds = 120
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	st := connectFake(t, c)
	id := st.Bookmark.ID

	// Turned on while connected: the drop leads to a countdown.
	set.Network.Reconnect = true
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int32
	fake2 := newFakeClient("me")
	c.env.dial = countingDial(fake2, &dials)
	fake.drop(errors.New("fake: reset"))
	st = waitFor(t, c, "countdown after reconnection was turned on", func(st State) bool {
		return st.Phase == PhaseReconnectWait || st.Phase == PhaseDisconnected
	})
	if st.Phase != PhaseReconnectWait || st.ReconnectAttempt != 1 || st.ReconnectIn <= 30*time.Second {
		t.Fatalf("after the drop: phase %v, attempt %d, in %v; want the countdown to attempt 1 of about 60 s",
			st.Phase, st.ReconnectAttempt, st.ReconnectIn)
	}
	c.RetryNow()
	waitFor(t, c, "reconnected", func(st State) bool { return st.Phase == PhaseConnected && st.Root != nil })

	// Turned off during the countdown: it stops, no attempt is made.
	fake3 := newFakeClient("me")
	c.env.dial = countingDial(fake3, &dials)
	fake2.drop(errors.New("fake: reset"))
	waitFor(t, c, "countdown", isPhase(PhaseReconnectWait))
	set.Network.Reconnect = false
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, "countdown stopped", isPhase(PhaseDisconnected))
	if st.ReconnectIn != 0 || st.Problem.Message == "" {
		t.Errorf("after turning reconnection off: countdown %v, problem %+v", st.ReconnectIn, st.Problem)
	}
	c.RetryNow() // outside the countdown: nothing
	if n := dials.Load(); n != 1 {
		t.Errorf("%d dials, want 1 (the retry now)", n)
	}

	// The user's "stop reconnecting" holds when other settings are saved.
	c.env.dial = fake3.dial
	connect(t, c, mustBookmark(t, c, id))
	set.Network.Reconnect = true
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	c.StopReconnect()
	set.Input.QualityBitrate = 24000
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	fake3.drop(errors.New("fake: reset"))
	if st := waitFor(t, c, "end", func(st State) bool {
		return st.Phase == PhaseDisconnected || st.Phase == PhaseReconnectWait
	}); st.Phase != PhaseDisconnected {
		t.Errorf("phase %v after a drop with reconnecting stopped by the user", st.Phase)
	}

	// A deleted bookmark: reconnection turned off and on again does not
	// bring the reconnects back.
	fake4 := newFakeClient("me")
	c.env.dial = fake4.dial
	connect(t, c, mustBookmark(t, c, id))
	if err := c.DeleteBookmark(id); err != nil {
		t.Fatal(err)
	}
	set.Network.Reconnect = false
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	set.Network.Reconnect = true
	if err := c.SetSettings(set); err != nil {
		t.Fatal(err)
	}
	fake4.drop(errors.New("fake: reset"))
	if st := waitFor(t, c, "end", func(st State) bool {
		return st.Phase == PhaseDisconnected || st.Phase == PhaseReconnectWait
	}); st.Phase != PhaseDisconnected {
		t.Errorf("phase %v after a drop from a deleted bookmark", st.Phase)
	}
}
