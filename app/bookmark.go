package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
)

// Limits on what users type into a bookmark.
const (
	maxLabelLen    = 256
	maxUsernameLen = 512 // murmur's own limit on user names
	maxPasswordLen = 4096
	maxChannelLen  = 512
	maxChannelPath = 64
)

// Bookmark is one saved server: where it is, who to be there, and the
// secrets that keep this server apart from every other one (its own client
// certificate and its own Tor circuit).
//
// The zero value is not valid; use NewBookmark, or fill Address, Port and
// Username and let BookmarkStore.Add generate the rest.
type Bookmark struct {
	// ID identifies the bookmark in the store: 32 random hex digits.
	ID string `json:"id"`
	// Label is the name shown in the list; if empty the address is shown.
	Label string `json:"label,omitempty"`
	// Address is a v3 .onion name, a host name or an IP address, in
	// lower case, without port or brackets.
	Address string `json:"address"`
	// Port is the server's TCP port, 1-65535 (DefaultPort if unset).
	Port int `json:"port"`
	// Username is the name to log in with.
	Username string `json:"username"`
	// Password is the optional server password.
	Password string `json:"password,omitempty"`
	// ClientAuthKey is the optional onion service client authorization key
	// (saved as Tor's "<addr>:descriptor:x25519:<key>" line); set it from
	// what a user pastes with SetClientAuthKey. Only valid for the
	// bookmark's own .onion address.
	ClientAuthKey tor.ClientAuthKey `json:"client_auth_key,omitzero"`
	// Isolation is this bookmark's SOCKS credentials, so it gets its own
	// Tor circuit: Tor keeps streams with different credentials on
	// different circuits, so no two servers ever share one.
	Isolation tor.Isolation `json:"isolation"`
	// Identity is this bookmark's own client certificate.
	Identity Identity `json:"identity"`
	// PinnedFingerprint is the SHA-256 of the server certificate seen on
	// the first connection (saved as 64 lower-case hex digits), or zero
	// before that. A different certificate later is refused.
	PinnedFingerprint mumble.Fingerprint `json:"pinned_fingerprint,omitzero"`
	// Channel is the path of the channel to join after connecting, below
	// the root channel (e.g. ["Lab", "Quiet"]); empty stays in the channel
	// the server puts you in.
	Channel []string `json:"channel,omitempty"`
	// RoomKeys are this bookmark's encrypted-room identity and the
	// members' keys seen here (trust on first use), kept from the first
	// time encryption is used on it.
	RoomKeys RoomKeys `json:"room_keys,omitzero"`
}

// NewBookmark returns a bookmark for address, port (0 means DefaultPort) and
// username with a fresh ID, isolation credentials and identity. Other
// fields can be set afterwards; call Validate before use.
func NewBookmark(address string, port int, username string) (Bookmark, error) {
	b := Bookmark{Address: address, Port: port, Username: username}
	b.Normalize()
	if err := b.generateMissing(); err != nil {
		return Bookmark{}, err
	}
	if err := b.Validate(); err != nil {
		return Bookmark{}, fmt.Errorf("app: new bookmark: %w", err)
	}
	return b, nil
}

// Normalize tidies what a user typed: trims spaces around the label, address,
// and user name, lowers the address (see NormalizeAddress) and sets a zero
// Port to DefaultPort.
func (b *Bookmark) Normalize() {
	b.Label = strings.TrimSpace(b.Label)
	b.Address = NormalizeAddress(b.Address)
	b.Username = strings.TrimSpace(b.Username)
	if b.Port == 0 {
		b.Port = DefaultPort
	}
	if len(b.Channel) == 0 {
		b.Channel = nil
	}
}

// Validate checks every field and returns all problems found, each as a
// *FieldError (see FieldErrors).
func (b Bookmark) Validate() error {
	var errs fieldErrs
	if len(b.ID) != 32 || !isLowerHex(b.ID) {
		errs.addf("id", "must be 32 lower-case hex digits")
	}
	b.validateServerFields(&errs, true)
	if b.Isolation.IsZero() {
		errs.add("isolation", errNoIsolation)
	}
	if _, err := b.Identity.TLSCertificate(); err != nil {
		errs.add("identity", err)
	}
	errs.add("room_keys", b.RoomKeys.validate())
	return errs.join()
}

