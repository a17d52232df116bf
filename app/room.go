package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/mumble/murmur"
	"github.com/tumble-voip/tumble/tor"
	"github.com/tumble-voip/tumble/tor/atomicfile"
)

// RoomPort is the virtual port of a room's onion service: Mumble's default,
// so invitation links need no port.
const RoomPort = DefaultPort

// roomFile is the room's saved state inside its directory.
const roomFile = "room.json"

// RoomConfig is what the host chooses about a room. Zero values take the
// safe defaults.
type RoomConfig struct {
	// Name is the server's name (its root channel). Default "Tumble room".
	Name string `json:"name"`
	// Welcome is the welcome text guests see.
	Welcome string `json:"welcome"`
	// Password is the server password; empty generates a strong one when
	// the room is created.
	Password string `json:"password"`
	// MaxUsers is the most guests at once (default murmur.DefaultMaxUsers).
	MaxUsers int `json:"max_users,omitempty"`
	// Bandwidth is the per-user voice limit in bit/s; default
	// RoomBandwidth().
	Bandwidth int `json:"bandwidth,omitempty"`
	// RememberChannel puts returning registered users into their last
	// channel.
	RememberChannel bool `json:"remember_channel,omitempty"`
	// CertRequired refuses guests without a client certificate.
	CertRequired bool `json:"cert_required,omitempty"`
	// ClientAuth publishes the onion service with client authorization:
	// only guests with a key (AddGuest) can even reach the server.
	ClientAuth bool `json:"client_auth,omitempty"`
	// Listen is the IP address of this machine the server listens on
	// (see CheckListenAddress). Empty means 127.0.0.1, enough for
	// Tumble's own Tor or a Tor on this machine; behind a Tor gateway on
	// another machine (a Whonix Workstation) it is this machine's address
	// on the gateway's network, so that the gateway can reach the server.
	Listen string `json:"listen,omitempty"`
	// GatewayDir is the HiddenServiceDir printed for a Tor gateway in
	// socks mode (see GatewaySetup). Default DefaultGatewayDir.
	GatewayDir string `json:"gateway_dir,omitempty"`
}

// DefaultGatewayDir is the HiddenServiceDir suggested to a Tor gateway.
const DefaultGatewayDir = "/var/lib/tor/tumble-room/"

// CheckListenAddress returns an error unless addr is an IP address of this
// machine a server can listen on: one address, not 0.0.0.0 or ::, that can
// be bound here (any 127.x.y.z on Linux).
func CheckListenAddress(addr string) error {
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return fmt.Errorf("app: listen address %q is not an IP address (e.g. 10.137.0.12)", addr)
	case ip.IsUnspecified():
		return fmt.Errorf("app: listen address %s would listen on every network; give one address of this machine", addr)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		return fmt.Errorf("app: listen address %s is not an address of this machine: %w", addr, err)
	}
	l.Close()
	return nil
}

// RoomBandwidth returns the default per-user bandwidth of a room: what a
// client with the "Tor recommended" preset needs in TCP mode, with room for
// clients using the Mumble defaults (40 kb/s).
func RoomBandwidth() int {
	in := torRecommended().Input
	need := mumble.NetworkBandwidth(in.QualityBitrate, in.PacketMs/10, false)
	return max(need, mumble.NetworkBandwidth(40000, 2, false))
}

// roomState is room.json.
type roomState struct {
	Config            RoomConfig        `json:"config"`
	SuperUserPassword string            `json:"superuser_password"`
	OnionSeed         []byte            `json:"onion_seed"`
	Guests            map[string]string `json:"guests,omitempty"` // name -> auth_private line
	// GatewayPort is the server's port once it ran for a Tor gateway,
	// whose torrc names it: kept for every later start.
	GatewayPort int `json:"gateway_port,omitempty"`
}

