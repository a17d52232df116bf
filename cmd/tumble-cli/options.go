package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
	"github.com/tumble-voip/tumble/voice"
	"github.com/tumble-voip/tumble/voice/vad"
)

// options holds the parsed command line.
type options struct {
	server          string
	user            string
	password        string
	channel         string
	createChannel   bool
	tor             string
	torrc           string
	torDataDir      string
	amnesic         bool
	clientAuth      string
	sendWAV         string
	inputDevice     string // capture the voice to send from this sound device
	outputDevice    string // play received voice on this sound device
	whisper         string
	recordDir       string
	recordMax       int64 // MB
	trustFirstUse   bool
	say             string
	waitUser        string // wait for this user before --say and --send-wav
	sayPrivate      string // NAME=TEXT
	duration        time.Duration
	bitrate         int
	framesPerPacket int
	seqPerPacket    bool // number packets +1 each, not per 10 ms frame
	transmit        vad.Mode
	transmitName    string // as given to --transmit
	vadSilence      int    // voice activation thresholds, Mumble's amplitude percent
	vadSpeech       int
	voiceHold       time.Duration
	noiseSuppress   int     // dB, negative; 0 off
	maxAmplify      float64 // Mumble's max amplification; 0 turns the AGC off
	jsonOut         bool
	pin             mumble.Fingerprint
	certFile        string
	connectTimeout  time.Duration
	tokens          []string
	isolation       string
	bridges         []string // bridge lines from --bridge and --bridges-file
	pprofDir        string   // hidden: keep pprof profiles of the run here (bench/soak)
	e2e             bool     // encrypted room in --channel
	e2eIdentity     string   // E2E identity key file
	e2eTrust        string   // known members' keys file
	e2eMembers      int      // wait for this many members before sending
	clientAuthLine  string   // client authorization key from --link-file
}

// usageHeader is printed above the flag list by --help.
const usageHeader = `usage: tumble-cli --server HOST:PORT --user NAME [flags]

tumble-cli is Tumble's headless Mumble client: it connects (over Tor unless
--tor off), joins a channel, sends text and voice from a WAV file, records what
it hears, prints events, and disconnects cleanly.

flags:
`

