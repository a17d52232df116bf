package tor

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cretz/bine/control"
)

// Bridges and pluggable transports.
//
// A bridge line is what bridges.torproject.org, Tor Browser and Orbot hand
// out (torrc's Bridge option without the word "Bridge"):
//
//	obfs4 192.0.2.1:443 0123...CDEF cert=BASE64 iat-mode=0
//	snowflake 192.0.2.3:80 2B28...0A72 fingerprint=2B28...0A72 url=https://... fronts=... ice=stun:... utls-imitate=...
//	webtunnel [2001:db8::1]:443 0123...CDEF url=https://example.com/path ver=0.0.1
//	192.0.2.9:9001 0123...CDEF   (a plain bridge, no transport)
//
// Transports run as Tor managed proxies (ClientTransportPlugin ... exec):
// the distribution's programs, found on PATH or in /usr/bin, or the paths
// given in Server.TransportPaths.

// Transport names.
const (
	TransportObfs4     = "obfs4"
	TransportSnowflake = "snowflake"
	TransportWebTunnel = "webtunnel"
)

// transportInfo says how to run one pluggable transport.
type transportInfo struct {
	programs []string // client programs that provide it, preferred first
	pkg      string   // where to get it, for the "missing" error
}

// transports are the transports Tumble knows how to run.
var transports = map[string]transportInfo{
	// lyrebird is obfs4proxy's new name (Debian 13 ships it as lyrebird).
	TransportObfs4:     {[]string{"obfs4proxy", "lyrebird"}, "Debian package obfs4proxy (or lyrebird)"},
	TransportSnowflake: {[]string{"snowflake-client"}, "Debian package snowflake-client"},
	TransportWebTunnel: {[]string{"webtunnel-client"}, "the Tor Project's webtunnel client (not packaged in Debian 12)"},
}

