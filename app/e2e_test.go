//go:build cgo

package app

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// newPushToTalkSpeaker returns a controller in push-to-talk mode whose
// microphone is 3 s of a voice-like test signal.
func newPushToTalkSpeaker(t *testing.T) *Controller {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.wav")
	writeVoiceLikeWAV(t, in, 3*time.Second)
	a := newTestController(t, ControllerConfig{AudioBackend: AudioFile, AudioInputFile: in})
	s := a.Settings()
	s.Input.Transmit = TransmitPushToTalk
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestControllerEncryptedRoom: alice and bob lock their channel, carol
// does not. Bob reads alice's encrypted chat and hears her (the sealed
// packets open); carol sees neither the text nor alice talking. Safety
// numbers agree. (The tone itself is checked by tumble-cli's TestE2ERoom.)
func TestControllerEncryptedRoom(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			srv := murmurtest.Start(t, murmurtest.Options{Version: v})
			a := newPushToTalkSpeaker(t)
			b := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
			c := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
			connect(t, a, addServerBookmark(t, a, srv.Addr, "alice", ""))
			connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))
			connect(t, c, addServerBookmark(t, c, srv.Addr, "carol", ""))
			if !a.State().Room.Available {
				t.Fatal("encrypted rooms unavailable on a real connection")
			}
			for _, x := range []*Controller{a, b} {
				if err := x.SetRoomEncrypted(true); err != nil {
					t.Fatal(err)
				}
			}
			keyed := func(st State) bool {
				return st.Room.On && len(st.Room.Members) == 1 && st.Room.Members[0].Keyed
			}
			// Each one's key reaches the other, acknowledged.
			delivered := func(st State) bool {
				return keyed(st) && st.Room.Members[0].Acked && st.Room.Waiting == 0 && st.Room.KeyStatus() == "keys delivered"
			}
			sa := waitFor(t, a, "bob's key, and alice's delivered", delivered)
			sbob := waitFor(t, b, "alice's key, and bob's delivered", delivered)
			if sa.Room.Members[0].SafetyNumber != sbob.Room.Members[0].SafetyNumber {
				t.Errorf("safety numbers differ: %q, %q", sa.Room.Members[0].SafetyNumber, sbob.Room.Members[0].SafetyNumber)
			}
			if !a.VerifyRoomMember(sa.Room.Members[0].Session) {
				t.Error("verify failed")
			}
			waitFor(t, a, "bob verified", func(st State) bool { return st.Room.Members[0].Trust == "verified" })

			const secret = "the key is under the mat"
			if err := a.SendChat(secret); err != nil {
				t.Fatal(err)
			}
			waitFor(t, b, "alice's encrypted line", func(st State) bool {
				for _, l := range st.Chat {
					if l.Text == secret && l.Encrypted && l.From == "alice" {
						return true
					}
				}
				return false
			})

			// A private message to a member goes encrypted and says so.
			const psst = "psst, only for bob"
			if err := a.SendPrivate(sa.Room.Members[0].Session, psst); err != nil {
				t.Fatal(err)
			}
			for _, l := range a.State().Chat {
				if l.Own && l.Text == psst && (!l.Private || !l.Encrypted || l.To != "bob") {
					t.Errorf("alice's own private line: %+v", l)
				}
			}
			waitFor(t, b, "alice's encrypted private line", func(st State) bool {
				for _, l := range st.Chat {
					if l.Text == psst && l.Encrypted && l.Private && l.From == "alice" {
						return true
					}
				}
				return false
			})

			a.PushToTalk(true)
			// Talking shows only for packets that decrypted.
			waitFor(t, b, "bob hears alice", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && u.Talking
			})
			if u, _ := userNamed(c.State().Root, "alice"); u == nil || u.Talking {
				t.Errorf("carol hears alice: %+v", u)
			}
			a.PushToTalk(false)
			waitFor(t, b, "alice no longer heard", func(st State) bool {
				u, _ := userNamed(st.Root, "alice")
				return u != nil && !u.Talking
			})
			// Carol saw nothing of it: a marker in clear reaches her after
			// everything alice sent before.
			if err := a.SetRoomEncrypted(false); err != nil {
				t.Fatal(err)
			}
			if err := a.SendChat("marker"); err != nil {
				t.Fatal(err)
			}
			st := waitFor(t, c, "the marker", func(st State) bool {
				for _, l := range st.Chat {
					if l.Text == "marker" {
						return true
					}
				}
				return false
			})
			for _, l := range st.Chat {
				if strings.Contains(l.Text, "mat") || strings.Contains(l.Text, "psst") || strings.Contains(l.Text, "TUMBLE") || l.Encrypted {
					t.Errorf("carol's chat has %+v", l)
				}
			}
		})
	}
}

