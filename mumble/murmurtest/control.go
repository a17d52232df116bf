package murmurtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file holds the small part of the Mumble control protocol murmurtest
// needs to set a server up (log in as SuperUser, create channels) and that its
// own tests use to check a server's configuration. It is deliberately
// independent of package mumble, which is what the servers started here test.

// Control message types (Mumble.proto, in wire order).
const (
	msgVersion          = 0
	msgAuthenticate     = 2
	msgReject           = 4
	msgServerSync       = 5
	msgChannelState     = 7
	msgUserState        = 9
	msgPermissionDenied = 12
)

// maxControlMessage bounds a control message read from a server.
const maxControlMessage = 8 << 20

// controlConn is a Mumble control (TLS) connection.
type controlConn struct {
	conn *tls.Conn
	r    *bufio.Reader
	stop func() bool // stops the context watcher

	serverVersion uint64 // the server's Version, as major<<48|minor<<32|patch<<16
	channels      map[uint32]channelInfo
}

type channelInfo struct {
	parent uint32
	name   string
}

// serverSync is the part of ServerSync the tests look at.
type serverSync struct {
	session      uint32
	maxBandwidth uint32
	welcomeText  string
}

// rejectError is a server's Reject message.
type rejectError struct {
	typ    uint64 // Reject.RejectType: 4 = WrongServerPW, 6 = ServerFull, ...
	reason string
}

func (e *rejectError) Error() string {
	return fmt.Sprintf("rejected (type %d): %s", e.typ, e.reason)
}

// dialControl opens a TLS connection to addr (a loopback address) without
// verifying the server's self-signed certificate. The connection is closed
// when ctx is done.
func dialControl(ctx context.Context, addr string) (*controlConn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("dial %s: murmurtest only connects to loopback addresses", addr)
	}
	d := tls.Dialer{Config: &tls.Config{
		InsecureSkipVerify: true, // self-signed test server; callers check the fingerprint
		MinVersion:         tls.VersionTLS12,
	}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tc := c.(*tls.Conn)
	cc := &controlConn{
		conn:     tc,
		r:        bufio.NewReader(tc),
		channels: make(map[uint32]channelInfo),
	}
	cc.stop = context.AfterFunc(ctx, func() { tc.Close() })
	return cc, nil
}

func (c *controlConn) Close() error {
	c.stop()
	return c.conn.Close()
}

func (c *controlConn) send(typ uint16, payload []byte) error {
	buf := make([]byte, 6, 6+len(payload))
	binary.BigEndian.PutUint16(buf, typ)
	binary.BigEndian.PutUint32(buf[2:], uint32(len(payload)))
	_, err := c.conn.Write(append(buf, payload...))
	return err
}

func (c *controlConn) recv() (typ uint16, payload []byte, err error) {
	var hdr [6]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	typ = binary.BigEndian.Uint16(hdr[:])
	n := binary.BigEndian.Uint32(hdr[2:])
	if n > maxControlMessage {
		return 0, nil, fmt.Errorf("control message type %d: length %d exceeds %d", typ, n, maxControlMessage)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.r, payload); err != nil {
		return 0, nil, fmt.Errorf("control message type %d: %w", typ, err)
	}
	return typ, payload, nil
}

// authenticate sends Version and Authenticate and reads the server's state
// until ServerSync. It returns a *rejectError if the server refuses.
func (c *controlConn) authenticate(user, password string) (*serverSync, error) {
	var v []byte
	v = protowire.AppendTag(v, 1, protowire.VarintType) // version_v1: 1.3.0
	v = protowire.AppendVarint(v, 1<<16|3<<8)
	v = protowire.AppendTag(v, 5, protowire.VarintType) // version_v2: 1.3.0
	v = protowire.AppendVarint(v, 1<<48|3<<32)
	v = protowire.AppendTag(v, 2, protowire.BytesType) // release
	v = protowire.AppendString(v, "murmurtest")
	if err := c.send(msgVersion, v); err != nil {
		return nil, fmt.Errorf("send Version: %w", err)
	}
	var a []byte
	a = protowire.AppendTag(a, 1, protowire.BytesType)
	a = protowire.AppendString(a, user)
	if password != "" {
		a = protowire.AppendTag(a, 2, protowire.BytesType)
		a = protowire.AppendString(a, password)
	}
	a = protowire.AppendTag(a, 5, protowire.VarintType) // opus
	a = protowire.AppendVarint(a, 1)
	if err := c.send(msgAuthenticate, a); err != nil {
		return nil, fmt.Errorf("send Authenticate: %w", err)
	}
	for {
		typ, p, err := c.recv()
		if err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
		switch typ {
		case msgVersion:
			c.serverVersion = parseVersion(p)
		case msgChannelState:
			c.noteChannel(p)
		case msgReject:
			var e rejectError
			eachField(p, func(num protowire.Number, v uint64, b []byte) {
				switch num {
				case 1:
					e.typ = v
				case 2:
					e.reason = string(b)
				}
			})
			return nil, &e
		case msgServerSync:
			var s serverSync
			eachField(p, func(num protowire.Number, v uint64, b []byte) {
				switch num {
				case 1:
					s.session = uint32(v)
				case 2:
					s.maxBandwidth = uint32(v)
				case 3:
					s.welcomeText = string(b)
				}
			})
			return &s, nil
		}
	}
}