// validateServerFields checks the fields a mumble:// link can carry: label,
// address, port, user name, password, client authorization key, channel.
func (b Bookmark) validateServerFields(errs *fieldErrs, requireUsername bool) {
	errs.add("label", checkText(b.Label, maxLabelLen))
	kind, addrErr := ValidateAddress(b.Address)
	errs.add("address", addrErr)
	if addrErr == nil && b.Address != NormalizeAddress(b.Address) {
		errs.addf("address", "must be in lower case without brackets or trailing dot (%q)", NormalizeAddress(b.Address))
	}
	if b.Port < 1 || b.Port > 65535 {
		errs.addf("port", "%d is outside 1-65535", b.Port)
	}
	switch {
	case b.Username == "":
		if requireUsername {
			errs.addf("username", "is empty")
		}
	case b.Username != strings.TrimSpace(b.Username):
		errs.addf("username", "has spaces at the start or end, which servers refuse")
	default:
		errs.add("username", checkText(b.Username, maxUsernameLen))
	}
	errs.add("password", checkText(b.Password, maxPasswordLen))
	if !b.ClientAuthKey.IsZero() && addrErr == nil {
		if kind != AddressOnion {
			errs.addf("client_auth_key", "only applies to .onion addresses")
		} else if !clientAuthFor(b.ClientAuthKey, b.Address) {
			errs.addf("client_auth_key", "is for a different onion address than this bookmark")
		}
	}
	if len(b.Channel) > maxChannelPath {
		errs.addf("channel", "is %d levels deep, the limit is %d", len(b.Channel), maxChannelPath)
	}
	for i, c := range b.Channel {
		if c == "" {
			errs.addf("channel", "level %d is empty", i+1)
			continue
		}
		if err := checkText(c, maxChannelLen); err != nil {
			errs.add("channel", fmt.Errorf("level %d %w", i+1, err))
		}
	}
}

// Name returns the label, or the address if there is no label.
func (b Bookmark) Name() string {
	if b.Label != "" {
		return b.Label
	}
	return b.Address
}

// HostPort returns "address:port", with brackets around an IPv6 address.
func (b Bookmark) HostPort() string {
	return net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
}

// IsOnion reports whether the bookmark points at an onion service.
func (b Bookmark) IsOnion() bool { return tor.IsOnion(b.Address) }

// NewCircuit replaces the isolation credentials with fresh random ones, so
// that Tor builds a new circuit for the next connection to this server.
func (b *Bookmark) NewCircuit() error {
	b.Isolation = tor.NewIsolation()
	return nil
}

// NewIdentity replaces the client certificate with a freshly generated one.
// The server will see a new user: a registration tied to the old
// certificate no longer applies.
func (b *Bookmark) NewIdentity() error {
	id, err := NewIdentity()
	if err != nil {
		return err
	}
	b.Identity = id
	return nil
}

// Clone returns a deep copy.
func (b Bookmark) Clone() Bookmark {
	if b.Channel != nil {
		b.Channel = append([]string(nil), b.Channel...)
	}
	if b.RoomKeys.Identity != nil {
		b.RoomKeys.Identity = append([]byte(nil), b.RoomKeys.Identity...)
	}
	return b
}

// generateMissing fills in an empty ID, isolation credentials and identity.
func (b *Bookmark) generateMissing() error {
	if b.ID == "" {
		id, err := newBookmarkID()
		if err != nil {
			return err
		}
		b.ID = id
	}
	if b.Isolation.IsZero() {
		if err := b.NewCircuit(); err != nil {
			return err
		}
	}
	if b.Identity.IsZero() {
		if err := b.NewIdentity(); err != nil {
			return err
		}
	}
	return nil
}

func newBookmarkID() (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("app: generate bookmark id: %w", err)
	}
	return hex.EncodeToString(id[:]), nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

var errNoIsolation = errors.New("no SOCKS isolation credentials")

// ErrBookmarkNotFound is returned by BookmarkStore methods given an unknown
// ID.
var ErrBookmarkNotFound = errors.New("bookmark not found")