// TestControllerRoomKeysSurviveRestart: the E2E identity and the known
// members' keys are saved with the bookmark. Alice and bob restarted from
// their configuration directories keep their identities (the same safety
// number) and alice still knows bob as verified; a "bob" with a fresh
// identity then raises KEY CHANGED. The keys file is 0600; an amnesic
// controller writes nothing.
func TestControllerRoomKeysSurviveRestart(t *testing.T) {
	vs := murmurtest.Versions()
	srv := murmurtest.Start(t, murmurtest.Options{Version: vs[len(vs)-1]})
	dirA, dirB := t.TempDir(), t.TempDir()
	start := func(dir, user string) *Controller {
		t.Helper()
		c := newTestController(t, ControllerConfig{AudioBackend: AudioNull, ConfigDir: dir})
		var b Bookmark
		if l := c.Bookmarks(); len(l) == 1 {
			b = l[0]
		} else {
			b = addServerBookmark(t, c, srv.Addr, user, "")
		}
		connect(t, c, b)
		if err := c.SetRoomEncrypted(true); err != nil {
			t.Fatal(err)
		}
		return c
	}
	bobKeyed := func(st State) bool {
		for _, m := range st.Room.Members {
			if m.Name == "bob" && m.Keyed {
				return true
			}
		}
		return false
	}
	a, b := start(dirA, "alice"), start(dirB, "bob")
	first := waitFor(t, a, "bob's key", bobKeyed).Room.Members[0]
	if !a.VerifyRoomMember(first.Session) {
		t.Fatal("verify failed")
	}
	waitFor(t, a, "bob verified", func(st State) bool { return st.Room.Members[0].Trust == "verified" })
	for _, dir := range []string{dirA, dirB} {
		fi, err := os.Stat(filepath.Join(dir, BookmarksFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", fi.Name(), fi.Mode())
		}
		if data, _ := os.ReadFile(filepath.Join(dir, BookmarksFile)); !strings.Contains(string(data), `"room_keys"`) {
			t.Errorf("no room keys saved in %s", dir)
		}
	}
	a.Close()
	b.Close()

	// Restarted: same identities, bob still verified.
	a, b = start(dirA, "alice"), start(dirB, "bob")
	again := waitFor(t, a, "bob's key after the restart", bobKeyed).Room.Members[0]
	if again.SafetyNumber != first.SafetyNumber {
		t.Errorf("safety number after the restart %q, before %q", again.SafetyNumber, first.SafetyNumber)
	}
	if again.Trust != "verified" || again.Changed {
		t.Errorf("bob after the restart: %+v", again)
	}
	b.Close()
	waitFor(t, a, "bob gone", func(st State) bool { u, _ := userNamed(st.Root, "bob"); return u == nil })

	// Another "bob" (a fresh identity): the warning.
	start(t.TempDir(), "bob")
	st := waitFor(t, a, "the new bob", bobKeyed)
	if m := st.Room.Members[0]; !m.Changed || m.Trust != "KEY CHANGED" || m.SafetyNumber == first.SafetyNumber {
		t.Errorf("new bob: %+v", m)
	}
	warned := false
	for _, l := range st.Chat {
		warned = warned || (l.System && strings.Contains(l.Text, "⚠"))
	}
	if !warned {
		t.Error("no warning in the chat")
	}

	// Amnesic: the keys stay in memory.
	dirM := t.TempDir()
	m := newTestController(t, ControllerConfig{AudioBackend: AudioNull, ConfigDir: dirM, Amnesic: true})
	connect(t, m, addServerBookmark(t, m, srv.Addr, "mallory", ""))
	if err := m.SetRoomEncrypted(true); err != nil {
		t.Fatal(err)
	}
	if bm := m.Bookmarks()[0]; bm.RoomKeys.Identity == nil {
		t.Error("amnesic bookmark has no room identity in memory")
	}
	if entries, _ := os.ReadDir(dirM); len(entries) != 0 {
		t.Errorf("amnesic controller wrote %v", entries)
	}
}

// TestControllerEncryptedRoomReconnect: alice locks her channel with bob;
// carol, in the same channel, does not. Alice's connection is cut (a
// proxy) and comes back by itself, and later she connects again to the
// same bookmark: each time she is back in the encrypted room without
// doing anything, her chat reaches bob encrypted, bob hears her, and
// carol never hears her nor reads a word of it. Turned off, the lock stays
// off.
func TestControllerEncryptedRoomReconnect(t *testing.T) {
	for _, v := range murmurtest.Versions() {
		t.Run(v.String(), func(t *testing.T) {
			srv := murmurtest.Start(t, murmurtest.Options{Version: v})
			proxy := newTCPProxy(t, srv.Addr)
			a := newPushToTalkSpeaker(t)
			reconnectSettings(t, a, 5)
			b := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
			c := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
			bm := addServerBookmark(t, a, proxy.ln.Addr().String(), "alice", "")
			connect(t, a, bm)
			connect(t, b, addServerBookmark(t, b, srv.Addr, "bob", ""))
			connect(t, c, addServerBookmark(t, c, srv.Addr, "carol", ""))

			// Carol's view, all along: alice never talks, never writes
			// (but for the final marker in clear).
			var mu sync.Mutex
			var heard []string
			watch, stop := c.Watch()
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				for range watch {
					st := c.State()
					mu.Lock()
					if u, _ := userNamed(st.Root, "alice"); u != nil && u.Talking {
						heard = append(heard, "alice talking")
					}
					for _, l := range st.Chat {
						if l.From == "alice" && l.Text != "marker" {
							heard = append(heard, l.Text)
						}
					}
					mu.Unlock()
				}
			}()
			defer func() { stop(); <-watched }()

			for _, x := range []*Controller{a, b} {
				if err := x.SetRoomEncrypted(true); err != nil {
					t.Fatal(err)
				}
			}
			keyed := func(st State) bool {
				return st.Phase == PhaseConnected && st.Room.On && len(st.Room.Members) == 1 && st.Room.Members[0].Keyed
			}
			waitFor(t, a, "bob's key", keyed)
			waitFor(t, b, "alice's key", keyed)

			back := func(what string) {
				t.Helper()
				// At once: voice, though the room may not be on yet.
				a.PushToTalk(true)
				waitFor(t, a, "the room again "+what, keyed)
				waitFor(t, b, "alice's new key "+what, keyed)
				text := "encrypted " + what
				if err := a.SendChat(text); err != nil {
					t.Fatal(err)
				}
				waitFor(t, b, "alice's line "+what, func(st State) bool {
					for _, l := range st.Chat {
						if l.Text == text && l.From == "alice" {
							if !l.Encrypted {
								t.Fatalf("bob got %+v in clear", l)
							}
							return true
						}
					}
					return false
				})
				waitFor(t, b, "bob hears alice "+what, func(st State) bool {
					u, _ := userNamed(st.Root, "alice")
					return u != nil && u.Talking
				})
				a.PushToTalk(false)
				waitFor(t, b, "alice no longer heard "+what, func(st State) bool {
					u, _ := userNamed(st.Root, "alice")
					return u != nil && !u.Talking
				})
			}

			proxy.cut()
			waitFor(t, a, "countdown", isPhase(PhaseReconnectWait))
			waitFor(t, a, "reconnected", func(st State) bool { return st.Phase == PhaseConnected && st.Root != nil })
			back("after the reconnect")

			connect(t, a, bm)
			back("after connecting again")

			if err := a.SetRoomEncrypted(false); err != nil {
				t.Fatal(err)
			}
			connect(t, a, bm)
			if st := a.State(); st.Room.On {
				t.Error("the room is on again after it was turned off")
			}
			if err := a.SendChat("marker"); err != nil {
				t.Fatal(err)
			}
			waitFor(t, c, "the marker", func(st State) bool {
				for _, l := range st.Chat {
					if l.Text == "marker" {
						return true
					}
				}
				return false
			})
			mu.Lock()
			defer mu.Unlock()
			if len(heard) > 0 {
				t.Errorf("carol heard or read alice: %q", heard)
			}
		})
	}
}