// guestNameRE is what a guest's name may look like (it names a key file).
var guestNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Room is a hosted room: the real Mumble server on 127.0.0.1 (or
// RoomConfig.Listen) behind an onion service of the embedded Tor, or of a
// Tor gateway in socks mode. A persistent room keeps its state (server
// database, certificate, onion key, guest keys) in its directory; an
// amnesic one in a temporary directory removed by Stop.
type Room struct {
	dir     string
	amnesic bool

	mu      sync.Mutex
	st      roomState
	server  *murmur.Server
	onion   *tor.HostedService
	gateway *GatewaySetup
}

// ErrHostingUnsupported is wrapped by OpenRoom's error where Tumble cannot
// host (Android).
var ErrHostingUnsupported = errors.New("hosting a room is not offered on this platform")

// OpenRoom opens the room in dir (created 0700 with new passwords and a new
// onion key if it has no room yet; cfg then configures it, and for an
// existing room replaces its settings except an empty password). If amnesic
// is true, dir is ignored: the room lives in a new temporary directory that
// Stop removes.
func OpenRoom(dir string, amnesic bool, cfg RoomConfig) (*Room, error) {
	if runtime.GOOS == "android" {
		return nil, fmt.Errorf("app: %w", ErrHostingUnsupported)
	}
	if cfg.Listen != "" {
		if err := CheckListenAddress(cfg.Listen); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(cfg.GatewayDir, "\r\n\x00") {
		return nil, errors.New("app: the gateway's HiddenServiceDir contains a line break")
	}
	if amnesic {
		d, err := os.MkdirTemp("", "tumble-room-")
		if err != nil {
			return nil, fmt.Errorf("app: room directory: %w", err)
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("app: room directory: %w", err)
	}
	r := &Room{dir: dir, amnesic: amnesic}
	data, err := os.ReadFile(filepath.Join(dir, roomFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &r.st); err != nil || len(r.st.OnionSeed) != ed25519.SeedSize || r.st.SuperUserPassword == "" {
			return nil, fmt.Errorf("app: room %s: %s is damaged", dir, roomFile)
		}
		if cfg.Password == "" {
			cfg.Password = r.st.Config.Password
		}
	case errors.Is(err, os.ErrNotExist):
		r.st.SuperUserPassword = murmur.GeneratePassword()
		r.st.OnionSeed = make([]byte, ed25519.SeedSize)
		rand.Read(r.st.OnionSeed)
		if cfg.Password == "" {
			cfg.Password = murmur.GeneratePassword()
		}
	default:
		return nil, fmt.Errorf("app: room: %w", err)
	}
	if cfg.Name == "" {
		cfg.Name = "Tumble room"
	}
	if cfg.Bandwidth == 0 {
		cfg.Bandwidth = RoomBandwidth()
	}
	r.st.Config = cfg
	if err := r.save(); err != nil {
		return nil, err
	}
	return r, nil
}

// save writes room.json atomically (0600).
func (r *Room) save() error {
	data, err := json.MarshalIndent(&r.st, "", "  ")
	if err != nil {
		return fmt.Errorf("app: save room: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(r.dir, roomFile), data, 0o600); err != nil {
		return fmt.Errorf("app: save room: %w", err)
	}
	return nil
}

// Dir returns the room's directory.
func (r *Room) Dir() string { return r.dir }

// Onion returns the room's onion address ("<56 chars>.onion").
func (r *Room) Onion() string {
	a, _ := tor.OnionAddress(r.key().Public().(ed25519.PublicKey))
	return a
}

func (r *Room) key() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(r.st.OnionSeed) }

// Config returns the room's configuration (with the generated password).
func (r *Room) Config() RoomConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Config
}

// SuperUserPassword returns the password of the server's SuperUser account.
func (r *Room) SuperUserPassword() string { return r.st.SuperUserPassword }

// RoomPhase is a step of starting a room.
type RoomPhase string

// The phases StartRoom reports, in order.
const (
	RoomStartingServer RoomPhase = "starting the Mumble server"
	RoomWaitingForTor  RoomPhase = "waiting for Tor"
	RoomPublishing     RoomPhase = "publishing the onion service"
	RoomReady          RoomPhase = "ready"
	// RoomOnGateway replaces RoomPublishing and RoomReady in socks mode:
	// the server runs and the Tor gateway is to publish it (Gateway).
	RoomOnGateway RoomPhase = "running; the Tor gateway is to publish it"
)

// Start runs the server and publishes the onion service through ts, calling
// progress (if not nil) at each phase. In socks mode Tumble cannot publish
// an onion service: the server runs for the Tor gateway, the last phase is
// RoomOnGateway and Gateway returns what the gateway needs. The port the
// gateway was given is kept: later starts fail if it is taken.
func (r *Room) Start(ctx context.Context, ts *tor.Server, progress func(RoomPhase)) (err error) {
	if progress == nil {
		progress = func(RoomPhase) {}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		return errors.New("app: the room is already running")
	}
	progress(RoomStartingServer)
	c := r.st.Config
	srv, err := murmur.Start(ctx, filepath.Join(r.dir, "server"), murmur.Config{
		WriteFile: atomicfile.Write,
		Name:      c.Name, Welcome: c.Welcome, Password: c.Password, SuperUserPassword: r.st.SuperUserPassword,
		MaxUsers: c.MaxUsers, Bandwidth: c.Bandwidth, RememberChannel: c.RememberChannel, CertRequired: c.CertRequired,
		Host: c.Listen, Port: r.st.GatewayPort,
	})
	if err != nil {
		return fmt.Errorf("app: start room: %w", err)
	}
	defer func() {
		if err != nil {
			srv.Stop()
		}
	}()
	progress(RoomWaitingForTor)
	st, err := ts.Up(ctx)
	if err != nil {
		return fmt.Errorf("app: start room: %w", err)
	}
	if st.Mode != tor.ModeEmbedded {
		dir := c.GatewayDir
		if dir == "" {
			dir = DefaultGatewayDir
		}
		if r.st.GatewayPort != srv.Port {
			r.st.GatewayPort = srv.Port
			if err := r.save(); err != nil {
				return err
			}
		}
		r.server, r.gateway = srv, &GatewaySetup{Mode: st.Mode, Dir: dir, Addr: srv.Addr}
		progress(RoomOnGateway)
		return nil
	}
	progress(RoomPublishing)
	clients, err := r.clientKeys()
	if err != nil {
		return err
	}
	onion, err := ts.Host(ctx, filepath.Join(r.dir, "onion"), r.key(), RoomPort, srv.Addr, clients)
	if err != nil {
		return fmt.Errorf("app: start room: %w", err)
	}
	r.server, r.onion = srv, onion
	progress(RoomReady)
	return nil
}

// clientKeys returns the guests' keys, or nil without client authorization.
func (r *Room) clientKeys() (map[string]tor.ClientAuthKey, error) {
	if !r.st.Config.ClientAuth {
		return nil, nil
	}
	m := make(map[string]tor.ClientAuthKey, len(r.st.Guests))
	for name, line := range r.st.Guests {
		k, err := tor.ParseClientAuthKey(line)
		if err != nil {
			return nil, fmt.Errorf("app: room guest %s: %w", name, err)
		}
		m[name] = k
	}
	return m, nil
}

// GatewaySetup is what a Tor gateway needs to publish a room that Tumble
// cannot publish itself (its Tor is another's SOCKS port, as in a Whonix
// Workstation).
type GatewaySetup struct {
	Mode tor.Mode
	// Dir is the gateway's HiddenServiceDir.
	Dir string
	// Addr is where the server listens ("host:port"), as the gateway is
	// to reach it.
	Addr string
}

// Torrc returns the gateway's torrc lines: HiddenServiceDir and
// HiddenServicePort with the server's address and port.
func (g *GatewaySetup) Torrc() []string {
	return []string{
		"HiddenServiceDir " + g.Dir,
		"HiddenServicePort " + strconv.Itoa(RoomPort) + " " + g.Addr,
	}
}

// Lines returns the torrc lines and how to use them.
func (g *GatewaySetup) Lines() string {
	host, port, _ := net.SplitHostPort(g.Addr)
	s := "In " + g.Mode.String() + " mode Tumble cannot publish an onion service. The server runs on " + g.Addr +
		"; add these lines to the Tor gateway's torrc and reload it:\n" + strings.Join(g.Torrc(), "\n") + "\n" +
		"The room's address is then in " + strings.TrimSuffix(g.Dir, "/") + "/hostname on the gateway.\n"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return s + "The server listens on " + host + ": only a Tor on this machine can reach it. For a gateway on another machine, " +
			"host with this machine's address on the gateway's network as the listen address."
	}
	return s + "Whonix: the lines go into /usr/local/etc/torrc.d/50_user.conf on the Gateway; open port " + port +
		" in the Workstation's firewall (EXTERNAL_OPEN_PORTS+=\" " + port + " \" in /usr/local/etc/whonix_firewall.d/50_user.conf); " +
		"onion-grater is not needed since Tumble does not publish it itself."
}

// Gateway returns what the Tor gateway needs when Start found Tumble in
// socks mode, or nil.
func (r *Room) Gateway() *GatewaySetup {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gateway
}

// Running reports whether the room's server runs.
func (r *Room) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.server != nil && r.server.Err() == nil
}

