package mumble

import "github.com/tumble-voip/tumble/mumble/mumbleproto"

// DefaultMaxBandwidth is the voice bandwidth limit (bit/s) servers use by
// default and that Tumble assumes until the server says otherwise.
const DefaultMaxBandwidth = 72000

// ServerInfo describes the server: its version and the settings it sent in
// ServerSync and ServerConfig.
type ServerInfo struct {
	// Version is the server's version; zero if it did not say.
	Version   Version
	Release   string
	OS        string
	OSVersion string

	// WelcomeText is the server's welcome message (HTML if allowed).
	WelcomeText string
	// MaxBandwidth is the voice bandwidth limit per user, in bit/s,
	// counting the official client's estimate of packet overhead (see
	// NetworkBandwidth).
	MaxBandwidth uint32
	// Permissions are this client's permissions in the root channel.
	Permissions Permission

	// AllowHTML says whether text messages, comments and descriptions may
	// contain HTML.
	AllowHTML bool
	// MessageLength is the longest text message the server accepts, in
	// UTF-16 code units; 0 means no limit.
	MessageLength uint32
	// ImageMessageLength is the longest text message with embedded images;
	// 0 means no limit.
	ImageMessageLength uint32
	// MaxUsers is the most users the server accepts at once; 0 if unknown.
	MaxUsers uint32
	// RecordingAllowed says whether users may record (1.4+ servers; true
	// when not said).
	RecordingAllowed bool
}

// ServerInfo returns what the server said about itself.
func (c *Client) ServerInfo() ServerInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.server
}

// Permissions returns this client's permissions in channel id, if the server
// sent them (servers send them for the root channel and in reply to
// permission queries).
func (c *Client) Permissions(id uint32) (Permission, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.st.perms[id]
	return p, ok
}

func (s *state) applyVersion(m *mumbleproto.Version) {
	switch {
	case m.VersionV2 != nil:
		s.server.Version = VersionFromV2(*m.VersionV2)
	case m.VersionV1 != nil:
		s.server.Version = VersionFromV1(*m.VersionV1)
	}
	if m.Release != nil {
		s.server.Release = *m.Release
	}
	if m.Os != nil {
		s.server.OS = *m.Os
	}
	if m.OsVersion != nil {
		s.server.OSVersion = *m.OsVersion
	}
}

func (s *state) applyServerConfig(m *mumbleproto.ServerConfig) {
	if m.MaxBandwidth != nil {
		s.server.MaxBandwidth = *m.MaxBandwidth
	}
	if m.WelcomeText != nil {
		s.server.WelcomeText = *m.WelcomeText
	}
	if m.AllowHtml != nil {
		s.server.AllowHTML = *m.AllowHtml
	}
	if m.MessageLength != nil {
		s.server.MessageLength = *m.MessageLength
	}
	if m.ImageMessageLength != nil {
		s.server.ImageMessageLength = *m.ImageMessageLength
	}
	if m.MaxUsers != nil {
		s.server.MaxUsers = *m.MaxUsers
	}
	if m.RecordingAllowed != nil {
		s.server.RecordingAllowed = *m.RecordingAllowed
	}
}