// Transports returns the names of the pluggable transports Tumble can use
// in bridge lines, sorted.
func Transports() []string {
	names := make([]string, 0, len(transports))
	for n := range transports {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// DefaultSnowflakeBridges are the built-in Snowflake bridge lines, as Tor
// Browser ships them (its pt_config.json; the same lines are in the
// "CDN77" torrc example of the Snowflake client's README,
// gitlab.torproject.org/tpo/anti-censorship/pluggable-transports/snowflake,
// client/README.md). The broker URL, domain fronts and STUN servers change
// now and then: users can paste newer lines from Tor Browser instead.
var DefaultSnowflakeBridges = []string{
	"snowflake 192.0.2.4:80 8838024498816A039FCBBAB14E6F40A0843051FA fingerprint=8838024498816A039FCBBAB14E6F40A0843051FA url=https://1098762253.rsc.cdn77.org/ fronts=www.cdn77.com,www.phpmyadmin.net ice=stun:stun.antisip.com:3478,stun:stun.epygi.com:3478,stun:stun.uls.co.za:3478,stun:stun.voipgate.com:3478,stun:stun.mixvoip.com:3478,stun:stun.nextcloud.com:3478,stun:stun.bethesda.net:3478,stun:stun.nextcloud.com:443 utls-imitate=hellorandomizedalpn",
	"snowflake 192.0.2.3:80 2B280B23E1107BB62ABFC40DDCC8824814F80A72 fingerprint=2B280B23E1107BB62ABFC40DDCC8824814F80A72 url=https://1098762253.rsc.cdn77.org/ fronts=www.cdn77.com,www.phpmyadmin.net ice=stun:stun.antisip.com:3478,stun:stun.epygi.com:3478,stun:stun.uls.co.za:3478,stun:stun.voipgate.com:3478,stun:stun.mixvoip.com:3478,stun:stun.nextcloud.com:3478,stun:stun.bethesda.net:3478,stun:stun.nextcloud.com:443 utls-imitate=hellorandomizedalpn",
}

// ErrNoTransport reports a bridge line whose transport's client program is
// not installed.
var ErrNoTransport = errors.New("pluggable transport program not installed")

// ErrBridgesNotHere reports bridges configured for a Server that does not
// run its own Tor.
var ErrBridgesNotHere = errors.New("bridges apply only to the embedded Tor")

// Bridge is one parsed bridge line.
type Bridge struct {
	// Transport is the pluggable transport ("obfs4", "snowflake",
	// "webtunnel"), or "" for a plain bridge.
	Transport string
	// Addr is the bridge's IP:PORT (for Snowflake and WebTunnel a
	// placeholder that only names the bridge).
	Addr string
	// Fingerprint is the bridge's identity: 40 upper-case hex digits.
	Fingerprint string
	// Args are the transport's KEY=VALUE arguments in the line's order.
	Args []string
}

// String returns the bridge line in canonical form, as written to torrc
// after "Bridge ".
func (b Bridge) String() string {
	f := make([]string, 0, 3+len(b.Args))
	if b.Transport != "" {
		f = append(f, b.Transport)
	}
	f = append(f, b.Addr, b.Fingerprint)
	return strings.Join(append(f, b.Args...), " ")
}

// Name names the bridge in messages: transport, address and the start of
// the fingerprint.
func (b Bridge) Name() string {
	t := b.Transport
	if t == "" {
		t = "bridge"
	}
	return t + " " + b.Addr + " " + b.Fingerprint[:8]
}

// arg returns the value of the argument key and whether it is present.
func (b Bridge) arg(key string) (string, bool) {
	for _, a := range b.Args {
		if k, v, _ := strings.Cut(a, "="); k == key {
			return v, true
		}
	}
	return "", false
}

// BridgeLineError is the error of one bad bridge line.
type BridgeLineError struct {
	Line int    // 1-based line number in the text given
	Text string // the line, shortened for display
	Err  error
}

func (e *BridgeLineError) Error() string {
	return fmt.Sprintf("bridge line %d (%s): %v", e.Line, e.Text, e.Err)
}

func (e *BridgeLineError) Unwrap() error { return e.Err }

// BridgeLinesError lists every bad line of a set of bridge lines, so that a
// user interface can show each one next to its line.
type BridgeLinesError struct {
	Lines []*BridgeLineError
}

func (e *BridgeLinesError) Error() string {
	msgs := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		msgs[i] = l.Error()
	}
	return "tor: " + strings.Join(msgs, "; ")
}

// Unwrap returns the errors of the single lines.
func (e *BridgeLinesError) Unwrap() []error {
	errs := make([]error, len(e.Lines))
	for i, l := range e.Lines {
		errs[i] = l
	}
	return errs
}

// ParseBridgeLines parses bridge lines, one per element, as a user pasted
// them. Blank lines and lines starting with "#" are skipped; a leading
// "Bridge " (copied from a torrc) is accepted. If any line is bad, the error
// is a *BridgeLinesError naming every bad line; the good ones are returned
// all the same.
func ParseBridgeLines(lines []string) ([]Bridge, error) {
	var bridges []Bridge
	var bad []*BridgeLineError
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := parseBridge(line)
		if err != nil {
			bad = append(bad, &BridgeLineError{Line: i + 1, Text: shorten(line, 40), Err: err})
			continue
		}
		bridges = append(bridges, b)
	}
	if bad != nil {
		return bridges, &BridgeLinesError{Lines: bad}
	}
	return bridges, nil
}

// SplitBridgeLines splits pasted text (a text box, a file, a QR code's
// contents) into lines for ParseBridgeLines.
func SplitBridgeLines(text string) []string {
	return strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
}