// parseOptions parses args. Errors are one line; --help returns flag.ErrHelp.
func parseOptions(args []string, stderr io.Writer, getenv func(string) string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("tumble-cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		printVisibleDefaults(fs)
	}
	passwordFile, linkFile := "", ""
	tokens := ""
	fs.StringVar(&o.server, "server", "", "Mumble server `HOST:PORT` (a .onion name is sent to Tor as a name)")
	fs.StringVar(&o.user, "user", "", "user `NAME`")
	fs.StringVar(&passwordFile, "password-file", "", "read the server or account password from `FILE` (else env TUMBLE_PASSWORD)")
	fs.StringVar(&tokens, "tokens", "", "comma-separated access `TOKENS`")
	fs.StringVar(&o.channel, "channel", "", "join channel `PATH`, e.g. Root/Lab (the first element names the root channel)")
	fs.BoolVar(&o.createChannel, "create-channel", false, "create the last element of --channel as a temporary channel if it does not exist")
	fs.StringVar(&o.tor, "tor", "", "Tor `MODE`: embedded, socks=HOST:PORT (an existing Tor), or off (direct, UNPROTECTED);\ndefault embedded, or the gateway's SOCKS port on a Whonix workstation")
	fs.StringVar(&o.torrc, "torrc", "", "extra torrc lines for the embedded Tor from `FILE` (the only way to use a test network)")
	fs.Func("bridge", "reach Tor through the bridge `LINE` (repeatable), e.g. \"obfs4 IP:PORT FINGERPRINT cert=... iat-mode=0\"\n(embedded Tor only; get lines at https://bridges.torproject.org)", func(v string) error {
		o.bridges = append(o.bridges, v)
		return nil
	})
	bridgesFile := ""
	fs.StringVar(&bridgesFile, "bridges-file", "", "read bridge lines from `FILE`, one per line (as --bridge)")
	fs.StringVar(&o.torDataDir, "tor-data-dir", "", "embedded Tor data `DIR` (default under the user config directory)")
	fs.BoolVar(&o.amnesic, "amnesic", false, "keep Tor state in a temporary directory removed on exit; write nothing else")
	fs.StringVar(&linkFile, "link-file", "", "take server, user, password, pinned certificate and client key from the mumble:// link\n(an invitation) in `FILE`; other flags override")
	fs.StringVar(&o.clientAuth, "client-auth-file", "", "onion client authorization key `FILE` (<addr>:descriptor:x25519:<key>)")
	fs.StringVar(&o.isolation, "isolation", "", "SOCKS isolation `USER:PASS` for this server's circuits (default: random per run)")
	fs.StringVar(&o.sendWAV, "send-wav", "", "send `FILE` (48 kHz mono 16-bit WAV) as voice in real time, through the app's send path\n(see --transmit, --noise-suppression, --max-amplification)")
	fs.StringVar(&o.inputDevice, "input-device", "", "send the sound of the capture device `NAME` (its name or ID as the sound system lists it) as voice,\nthrough the app's send path and device code, until --for ends (instead of --send-wav)")
	fs.StringVar(&o.outputDevice, "output-device", "", "play received voice on the playback device `NAME` (name or ID), through the app's receive path\nand device code (instead of --record-dir)")
	fs.StringVar(&o.whisper, "whisper", "", "send --send-wav only to the user `NAME` (whisper) instead of the channel")
	fs.StringVar(&o.recordDir, "record-dir", "", "record each known speaker to `DIR`/NAME.wav (48 kHz mono; silence is a hole in the file, taking no disk space)")
	fs.Int64Var(&o.recordMax, "record-max", 1024, "stop with an error once the recordings hold `MB` megabytes")
	fs.StringVar(&o.say, "say", "", "send `TEXT` to the channel")
	fs.StringVar(&o.waitUser, "wait-for-user", "", "wait until the user `NAME` is on the server before --say and --send-wav")
	fs.StringVar(&o.sayPrivate, "say-private", "", "send a private text message: `NAME=TEXT` (after --say; end to end encrypted with --e2e\nwhen NAME is a member of the room, else in clear)")
	fs.DurationVar(&o.duration, "for", 0, "stay connected for `DURATION`, then disconnect (default: until --send-wav ends; with --record-dir until interrupted; otherwise once connected, joined and --say sent)")
	fs.IntVar(&o.bitrate, "bitrate", 13000, "Opus bitrate in `bit/s` (lowered to fit the server's bandwidth limit)")
	fs.IntVar(&o.framesPerPacket, "frames-per-packet", 2, "10 ms audio frames per packet: 1, 2, 4 or 6")
	fs.BoolVar(&o.seqPerPacket, "seq-per-packet", false, "number --send-wav packets +1 per packet, as gumble-based bots do, instead of per 10 ms frame\n(for testing receivers against such senders)")
	transmit := "continuous"
	fs.StringVar(&transmit, "transmit", transmit, "`MODE` of --send-wav: continuous (the whole file) or voice-activity (from where the level rises\nabove --vad-speech-above until it has stayed below --vad-silence-below for --voice-hold)")
	fs.IntVar(&o.vadSilence, "vad-silence-below", 30, "voice activity: speech ends below this amplitude `PERCENT` (Mumble's scale: 30% = -67 dBFS)")
	fs.IntVar(&o.vadSpeech, "vad-speech-above", 50, "voice activity: speech starts above this amplitude `PERCENT` (50% = -48 dBFS)")
	fs.DurationVar(&o.voiceHold, "voice-hold", 250*time.Millisecond, "voice activity: keep transmitting this `DURATION` after speech ends")
	fs.IntVar(&o.noiseSuppress, "noise-suppression", 0, "noise suppression for --send-wav in `DB`, e.g. -30 (Mumble's default) or -60; 0 is off")
	fs.Float64Var(&o.maxAmplify, "max-amplification", 0, "automatic gain control for --send-wav: Mumble's max amplification `X`, 1 to 20\n(the gain stops at floor(20*log10(1.5*X)) dB); 0 is off")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON object per line for every event")
	fs.TextVar(&o.pin, "pin", mumble.Fingerprint{}, "expected server certificate SHA-256 `HEX` (a mismatch is an error)")
	fs.BoolVar(&o.trustFirstUse, "trust-first-use", false, "accept a certificate that is neither pinned nor valid for the server's DNS name\n(without it or --pin such a server is refused, with its fingerprint, before anything is sent)")
	fs.StringVar(&o.certFile, "cert", "", "client certificate and key `FILE` (PEM) to identify with")
	fs.BoolVar(&o.e2e, "e2e", false, "encrypt voice and chat end to end among the Tumble users in --channel who also use --e2e\n(--send-wav and --say go only to them)")
	fs.StringVar(&o.e2eIdentity, "e2e-identity", "", "E2E identity key `FILE` (created if missing; default: a new key each run)")
	fs.StringVar(&o.e2eTrust, "e2e-trust", "", "known members' keys `FILE` (trust on first use; updated on exit)")
	fs.IntVar(&o.e2eMembers, "e2e-members", 0, "with --e2e, wait until `N` other members' keys are in, and they acknowledged ours, before --say and --send-wav")
	fs.DurationVar(&o.connectTimeout, "connect-timeout", 0, "connection `TIMEOUT` (default suits onion services)")
	fs.StringVar(&o.pprofDir, profileFlag, "", "debugging: write pprof profiles of the run to `DIR` (not listed by --help)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var link *app.Bookmark
	if linkFile != "" {
		data, err := os.ReadFile(linkFile)
		if err != nil {
			return nil, fmt.Errorf("--link-file: %w", err)
		}
		b, err := app.ParseLink(string(data))
		if err != nil {
			return nil, fmt.Errorf("--link-file %s: %w", linkFile, err)
		}
		link = &b
		if o.server == "" {
			o.server = net.JoinHostPort(b.Address, strconv.Itoa(b.Port))
		}
		if o.user == "" {
			o.user = b.Username
		}
		if o.pin.IsZero() {
			o.pin = b.PinnedFingerprint
		}
		if o.clientAuth == "" && !b.ClientAuthKey.IsZero() {
			o.clientAuthLine = b.ClientAuthKey.String()
		}
	}
	if o.server == "" {
		return nil, errors.New("--server HOST:PORT is required")
	}
	host, port, err := net.SplitHostPort(o.server)
	if err != nil || host == "" {
		return nil, fmt.Errorf("--server %q: want HOST:PORT", o.server)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("--server %q: bad port", o.server)
	}
	if o.user == "" {
		return nil, errors.New("--user NAME is required")
	}
	switch o.framesPerPacket {
	case 1, 2, 4, 6:
	default:
		return nil, fmt.Errorf("--frames-per-packet %d: want 1, 2, 4 or 6", o.framesPerPacket)
	}
	if o.bitrate < 6000 || o.bitrate > 510000 {
		return nil, fmt.Errorf("--bitrate %d: want 6000 to 510000 bit/s", o.bitrate)
	}
	if o.recordMax < 1 || o.recordMax > 1<<30 {
		return nil, fmt.Errorf("--record-max %d: want 1 to %d MB", o.recordMax, 1<<30)
	}
	if o.duration < 0 {
		return nil, fmt.Errorf("--for %v: must not be negative", o.duration)
	}
	if o.createChannel && o.channel == "" {
		return nil, errors.New("--create-channel needs --channel")
	}
	if o.sayPrivate != "" {
		if name, _, ok := strings.Cut(o.sayPrivate, "="); !ok || name == "" {
			return nil, errors.New("--say-private wants NAME=TEXT")
		}
	}
	if o.sendWAV != "" && o.inputDevice != "" {
		return nil, errors.New("--send-wav and --input-device both give the voice to send: choose one")
	}
	if o.inputDevice != "" && o.duration == 0 {
		return nil, errors.New("--input-device needs --for (how long to send)")
	}
	if o.outputDevice != "" && o.recordDir != "" {
		return nil, errors.New("--output-device and --record-dir both take the received voice: choose one")
	}
	if o.whisper != "" && !o.sending() {
		return nil, errors.New("--whisper needs --send-wav or --input-device")
	}
	if err := o.checkSendProcessing(fs, transmit); err != nil {
		return nil, err
	}
	if bridgesFile != "" {
		b, err := os.ReadFile(bridgesFile)
		if err != nil {
			return nil, fmt.Errorf("--bridges-file: %w", err)
		}
		o.bridges = append(o.bridges, tor.SplitBridgeLines(string(b))...)
	}
	if len(o.bridges) > 0 {
		bs, err := tor.ParseBridgeLines(o.bridges)
		if err != nil {
			return nil, fmt.Errorf("--bridge: %w", err)
		}
		if len(bs) == 0 {
			return nil, fmt.Errorf("--bridges-file %s: no bridge lines", bridgesFile)
		}
	}
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--password-file: %w", err)
		}
		o.password = strings.TrimRight(string(b), "\r\n")
	} else if link != nil && link.Password != "" {
		o.password = link.Password
	} else {
		o.password = getenv("TUMBLE_PASSWORD")
	}
	if tokens != "" {
		for _, t := range strings.Split(tokens, ",") {
			if t = strings.TrimSpace(t); t != "" {
				o.tokens = append(o.tokens, t)
			}
		}
	}
	return o, nil
}

