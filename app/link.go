package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/tumble-voip/tumble/mumble"
)

// maxLinkLen bounds the mumble:// links ParseLink accepts.
const maxLinkLen = 8192

// linkProtocolVersion is the version query parameter Mumble puts in the links
// it exports; older clients need it to accept the link.
const linkProtocolVersion = "1.2.0"

// ParseLink reads a Mumble server link:
//
//	mumble://[user[:password]@]host[:port][/channel/sub][?title=Label&version=1.2.0]
//
// Parts may be percent-encoded; an IPv6 host is written in brackets; the
// port defaults to 64738. The path names a channel below the root channel.
// The "title" query parameter becomes the label. Two Tumble-specific
// parameters, which other clients ignore, make an invitation complete:
// "pin" is the SHA-256 fingerprint of the server's certificate (64 hex
// digits; the first connection is then pinned to it) and "auth" the onion
// service client authorization key (see ParseClientAuthKey). "version" and
// any other parameter are ignored.
//
// The result has the server fields (label, address, port, user name,
// password, channel) normalized and checked, but no ID, isolation
// credentials or identity yet: BookmarkStore.Add generates those. The user
// name may be empty, which Add refuses, so a UI asks for one first.
func ParseLink(s string) (Bookmark, error) {
	if len(s) > maxLinkLen {
		return Bookmark{}, fmt.Errorf("app: parse link: %d bytes is longer than %d", len(s), maxLinkLen)
	}
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Bookmark{}, fmt.Errorf("app: parse link: %w", err)
	}
	if u.Scheme != "mumble" {
		if u.Scheme == "" {
			return Bookmark{}, errors.New("app: parse link: not a link (it must start with mumble://)")
		}
		return Bookmark{}, fmt.Errorf("app: parse link: the scheme is %q, not mumble://", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return Bookmark{}, errors.New("app: parse link: no server address after mumble://")
	}
	b := Bookmark{Address: u.Hostname()}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Bookmark{}, fmt.Errorf("app: parse link: port %q is outside 1-65535", p)
		}
		b.Port = n
	}
	if u.User != nil {
		b.Username = u.User.Username()
		b.Password, _ = u.User.Password()
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if seg == "" {
			continue
		}
		name, err := url.PathUnescape(seg)
		if err != nil {
			return Bookmark{}, fmt.Errorf("app: parse link: channel %q: %w", seg, err)
		}
		b.Channel = append(b.Channel, name)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Bookmark{}, fmt.Errorf("app: parse link: query: %w", err)
	}
	b.Label = q.Get("title")
	pin, auth := q.Get("pin"), q.Get("auth")
	b.Normalize()
	var errs fieldErrs
	b.validateServerFields(&errs, false)
	if pin != "" {
		fp, err := mumble.ParseFingerprint(pin)
		errs.add("pinned_fingerprint", err)
		b.PinnedFingerprint = fp
	}
	if auth != "" {
		if err := b.SetClientAuthKey(auth); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errs.join(); err != nil {
		return Bookmark{}, fmt.Errorf("app: parse link: %w", err)
	}
	return b, nil
}

// LinkOptions says what FormatLink puts into a link.
type LinkOptions struct {
	// Channel, if not empty, is the channel path to link to instead of the
	// bookmark's own Channel.
	Channel []string
	// IncludePassword puts the server password into the link. Off by
	// default: links get pasted into chats and documents.
	IncludePassword bool
	// OmitUsername leaves the user name out, for a link meant for someone
	// else.
	OmitUsername bool
	// Invite makes an invitation: the link also carries the pinned
	// certificate fingerprint ("pin") and the client authorization key
	// ("auth"), if the bookmark has them. Only for the guest it is meant
	// for: the key is a secret.
	Invite bool
}

// FormatLink renders b as a mumble:// link that ParseLink and the official
// Mumble client understand. The password is included only if asked; the
// pinned fingerprint always is, as the "pin" parameter (it is public: it
// only lets the importer recognise the server); the client authorization
// key only in an invitation; the isolation credentials and identity never
// are.
func FormatLink(b Bookmark, opt LinkOptions) string {
	u := url.URL{Scheme: "mumble"}
	addr := NormalizeAddress(b.Address)
	port := b.Port
	if port == 0 {
		port = DefaultPort
	}
	if port == DefaultPort {
		u.Host = addr
		if strings.Contains(addr, ":") {
			u.Host = "[" + addr + "]"
		}
	} else {
		u.Host = net.JoinHostPort(addr, strconv.Itoa(port))
	}
	user := b.Username
	if opt.OmitUsername {
		user = ""
	}
	switch {
	case opt.IncludePassword && b.Password != "":
		u.User = url.UserPassword(user, b.Password)
	case user != "":
		u.User = url.User(user)
	}
	channel := b.Channel
	if len(opt.Channel) > 0 {
		channel = opt.Channel
	}
	if len(channel) > 0 {
		raw := make([]string, len(channel))
		for i, c := range channel {
			raw[i] = url.PathEscape(c)
		}
		u.Path = "/" + strings.Join(channel, "/")
		u.RawPath = "/" + strings.Join(raw, "/")
	}
	q := url.Values{}
	q.Set("version", linkProtocolVersion)
	if b.Label != "" && b.Label != addr {
		q.Set("title", b.Label)
	}
	if !b.PinnedFingerprint.IsZero() {
		q.Set("pin", b.PinnedFingerprint.String())
	}
	if opt.Invite && !b.ClientAuthKey.IsZero() {
		q.Set("auth", b.ClientAuthKey.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}
