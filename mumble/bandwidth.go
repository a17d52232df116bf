package mumble

// Opus bit rate bounds (bit/s).
const (
	MinOpusBitrate = 6000
	MaxOpusBitrate = 510000
)

// tcpPacketOverhead is the per-packet overhead in bytes the official client
// budgets over TCP (src/mumble/AudioInput.cpp, getNetworkBandwidth): IP 20,
// UDP 8, encryption 4, type 1, sequence 2, and 12 more for TCP. Each 10 ms
// frame adds one byte, positional audio 12.
const tcpPacketOverhead = 20 + 8 + 4 + 1 + 2 + 12

// NetworkBandwidth returns the bandwidth in bit/s the official Mumble client
// budgets for sending Opus at bitrate bit/s in packets of frames 10 ms
// frames over TCP:
//
//	bitrate + (47 + frames [+ 12 with positional audio]) * (800 / frames)
//
// (integer division, as upstream). Servers count less per packet (IP, UDP
// and encryption headers plus the packet), so staying within
// ServerInfo.MaxBandwidth by this measure means no packet is dropped for
// bandwidth, provided the encoder keeps to its bit rate (constant bit rate).
// It returns 0 if frames is not positive.
func NetworkBandwidth(bitrate, frames int, positional bool) int {
	if frames <= 0 {
		return 0
	}
	overhead := tcpPacketOverhead + frames
	if positional {
		overhead += 12
	}
	return bitrate + overhead*(800/frames)
}

// MaxBitrate returns the highest Opus bit rate whose NetworkBandwidth with
// frames frames per packet fits maxBandwidth, capped at MaxOpusBitrate.
// maxBandwidth 0 means no limit. The result may be below MinOpusBitrate, or
// 0, when the limit is too low for that packet size; more frames per packet
// cost less overhead.
func MaxBitrate(maxBandwidth, frames int, positional bool) int {
	if frames <= 0 {
		return 0
	}
	if maxBandwidth <= 0 {
		return MaxOpusBitrate
	}
	return max(0, min(MaxOpusBitrate, maxBandwidth-NetworkBandwidth(0, frames, positional)))
}

// AdjustBitrate returns requested lowered, if need be, to MaxBitrate.
func AdjustBitrate(requested, maxBandwidth, frames int, positional bool) int {
	return min(requested, MaxBitrate(maxBandwidth, frames, positional))
}

// MaxBitrate returns the highest Opus bit rate that fits the server's
// bandwidth limit (see the function MaxBitrate).
func (c *Client) MaxBitrate(frames int, positional bool) int {
	c.mu.Lock()
	maxBW := int(c.st.server.MaxBandwidth)
	c.mu.Unlock()
	return MaxBitrate(maxBW, frames, positional)
}

// AdjustBitrate returns requested lowered, if need be, to the highest Opus
// bit rate that fits the server's bandwidth limit.
func (c *Client) AdjustBitrate(requested, frames int, positional bool) int {
	return min(requested, c.MaxBitrate(frames, positional))
}