// parseVersion returns a Version message's version as major<<48|minor<<32|
// patch<<16, from version_v2 if present, else from version_v1.
func parseVersion(p []byte) uint64 {
	var v1, v2 uint64
	eachField(p, func(num protowire.Number, v uint64, _ []byte) {
		switch num {
		case 1:
			v1 = v
		case 5:
			v2 = v
		}
	})
	if v2 != 0 {
		return v2
	}
	return (v1>>16&0xFFFF)<<48 | (v1>>8&0xFF)<<32 | (v1&0xFF)<<16
}

// noteChannel records a ChannelState message (full or partial) and returns
// the channel it describes.
func (c *controlConn) noteChannel(p []byte) (id uint32, ch channelInfo) {
	var hasParent, hasName bool
	var parent uint32
	var name string
	eachField(p, func(num protowire.Number, v uint64, b []byte) {
		switch num {
		case 1:
			id = uint32(v)
		case 2:
			parent, hasParent = uint32(v), true
		case 3:
			name, hasName = string(b), true
		}
	})
	ch = c.channels[id]
	if hasParent {
		ch.parent = parent
	}
	if hasName {
		ch.name = name
	}
	c.channels[id] = ch
	return id, ch
}

// child returns the id of the channel called name under parent.
func (c *controlConn) child(parent uint32, name string) (uint32, bool) {
	for id, ch := range c.channels {
		if id != 0 && ch.parent == parent && ch.name == name {
			return id, true
		}
	}
	return 0, false
}

// createChannel creates a permanent channel called name under parent and
// returns its id.
func (c *controlConn) createChannel(parent uint32, name string) (uint32, error) {
	var m []byte
	m = protowire.AppendTag(m, 2, protowire.VarintType)
	m = protowire.AppendVarint(m, uint64(parent))
	m = protowire.AppendTag(m, 3, protowire.BytesType)
	m = protowire.AppendString(m, name)
	m = protowire.AppendTag(m, 8, protowire.VarintType) // temporary: false
	m = protowire.AppendVarint(m, 0)
	m = protowire.AppendTag(m, 9, protowire.VarintType) // position
	m = protowire.AppendVarint(m, 0)
	if err := c.send(msgChannelState, m); err != nil {
		return 0, fmt.Errorf("create channel %q: %w", name, err)
	}
	for {
		typ, p, err := c.recv()
		if err != nil {
			return 0, fmt.Errorf("create channel %q: %w", name, err)
		}
		switch typ {
		case msgChannelState:
			id, ch := c.noteChannel(p)
			if id != 0 && ch.parent == parent && ch.name == name {
				return id, nil
			}
		case msgPermissionDenied:
			var reason string
			var denyType uint64
			eachField(p, func(num protowire.Number, v uint64, b []byte) {
				switch num {
				case 4:
					reason = string(b)
				case 5:
					denyType = v
				}
			})
			return 0, fmt.Errorf("create channel %q: permission denied (type %d) %s", name, denyType, reason)
		}
	}
}

// createChannels logs in to addr as SuperUser and creates each channel path
// ("A/B" is channel B inside channel A, below the root channel), reusing
// channels that exist. It returns the id of every path and of every parent
// path it implies.
func createChannels(ctx context.Context, addr, superUserPassword string, paths []string) (map[string]uint32, error) {
	c, err := dialControl(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.authenticate("SuperUser", superUserPassword); err != nil {
		return nil, fmt.Errorf("log in as SuperUser: %w", err)
	}
	ids := make(map[string]uint32)
	for _, path := range paths {
		parent := uint32(0)
		names := strings.Split(path, "/")
		for i, name := range names {
			prefix := strings.Join(names[:i+1], "/")
			id, ok := c.child(parent, name)
			if !ok {
				if id, err = c.createChannel(parent, name); err != nil {
					if ctx.Err() != nil {
						err = errors.Join(err, ctx.Err())
					}
					return nil, err
				}
			}
			ids[prefix] = id
			parent = id
		}
	}
	return ids, nil
}

// checkChannelPaths rejects channel paths with empty names.
func checkChannelPaths(paths []string) error {
	for _, p := range paths {
		for _, name := range strings.Split(p, "/") {
			if strings.TrimSpace(name) == "" {
				return fmt.Errorf("murmurtest: invalid channel path %q in Options.Channels", p)
			}
		}
	}
	return nil
}

// eachField calls fn for every field of the protobuf message p: v holds a
// varint or fixed-size value, b a length-delimited one. Malformed input ends
// the walk; fields with unexpected wire types are passed with zero values.
func eachField(p []byte, fn func(num protowire.Number, v uint64, b []byte)) {
	for len(p) > 0 {
		num, typ, n := protowire.ConsumeTag(p)
		if n < 0 {
			return
		}
		p = p[n:]
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(p)
			if m < 0 {
				return
			}
			fn(num, v, nil)
			n = m
		case protowire.Fixed32Type:
			v, m := protowire.ConsumeFixed32(p)
			if m < 0 {
				return
			}
			fn(num, uint64(v), nil)
			n = m
		case protowire.Fixed64Type:
			v, m := protowire.ConsumeFixed64(p)
			if m < 0 {
				return
			}
			fn(num, v, nil)
			n = m
		case protowire.BytesType:
			b, m := protowire.ConsumeBytes(p)
			if m < 0 {
				return
			}
			fn(num, 0, b)
			n = m
		default:
			n = protowire.ConsumeFieldValue(num, typ, p)
			if n < 0 {
				return
			}
		}
		p = p[n:]
	}
}