// ParseBridgeLine parses a single bridge line; see ParseBridgeLines.
func ParseBridgeLine(line string) (Bridge, error) {
	b, err := parseBridge(strings.TrimSpace(line))
	if err != nil {
		return Bridge{}, fmt.Errorf("tor: bridge line %q: %w", shorten(line, 40), err)
	}
	return b, nil
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func parseBridge(line string) (Bridge, error) {
	if strings.ContainsAny(line, "\x00\r\n") {
		return Bridge{}, errors.New("contains a control character")
	}
	f := strings.Fields(line)
	if len(f) > 0 && strings.EqualFold(f[0], "Bridge") {
		f = f[1:]
	}
	if len(f) == 0 {
		return Bridge{}, errors.New("empty")
	}
	var b Bridge
	if _, _, err := parseBridgeAddr(f[0]); err != nil {
		// Not an address: a transport name.
		name := f[0]
		if _, ok := transports[name]; !ok {
			if strings.ContainsAny(name, ".:[") {
				return Bridge{}, fmt.Errorf("address %q: %v", name, err)
			}
			return Bridge{}, fmt.Errorf("unknown transport %q (Tumble knows %s)", name, strings.Join(Transports(), ", "))
		}
		b.Transport = name
		f = f[1:]
		if len(f) == 0 {
			return Bridge{}, errors.New("missing address IP:PORT after the transport")
		}
	}
	addr, _, err := parseBridgeAddr(f[0])
	if err != nil {
		return Bridge{}, fmt.Errorf("address %q: %v", f[0], err)
	}
	b.Addr = addr
	f = f[1:]
	if len(f) == 0 || strings.Contains(f[0], "=") {
		return Bridge{}, errors.New("missing fingerprint (40 hex digits after the address)")
	}
	fpr, err := parseFingerprint(f[0])
	if err != nil {
		return Bridge{}, err
	}
	b.Fingerprint = fpr
	f = f[1:]
	if b.Transport == "" && len(f) > 0 {
		return Bridge{}, fmt.Errorf("unexpected %q after the fingerprint of a bridge without transport", shorten(f[0], 20))
	}
	seen := make(map[string]bool)
	for _, a := range f {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return Bridge{}, fmt.Errorf("argument %q: want KEY=VALUE", shorten(a, 20))
		}
		if seen[k] {
			return Bridge{}, fmt.Errorf("argument %s given twice", k)
		}
		seen[k] = true
		if v == "" {
			return Bridge{}, fmt.Errorf("argument %s: empty value", k)
		}
	}
	b.Args = f
	if err := checkTransportArgs(b); err != nil {
		return Bridge{}, err
	}
	return b, nil
}

// parseBridgeAddr parses IP:PORT or [IPv6]:PORT. Names are refused: Tor
// needs an address, and resolving a name would be a lookup outside Tor.
func parseBridgeAddr(s string) (string, netip.AddrPort, error) {
	host, port, err := splitHostPort(s)
	if err != nil {
		return "", netip.AddrPort{}, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", netip.AddrPort{}, fmt.Errorf("host %q must be an IP address", host)
	}
	ap := netip.AddrPortFrom(ip.Unmap(), port)
	return ap.String(), ap, nil
}

// parseFingerprint checks a relay fingerprint: 40 hex digits (spaces, as in
// "AAAA BBBB ...", are not accepted inside a bridge line).
func parseFingerprint(s string) (string, error) {
	s = strings.TrimPrefix(s, "$")
	if len(s) != 40 {
		return "", fmt.Errorf("fingerprint %q: want 40 hex digits, have %d characters", shorten(s, 44), len(s))
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("fingerprint %q: %q is not a hex digit", s, c)
		}
	}
	return strings.ToUpper(s), nil
}

// checkTransportArgs checks the arguments each transport needs.
func checkTransportArgs(b Bridge) error {
	switch b.Transport {
	case TransportObfs4:
		cert, ok := b.arg("cert")
		if !ok {
			return errors.New("obfs4 needs cert=... (copy the whole line)")
		}
		// The cert is the bridge's node ID and public key, 52 bytes, in
		// unpadded base64 (obfs4's spec, "Bridge line").
		raw, err := base64.RawStdEncoding.DecodeString(cert)
		if err != nil || len(raw) != 52 {
			return fmt.Errorf("obfs4 cert=%s: want 70 base64 characters (a 52-byte key); the line may be cut", shorten(cert, 12))
		}
		iat, ok := b.arg("iat-mode")
		if !ok {
			return errors.New("obfs4 needs iat-mode=0, 1 or 2")
		}
		if iat != "0" && iat != "1" && iat != "2" {
			return fmt.Errorf("obfs4 iat-mode=%s: want 0, 1 or 2", shorten(iat, 8))
		}
	case TransportSnowflake:
		if err := checkURLArg(b, "the broker"); err != nil {
			return err
		}
		if fp, ok := b.arg("fingerprint"); ok {
			if _, err := parseFingerprint(fp); err != nil {
				return fmt.Errorf("snowflake fingerprint=: %v", err)
			}
		}
		for _, key := range []string{"fronts", "front"} {
			if v, ok := b.arg(key); ok {
				for _, h := range strings.Split(v, ",") {
					if !validHostname(h) {
						return fmt.Errorf("snowflake %s: %q is not a host name", key, shorten(h, 30))
					}
				}
			}
		}
		if v, ok := b.arg("ice"); ok {
			for _, s := range strings.Split(v, ",") {
				if !strings.HasPrefix(s, "stun:") && !strings.HasPrefix(s, "turn:") && !strings.HasPrefix(s, "turns:") {
					return fmt.Errorf("snowflake ice: %q is not a stun: or turn: URL", shorten(s, 30))
				}
			}
		}
		if v, ok := b.arg("utls-imitate"); ok && !validWord(v) {
			return fmt.Errorf("snowflake utls-imitate=%s: want a name such as hellorandomizedalpn", shorten(v, 20))
		}
	case TransportWebTunnel:
		if err := checkURLArg(b, "the bridge's web server"); err != nil {
			return err
		}
	}
	return nil
}

