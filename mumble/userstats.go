package mumble

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// UserStats are a user's connection statistics as the server reports them.
// Servers send the details (certificates, address, version) only to the
// user themselves and to administrators.
type UserStats struct {
	Session uint32
	// StatsOnly is set when the server sent only the changing counters.
	StatsOnly bool
	// Certificates is the user's certificate chain, DER encoded.
	Certificates [][]byte
	// FromClient counts the user's voice packets as the server received
	// them; FromServer as the user received the server's.
	FromClient, FromServer PacketStats
	UDPPackets, TCPPackets uint32
	// Ping averages (ms) and variances (ms²) the user's client reported.
	UDPPingAvg, UDPPingVar float32
	TCPPingAvg, TCPPingVar float32
	// Version, Release, OS and OSVersion describe the user's client, if
	// the server sent them.
	Version           Version
	Release           string
	OS, OSVersion     string
	Address           netip.Addr // the user's IP address, if sent
	Bandwidth         uint32     // the user's voice bandwidth, bytes/s
	Online, Idle      time.Duration
	StrongCertificate bool // the certificate is signed by a trusted CA
	Opus              bool // the client supports Opus
}

// PacketStats count voice packets (over UDP; zero for TCP-only clients).
type PacketStats struct {
	Good, Late, Lost, Resync uint32
}

func packetStats(s *mumbleproto.UserStats_Stats) PacketStats {
	return PacketStats{Good: s.GetGood(), Late: s.GetLate(), Lost: s.GetLost(), Resync: s.GetResync()}
}

func userStatsFromProto(m *mumbleproto.UserStats) *UserStats {
	st := &UserStats{
		Session:           m.GetSession(),
		StatsOnly:         m.GetStatsOnly(),
		Certificates:      m.Certificates,
		FromClient:        packetStats(m.FromClient),
		FromServer:        packetStats(m.FromServer),
		UDPPackets:        m.GetUdpPackets(),
		TCPPackets:        m.GetTcpPackets(),
		UDPPingAvg:        m.GetUdpPingAvg(),
		UDPPingVar:        m.GetUdpPingVar(),
		TCPPingAvg:        m.GetTcpPingAvg(),
		TCPPingVar:        m.GetTcpPingVar(),
		Bandwidth:         m.GetBandwidth(),
		Online:            time.Duration(m.GetOnlinesecs()) * time.Second,
		Idle:              time.Duration(m.GetIdlesecs()) * time.Second,
		StrongCertificate: m.GetStrongCertificate(),
		Opus:              m.GetOpus(),
	}
	if v := m.Version; v != nil {
		if v.VersionV2 != nil {
			st.Version = VersionFromV2(v.GetVersionV2())
		} else {
			st.Version = VersionFromV1(v.GetVersionV1())
		}
		st.Release, st.OS, st.OSVersion = v.GetRelease(), v.GetOs(), v.GetOsVersion()
	}
	if a, ok := netip.AddrFromSlice(m.Address); ok {
		st.Address = a.Unmap()
	}
	return st
}

// RequestUserStats asks the server for the statistics of the user with
// the given session and waits for the reply.
func (c *Client) RequestUserStats(ctx context.Context, session uint32) (*UserStats, error) {
	op := fmt.Sprintf("request stats of user %d", session)
	if _, ok := c.User(session); !ok {
		return nil, opError(op, fmt.Errorf("no user with session %d", session))
	}
	var stats *UserStats
	w := c.addWaiter(func(v any) (bool, error) {
		switch v := v.(type) {
		case *UserStats:
			if v.Session == session {
				stats = v
				return true, nil
			}
		case *UserLeftEvent:
			if v.User.Session == session {
				return true, fmt.Errorf("user %d left", session)
			}
		case *PermissionDeniedEvent:
			if v.Err.Session == session && v.Err.Type == DenyPermission {
				return true, v.Err
			}
		}
		return false, nil
	})
	if err := c.send(ctx, &mumbleproto.UserStats{Session: proto.Uint32(session)}); err != nil {
		c.removeWaiter(w)
		return nil, opError(op, err)
	}
	if err := c.wait(ctx, w); err != nil {
		return nil, opError(op, err)
	}
	return stats, nil
}
