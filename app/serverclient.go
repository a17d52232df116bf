package app

import (
	"context"

	"github.com/tumble-voip/tumble/mumble"
)

// serverClient is what a connection needs from a Mumble client. The real
// one is a *mumble.Client (through mumbleClient); tests of the session's
// logic use a fake. Received voice goes to the mumble.Config.OnVoice the
// dial was given.
type serverClient interface {
	// Events delivers the client's events in order, starting with a
	// ConnectedEvent; the channel closes after the DisconnectedEvent.
	// stop ends the delivery.
	Events() (events <-chan mumble.Event, stop func())

	Session() uint32
	Self() mumble.User
	User(session uint32) (mumble.User, bool)
	Users() []mumble.User
	Channels() []mumble.Channel
	Children(id uint32) []mumble.Channel
	ServerInfo() mumble.ServerInfo
	MaxBitrate(frames int, positional bool) int
	Fingerprint() mumble.Fingerprint
	TLSVersion() uint16
	CertificateExposed() bool
	Err() error

	Join(ctx context.Context, id uint32) error
	SendText(ctx context.Context, m mumble.TextMessage) error
	SetSelfMute(ctx context.Context, mute bool) error
	SetSelfDeaf(ctx context.Context, deaf bool) error
	Register(ctx context.Context) error
	RequestChannelDescriptions(ctx context.Context, ids ...uint32) error
	SendVoice(ctx context.Context, v mumble.OutgoingVoice) error
	Close() error
}

// dialFunc connects to a Mumble server: mumble.Dial, or a fake in tests.
type dialFunc func(ctx context.Context, addr string, cfg *mumble.Config) (serverClient, error)

// dialMumble is the real dialFunc.
func dialMumble(ctx context.Context, addr string, cfg *mumble.Config) (serverClient, error) {
	c, err := mumble.Dial(ctx, addr, cfg)
	if err != nil {
		return nil, err
	}
	return mumbleClient{c}, nil
}

// mumbleClient adapts a *mumble.Client to serverClient.
type mumbleClient struct{ *mumble.Client }

func (m mumbleClient) Events() (<-chan mumble.Event, func()) {
	s := m.Subscribe()
	return s.C, s.Close
}
