package main

import (
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/e2e"
)

// eventPrinter turns the connection's events and the receive path's talking
// events into printed events, and reports voice packets the receive path
// refused (the connection hands voice to it directly: session.onVoice).
type eventPrinter struct {
	c         *mumble.Client
	ev        *eventWriter
	rec       *recorder
	sub       *mumble.Subscription
	voiceErrs <-chan voiceError
	quit      chan struct{}
	e2e       *cliE2E // nil without --e2e
}

func newEventPrinter(c *mumble.Client, ev *eventWriter, rec *recorder, voiceErrs <-chan voiceError, x *cliE2E) *eventPrinter {
	return &eventPrinter{c: c, ev: ev, rec: rec, sub: c.Subscribe(), voiceErrs: voiceErrs, quit: make(chan struct{}), e2e: x}
}

// run prints until stop is called or the connection ends.
func (p *eventPrinter) run() {
	talk := p.rec.rx.Events()
	for {
		select {
		case <-p.quit:
			return
		case e, ok := <-p.sub.C:
			if !ok {
				return
			}
			p.print(e)
		case t, ok := <-talk:
			if !ok {
				// The receive path was closed: no more talk events.
				talk = nil
				continue
			}
			kind := "voice-end"
			if t.Talking {
				kind = "voice-start"
			}
			p.ev.emit(kind, field{"session", t.Speaker}, field{"name", userName(p.c, t.Speaker)})
		case e := <-p.voiceErrs:
			p.ev.emit("voice-error", field{"session", e.session}, field{"error", e.err.Error()})
		}
	}
}

func (p *eventPrinter) print(e mumble.Event) {
	if p.e2e != nil && p.e2e.handle(p, e) {
		return
	}
	if from, _, signal := e2e.Signal(e); signal {
		// Signalling goes to members only; never shown as text.
		p.ev.emit("e2e-signal-ignored", field{"session", from})
		return
	}
	switch e := e.(type) {
	case *mumble.ChannelAddedEvent:
		p.ev.emit("channel", field{"action", "added"}, field{"id", e.Channel.ID}, field{"name", e.Channel.Name}, field{"parent", e.Channel.Parent})
	case *mumble.ChannelChangedEvent:
		p.ev.emit("channel", field{"action", "changed"}, field{"id", e.Channel.ID}, field{"name", e.Channel.Name}, field{"parent", e.Channel.Parent})
	case *mumble.ChannelRemovedEvent:
		p.ev.emit("channel", field{"action", "removed"}, field{"id", e.Channel.ID}, field{"name", e.Channel.Name})
	case *mumble.UserJoinedEvent:
		p.ev.emit("user", field{"action", "joined"}, field{"session", e.User.Session}, field{"name", e.User.Name}, field{"channel", e.User.ChannelID})
	case *mumble.UserChangedEvent:
		p.ev.emit("user", field{"action", "changed"}, field{"session", e.User.Session}, field{"name", e.User.Name}, field{"channel", e.User.ChannelID},
			field{"mute", e.User.Mute || e.User.SelfMute}, field{"deaf", e.User.Deaf || e.User.SelfDeaf})
	case *mumble.UserLeftEvent:
		p.ev.emit("user", field{"action", "left"}, field{"session", e.User.Session}, field{"name", e.User.Name}, field{"reason", e.Reason})
	case *mumble.TextMessageEvent:
		msg := app.ParseChatHTML(e.Message)
		links := make([]string, 0, len(msg.Links))
		for _, l := range msg.Links {
			links = append(links, l.URL)
		}
		fields := []field{{"from", e.SenderName}, {"session", e.Sender}, {"message", msg.Text}, {"links", links}}
		if p.e2e != nil {
			fields = append(fields, field{"encrypted", false}, field{"private", len(e.Users) > 0 && len(e.Channels) == 0 && len(e.Trees) == 0})
		}
		p.ev.emit("text", fields...)
	case *mumble.PermissionDeniedEvent:
		p.ev.emit("permission-denied", field{"error", e.Err.Error()})
	}
}

// stop ends run.
func (p *eventPrinter) stop() {
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	p.sub.Close()
}

// voiceStats prints each speaker's receive-path account: packets taken
// and refused (malformed, or too far ahead), frames played,
// concealed and lost late, the delay the jitter buffer added, and how the
// speaker numbers its packets (frames per sequence step: 1 when it counts
// 10 ms frames, the packet length when it counts packets).
func (p *eventPrinter) voiceStats() {
	for _, st := range p.rec.rx.Speakers() {
		j := st.Jitter
		p.ev.emit("voice-stats",
			field{"session", st.Speaker}, field{"name", userName(p.c, st.Speaker)},
			field{"packets", j.Packets}, field{"rejected", j.Rejected},
			field{"played", j.Played}, field{"concealed", j.Concealed}, field{"late", j.Late}, field{"dropped", j.Dropped},
			field{"dropped_quiet", j.DroppedQuiet}, field{"late_loss_pct", j.LossPct()}, field{"speech_loss_pct", j.SpeechLossPct()},
			field{"added_delay_ms", float64(j.Added.Mean()) / float64(time.Millisecond)},
			field{"frames_per_seq", j.FramesPerSeq})
	}
}
