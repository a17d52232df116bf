package mumble

import (
	"errors"
	"fmt"
)

// Limits bound what a Client accepts from a server, so that a hostile
// server cannot exhaust the client's memory or CPU. The defaults are far
// above what real servers reach (Murmur's own defaults: 1000 channels,
// nesting 10, 100 users, 5000-character messages, 128 KiB images); a server
// going over one is disconnected with an error wrapping ErrServerTooMuch.
// A zero field means its default.
type Limits struct {
	// MaxChannels bounds the number of channels (DefaultMaxChannels).
	MaxChannels int
	// MaxUsers bounds the number of connected users (DefaultMaxUsers).
	MaxUsers int
	// MaxDepth bounds the nesting of channels below the root
	// (DefaultMaxDepth): code walking the tree may recurse that deep.
	MaxDepth int
	// MaxLinks bounds the links of one channel (DefaultMaxLinks).
	MaxLinks int
	// MaxTextureSize bounds one user's avatar, in bytes
	// (DefaultMaxTextureSize).
	MaxTextureSize int
	// MaxTextSize bounds one comment, channel description, name or
	// certificate hash, in bytes (DefaultMaxTextSize).
	MaxTextSize int
	// MaxStoredBytes bounds the sum of all avatars, comments and
	// descriptions held (DefaultMaxStoredBytes).
	MaxStoredBytes int
	// MaxQueuedEvents bounds the events waiting in one Subscription
	// (DefaultMaxQueuedEvents). Voice subscriptions hold at most
	// DefaultMaxQueuedVoice packets and drop the oldest beyond that, as
	// a late voice packet is worth nothing.
	MaxQueuedEvents int
}

// Defaults for Limits fields left zero.
const (
	DefaultMaxChannels     = 1 << 16
	DefaultMaxUsers        = 1 << 16
	DefaultMaxDepth        = 256
	DefaultMaxLinks        = 1024
	DefaultMaxTextureSize  = 1 << 20
	DefaultMaxTextSize     = 1 << 20
	DefaultMaxStoredBytes  = 256 << 20
	DefaultMaxQueuedEvents = 1 << 15
	DefaultMaxQueuedVoice  = 1 << 10
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxChannels, DefaultMaxChannels)
	def(&l.MaxUsers, DefaultMaxUsers)
	def(&l.MaxDepth, DefaultMaxDepth)
	def(&l.MaxLinks, DefaultMaxLinks)
	def(&l.MaxTextureSize, DefaultMaxTextureSize)
	def(&l.MaxTextSize, DefaultMaxTextSize)
	def(&l.MaxStoredBytes, DefaultMaxStoredBytes)
	def(&l.MaxQueuedEvents, DefaultMaxQueuedEvents)
	return l
}

// ErrServerTooMuch is matched (errors.Is) by every *LimitError: the server
// sent more than the client's Limits allow.
var ErrServerTooMuch = errors.New("mumble: server sent too much")

// A LimitError is why a Client disconnected from a server that went over
// one of its Limits.
type LimitError struct {
	What  string // for example "channels"
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("mumble: server sent too much: more than %d %s", e.Limit, e.What)
}

// Is makes errors.Is(err, ErrServerTooMuch) true.
func (e *LimitError) Is(target error) bool { return target == ErrServerTooMuch }