// checkURLArg checks the url= argument, which b's transport needs: an
// https URL of what (e.g. "the broker").
func checkURLArg(b Bridge, what string) error {
	s, ok := b.arg("url")
	if !ok {
		return fmt.Errorf("%s needs url=https://HOST/PATH (%s)", b.Transport, what)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s url %q: %v", b.Transport, shorten(s, 40), err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%s url %q: want https://HOST/PATH", b.Transport, shorten(s, 40))
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validWord(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// transportProgram finds the client program of transport name: the path
// given in paths, else the first of its programs that look finds.
func transportProgram(name string, paths map[string]string, look func(string) (string, error)) (string, error) {
	info := transports[name]
	if p := paths[name]; p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%w: %s transport program %s: %v", ErrNoTransport, name, p, err)
		}
		return p, nil
	}
	for _, prog := range info.programs {
		if p, err := look(prog); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s bridges need the program %s: install %s", ErrNoTransport, name, info.programs[0], info.pkg)
}

// lookProgram finds a program on PATH or, for a program started with a
// reduced PATH, in /usr/bin. The result is absolute: Tor runs it with its
// own working directory.
func lookProgram(prog string) (string, error) {
	if p, err := exec.LookPath(prog); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
	}
	p := filepath.Join("/usr/bin", prog)
	if err := checkExecutable(p); err != nil {
		return "", err
	}
	return p, nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// bridgeTorrc returns the torrc lines for the Server's bridges: UseBridges,
// one ClientTransportPlugin per transport used and one Bridge per line.
func (s *Server) bridgeTorrc() ([]string, []Bridge, error) {
	return s.bridgeConf(s.UseBridges, s.Bridges)
}

// bridgeConf returns the torrc lines and the parsed bridges for bridge
// lines, or nothing when use is false.
func (s *Server) bridgeConf(use bool, lines []string) ([]string, []Bridge, error) {
	if !use {
		return nil, nil, nil
	}
	bridges, err := ParseBridgeLines(lines)
	if err != nil {
		return nil, nil, err
	}
	if len(bridges) == 0 {
		return nil, nil, errors.New("tor: UseBridges is on but there are no bridge lines (get some at https://bridges.torproject.org or use the built-in Snowflake bridges)")
	}
	torrc := []string{"UseBridges 1"}
	var used []string
	for _, b := range bridges {
		if b.Transport != "" && !slices.Contains(used, b.Transport) {
			used = append(used, b.Transport)
		}
	}
	for _, t := range used {
		look := s.lookPath
		if look == nil {
			look = lookProgram
		}
		prog, err := transportProgram(t, s.TransportPaths, look)
		if err != nil {
			return nil, nil, fmt.Errorf("tor: %w", err)
		}
		if strings.ContainsAny(prog, " \t\"\\") {
			return nil, nil, fmt.Errorf("tor: %s transport program path %q: Tor cannot run a path with spaces, quotes or backslashes", t, prog)
		}
		torrc = append(torrc, "ClientTransportPlugin "+t+" exec "+prog)
	}
	for _, b := range bridges {
		torrc = append(torrc, "Bridge "+b.String())
	}
	return torrc, bridges, nil
}

// checkBridgesMode refuses bridges for a Server without its own Tor.
func checkBridgesMode(useBridges bool, mode Mode, socksAddr string) error {
	if !useBridges {
		return nil
	}
	switch mode {
	case ModeSOCKS:
		return fmt.Errorf("tor: %w: Tumble uses the Tor at %s, so bridges are configured in that Tor (Tor Browser, Orbot, Tails or the Whonix gateway), not in Tumble", ErrBridgesNotHere, socksAddr)
	case ModeOff:
		return fmt.Errorf("tor: %w: Tor is off", ErrBridgesNotHere)
	}
	return nil
}

// bridgeFor returns the bridge that target names: a fingerprint
// ("$FPR~nick", "$FPR=nick", "FPR") or an address "IP:PORT".
func bridgeFor(bridges []Bridge, target string) (Bridge, bool) {
	t := strings.TrimPrefix(target, "$")
	if i := strings.IndexAny(t, "~="); i >= 0 {
		t = t[:i]
	}
	for _, b := range bridges {
		if strings.EqualFold(t, b.Fingerprint) || t == b.Addr {
			return b, true
		}
	}
	if ap, err := netip.ParseAddrPort(target); err == nil {
		for _, b := range bridges {
			if b.Addr == ap.String() {
				return b, true
			}
		}
	}
	return Bridge{}, false
}

// parseConnWarning parses Tor's warning about a failed connection to a
// relay or bridge through a proxy or transport, e.g.
//
//	Proxy Client: unable to connect OR connection (handshaking (proxy)) with 127.0.0.2:1 ID=<none> RSA_ID=D9A8...8B5D ("general SOCKS server failure")
//
// and returns the relay's RSA identity, address and the reason.
func parseConnWarning(raw string) (id, addr, why string, ok bool) {
	if !strings.Contains(raw, "unable to connect OR connection") {
		return "", "", "", false
	}
	if _, rest, found := strings.Cut(raw, " with "); found {
		addr, _, _ = strings.Cut(rest, " ")
	}
	if _, rest, found := strings.Cut(raw, "RSA_ID="); found {
		id, _, _ = strings.Cut(rest, " ")
	}
	if i := strings.LastIndex(raw, `("`); i >= 0 && strings.HasSuffix(raw, `")`) && i+2 <= len(raw)-2 {
		why = raw[i+2 : len(raw)-2]
	}
	if why == "" {
		why = "connection failed"
	}
	return id, addr, why, id != "" || addr != ""
}

// SetBridges changes the bridges of the running embedded Tor at once,
// through its control connection, in one SETCONF: with use, Tor reaches
// the network only through the bridges in lines (checked as Server.Bridges
// is, transport programs included); without, the bridges are dropped and
// Tor connects to relays directly again. A Tor stuck bootstrapping goes on
// through the new bridges without a restart (the embedded Tor cannot be
// restarted in-process). The Server's UseBridges and Bridges fields are not
// changed.
//
// SetBridges needs a started Server. In socks and off modes, turning
// bridges on fails with an error wrapping ErrBridgesNotHere, and turning
// them off does nothing. Bad lines give a *BridgeLinesError and leave Tor
// as it was.
func (s *Server) SetBridges(ctx context.Context, use bool, lines []string) error {
	s.init()
	s.mu.Lock()
	started, closed, mode, socksAddr, emb := s.started, s.closed, s.mode, s.socksAddr, s.emb
	s.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("tor: set bridges: %w", net.ErrClosed)
	case !started:
		return errors.New("tor: set bridges: the Server has not been started")
	}
	if err := checkBridgesMode(use, mode, socksAddr); err != nil {
		return err
	}
	if mode != ModeEmbedded || emb == nil {
		return nil
	}
	torrc, bridges, err := s.bridgeConf(use, lines)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("tor: set bridges: %w", err)
	}
	kvs := []*control.KeyVal{control.NewKeyVal("UseBridges", "0")}
	if use {
		kvs = kvs[:0]
		for _, l := range torrc {
			k, v := torrcKeyVal(l)
			kvs = append(kvs, control.NewKeyVal(k, v))
		}
	}
	if !use || len(bridges) == 0 || !slices.ContainsFunc(bridges, func(b Bridge) bool { return b.Transport != "" }) {
		// A key without value resets the option to its default (none).
		kvs = append(kvs, &control.KeyVal{Key: "ClientTransportPlugin"})
	}
	if !use {
		kvs = append(kvs, &control.KeyVal{Key: "Bridge"})
	}
	emb.ctlMu.Lock()
	err = emb.t.Control.SetConf(kvs...)
	emb.ctlMu.Unlock()
	if err != nil {
		return fmt.Errorf("tor: set bridges: SETCONF: %w", err)
	}
	s.mu.Lock()
	emb.bridges = bridges
	if !s.status.Ready {
		s.armHintLocked(emb, use)
	}
	s.mu.Unlock()
	s.updateStatus(func(st *Status) { st.Hint, st.SuggestBridges, st.BridgeFailure = "", false, "" })
	if use {
		s.logf("tor: now using %d bridges", len(bridges))
	} else {
		s.logf("tor: bridges off")
	}
	return nil
}
