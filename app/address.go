package app

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/tumble-voip/tumble/tor"
)

// DefaultPort is the Mumble server port used when none is given.
const DefaultPort = 64738

// AddressKind says what a bookmark address is.
type AddressKind int

const (
	// AddressOnion is a v3 onion service name ("<56 chars>.onion").
	AddressOnion AddressKind = iota + 1
	// AddressHostName is a DNS host name. With Tor on it is resolved by
	// the exit relay, never locally.
	AddressHostName
	// AddressIP is an IPv4 or IPv6 literal.
	AddressIP
)

// String returns "onion", "host name" or "IP address".
func (k AddressKind) String() string {
	switch k {
	case AddressOnion:
		return "onion"
	case AddressHostName:
		return "host name"
	case AddressIP:
		return "IP address"
	}
	return fmt.Sprintf("AddressKind(%d)", int(k))
}

// NormalizeAddress cleans up an address as a user typed it: surrounding
// space is trimmed, letters are lowered, one trailing dot and the brackets
// around an IPv6 literal are removed. It does not validate; see
// ValidateAddress.
func NormalizeAddress(addr string) string {
	addr = strings.TrimSpace(addr)
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr = addr[1 : len(addr)-1]
	}
	addr = strings.TrimSuffix(addr, ".")
	return strings.ToLower(addr)
}

// ValidateAddress checks a normalized server address and says what kind it
// is. A ".onion" address must be a v3 onion service name that
// tor.ParseOnion accepts (so a typo is caught before Tor spends a minute
// looking for a service that does not exist), optionally preceded by
// subdomain labels. Otherwise the address must be an
// IP literal (IPv6 without brackets, no zone) or a DNS host name in ASCII
// (internationalized names in their xn-- form).
func ValidateAddress(addr string) (AddressKind, error) {
	if addr == "" {
		return 0, errors.New("is empty")
	}
	if len(addr) > 253 {
		return 0, fmt.Errorf("is %d characters long, the limit is 253", len(addr))
	}
	if addr != strings.TrimSpace(addr) {
		return 0, errors.New("has spaces around it")
	}
	if strings.HasPrefix(addr, "[") || strings.HasSuffix(addr, "]") {
		return 0, errors.New("has brackets; write an IPv6 address without them and the port in the port field")
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.Zone() != "" {
			return 0, errors.New("is an IPv6 address with a zone, which cannot be reached through a server")
		}
		return AddressIP, nil
	}
	if strings.Contains(addr, "://") || strings.ContainsAny(addr, "/?#@") {
		return 0, errors.New("must be a host name or address, not a link (use Import link for mumble:// links)")
	}
	if strings.Contains(addr, ":") {
		if strings.Count(addr, ":") == 1 {
			return 0, errors.New("contains a port; put the port in the port field")
		}
		return 0, errors.New("is not a valid IPv6 address")
	}
	labels := strings.Split(addr, ".")
	if last := labels[len(labels)-1]; strings.EqualFold(last, "onion") {
		if len(labels) < 2 {
			return 0, errors.New(`is just ".onion"`)
		}
		if labels[len(labels)-2] == "" {
			return 0, errors.New("has an empty label before .onion")
		}
		for _, l := range labels[:len(labels)-2] {
			if err := checkHostLabel(l); err != nil {
				return 0, fmt.Errorf("has an invalid subdomain %q: %w", l, err)
			}
		}
		if _, err := tor.ParseOnion(addr); err != nil {
			return 0, onionProblem(err)
		}
		return AddressOnion, nil
	}
	for _, l := range labels {
		if err := checkHostLabel(l); err != nil {
			if l == "" {
				return 0, errors.New("has an empty label (two dots in a row, or a leading dot)")
			}
			return 0, fmt.Errorf("has an invalid label %q: %w", l, err)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return 0, errors.New("is neither a valid IPv4 address nor a host name (the last label is all digits)")
	}
	return AddressHostName, nil
}

// onionProblem words tor.ParseOnion's error as a field error.
func onionProblem(err error) error {
	var oe *tor.OnionError
	switch {
	case errors.Is(err, tor.ErrV2Onion):
		return errors.New("is a v2 onion address; Tor no longer reaches those, ask for the v3 address (56 characters)")
	case errors.As(err, &oe):
		return fmt.Errorf("is not a v3 onion address: %s", oe.Reason)
	}
	return err
}

// checkHostLabel validates one DNS label: 1-63 letters, digits, hyphens or
// underscores, not starting or ending with a hyphen.
func checkHostLabel(l string) error {
	if l == "" {
		return errors.New("is empty")
	}
	if len(l) > 63 {
		return fmt.Errorf("is %d characters long, the limit is 63", len(l))
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return errors.New("starts or ends with a hyphen")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			if c >= 0x80 {
				return errors.New("has non-ASCII characters; use the xn-- (punycode) form of the name")
			}
			return fmt.Errorf("has the character %q, only letters, digits and hyphens are allowed", c)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