// printVisibleDefaults prints fs's flags like PrintDefaults, without the
// hidden debugging flag.
func printVisibleDefaults(fs *flag.FlagSet) {
	visible := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	visible.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == profileFlag {
			return
		}
		visible.Var(f.Value, f.Name, f.Usage)
		visible.Lookup(f.Name).DefValue = f.DefValue
	})
	visible.PrintDefaults()
}

// checkSendProcessing parses --transmit and checks the send path's
// processing flags, which only make sense with --send-wav (and the voice
// activity ones only with --transmit voice-activity).
func (o *options) checkSendProcessing(fs *flag.FlagSet, transmit string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !o.sending() {
		for _, name := range []string{"seq-per-packet", "transmit", "vad-silence-below", "vad-speech-above", "voice-hold", "noise-suppression", "max-amplification"} {
			if set[name] {
				return fmt.Errorf("--%s needs --send-wav or --input-device", name)
			}
		}
	}
	o.transmitName = transmit
	switch transmit {
	case "continuous":
		o.transmit = vad.Continuous
		for _, name := range []string{"vad-silence-below", "vad-speech-above", "voice-hold"} {
			if set[name] {
				return fmt.Errorf("--%s needs --transmit voice-activity", name)
			}
		}
	case "voice-activity":
		o.transmit = vad.VoiceActivity
	default:
		return fmt.Errorf("--transmit %q: want continuous or voice-activity", transmit)
	}
	if o.vadSilence < 0 || o.vadSilence > 100 {
		return fmt.Errorf("--vad-silence-below %d: want a percentage, 0 to 100", o.vadSilence)
	}
	if o.vadSpeech < 0 || o.vadSpeech > 100 {
		return fmt.Errorf("--vad-speech-above %d: want a percentage, 0 to 100", o.vadSpeech)
	}
	if o.vadSpeech < o.vadSilence {
		return fmt.Errorf("--vad-speech-above %d is below --vad-silence-below %d", o.vadSpeech, o.vadSilence)
	}
	if o.voiceHold < 0 || o.voiceHold > time.Minute {
		return fmt.Errorf("--voice-hold %v: want 0 to 1m", o.voiceHold)
	}
	if o.noiseSuppress > 0 || o.noiseSuppress < -90 {
		return fmt.Errorf("--noise-suppression %d: want 0 (off) or -1 to -90 dB", o.noiseSuppress)
	}
	if !(o.maxAmplify == 0 || o.maxAmplify >= 1 && o.maxAmplify <= 20) {
		return fmt.Errorf("--max-amplification %v: want 0 (off) or 1 to 20", o.maxAmplify)
	}
	return nil
}

// sending reports whether voice is sent: --send-wav or --input-device.
func (o *options) sending() bool { return o.sendWAV != "" || o.inputDevice != "" }

// sendConfig is the Sender's configuration for --send-wav: the file is the
// microphone, nothing is played (no echo to cancel), and by default the
// audio goes out unprocessed, continuously.
func (o *options) sendConfig() voice.SendConfig {
	return voice.SendConfig{
		Bitrate:            o.bitrate,
		FrameMs:            10 * o.framesPerPacket,
		Complexity:         10,
		Transmit:           o.transmit,
		VADMeasure:         vad.Amplitude,
		SilenceBelow:       float64(o.vadSilence) / 100,
		SpeechAbove:        float64(o.vadSpeech) / 100,
		Hold:               o.voiceHold,
		NoiseSuppressionDB: o.noiseSuppress,
		MaxAmplification:   o.maxAmplify,
		EchoCancel:         voice.EchoOff,
	}
}