// Fingerprint returns the server certificate's fingerprint, or the zero
// Fingerprint before Start.
func (r *Room) Fingerprint() mumble.Fingerprint {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return mumble.Fingerprint{}
	}
	return mumble.FingerprintOf(r.server.Certificate)
}

// ServerAddr returns the server's address ("host:port"), or "" before
// Start.
func (r *Room) ServerAddr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return ""
	}
	return r.server.Addr
}

// ServerPid returns the server's process id, or 0 before Start.
func (r *Room) ServerPid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server == nil {
		return 0
	}
	return r.server.Pid()
}

// Guests returns the guests' names, sorted.
func (r *Room) Guests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.st.Guests))
	for n := range r.st.Guests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AddGuest creates a client authorization key for a new guest (with client
// authorization; otherwise it only records the name), updates a running
// onion service and returns the guest's invitation.
func (r *Room) AddGuest(ctx context.Context, name string) (string, error) {
	if !guestNameRE.MatchString(name) {
		return "", fmt.Errorf("app: guest name %q: use 1-32 letters, digits, '-' or '_'", name)
	}
	r.mu.Lock()
	if _, ok := r.st.Guests[name]; ok {
		r.mu.Unlock()
		return "", fmt.Errorf("app: there is already a guest %s", name)
	}
	k, err := tor.GenerateClientAuthKey(r.Onion())
	if err != nil {
		r.mu.Unlock()
		return "", err
	}
	if r.st.Guests == nil {
		r.st.Guests = map[string]string{}
	}
	r.st.Guests[name] = k.String()
	err = r.updateLocked(ctx)
	if err != nil {
		delete(r.st.Guests, name)
	}
	r.mu.Unlock()
	if err != nil {
		return "", err
	}
	return r.Invite(name)
}

// RevokeGuest removes a guest's key: the address stays, other guests stay
// connected, the guest's key opens nothing any more.
func (r *Room) RevokeGuest(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	line, ok := r.st.Guests[name]
	if !ok {
		return fmt.Errorf("app: no guest %s", name)
	}
	delete(r.st.Guests, name)
	if err := r.updateLocked(ctx); err != nil {
		r.st.Guests[name] = line
		return err
	}
	return nil
}

// updateLocked saves the state and gives a running onion service the
// guest list.
func (r *Room) updateLocked(ctx context.Context) error {
	if r.onion != nil && r.st.Config.ClientAuth {
		clients, err := r.clientKeys()
		if err != nil {
			return err
		}
		if err := r.onion.SetClients(ctx, clients); err != nil {
			return fmt.Errorf("app: %w", err)
		}
	}
	return r.save()
}

// Invite returns the invitation link for guest (a name from Guests, or ""
// for a link without a client key, e.g. for the host): onion address,
// suggested user name, server password, client key and certificate
// fingerprint. It contains secrets: show it only to that guest.
func (r *Room) Invite(guest string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := Bookmark{Label: r.st.Config.Name, Address: strings.TrimSuffix(r.Onion(), ".onion") + ".onion", Port: RoomPort,
		Username: guest, Password: r.st.Config.Password}
	if guest != "" {
		line, ok := r.st.Guests[guest]
		if !ok {
			return "", fmt.Errorf("app: no guest %s", guest)
		}
		if r.st.Config.ClientAuth {
			if err := b.SetClientAuthKey(line); err != nil {
				return "", fmt.Errorf("app: guest %s: %w", guest, err)
			}
		}
	}
	if r.server != nil {
		b.PinnedFingerprint = mumble.FingerprintOf(r.server.Certificate)
	} else if der, err := certificateFile(filepath.Join(r.dir, "server", murmur.CertName)); err == nil {
		b.PinnedFingerprint = mumble.FingerprintOf(der)
	}
	return FormatLink(b, LinkOptions{IncludePassword: true, Invite: true}), nil
}

// certificateFile reads a PEM certificate file (DER bytes).
func certificateFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return murmur.CertificateFromPEM(data)
}

// HostKey returns the client authorization key the host's own Tor needs
// to reach the room (with client authorization), creating the host's
// guest entry "host" if needed.
func (r *Room) HostKey(ctx context.Context) (tor.ClientAuthKey, error) {
	r.mu.Lock()
	line, ok := r.st.Guests["host"]
	r.mu.Unlock()
	if !ok {
		if _, err := r.AddGuest(ctx, "host"); err != nil {
			return tor.ClientAuthKey{}, err
		}
		r.mu.Lock()
		line = r.st.Guests["host"]
		r.mu.Unlock()
	}
	return tor.ParseClientAuthKey(line)
}

// Stop removes the onion service and stops the server; for an amnesic room
// it also removes the room's directory. Stop may be called again.
func (r *Room) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if r.onion != nil {
		errs = append(errs, r.onion.Close())
		r.onion = nil
	}
	if r.server != nil {
		errs = append(errs, r.server.Stop())
		r.server = nil
	}
	r.gateway = nil
	if r.amnesic {
		errs = append(errs, os.RemoveAll(r.dir))
	}
	return errors.Join(errs...)
}
