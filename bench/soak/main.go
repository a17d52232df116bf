// Command soak runs a voice call through a real Mumble 1.3 server on
// loopback and reports what it costs, as BENCH lines (see bench/run.sh):
// two tumble-cli processes (Tor off, 13 kb/s, 20 ms packets), one sending
// audio from a file device in real time, one playing it through the receive
// path into a recording. CPU time (summed over the threads' schedstat, in
// nanoseconds) and RSS come from /proc; the Opus floors are measured in this
// process, in the same run, on the same audio, next to the wake-up floor:
// the CPU time of an empty Go process woken as often as the receiver (a
// 10 ms tick and a packet every 20 ms), which on a loaded machine is most
// of what a receiver costs, and the sender's (a 20 ms tick handing a packet
// to a goroutine that writes it to a TCP socket).
//
// Phases: idle (the listener connected, nobody talking), call (-duration of
// audio; RSS is sampled every 2 s and its slope fitted after the first
// minute and over the second half), and load (a -load-tone tone sent while two busy loops per core
// run next to the call; its late loss is reported). With -pprof-dir each
// tumble-cli keeps its profiles there (tumble-cli --pprof-dir).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/voice/analysis"
	"github.com/tumble-voip/tumble/voice/codec"
	"github.com/tumble-voip/tumble/voice/wav"
)

// busyEnv makes the program a busy loop (the load of the load phase).
const busyEnv = "TUMBLE_SOAK_BUSY"

const sampleRate = 48000

// wakeEnv makes the program an empty Go process woken as often as the
// receiver is in a call: a 10 ms playback tick and a packet every 20 ms,
// doing nothing else. Its CPU time is what the wake-ups alone cost on this
// machine, now (the wake-up floor).
const wakeEnv = "TUMBLE_SOAK_WAKE"

// sendWakeEnv makes the program an empty Go process that wakes as a sender
// in a call does: a 20 ms capture tick that hands a 40-byte packet to
// another goroutine, which writes it to the TCP address in the variable
// (the soak discards it), doing nothing else. Its CPU time is the sender's
// plumbing without the codec (the sender's wake-up floor); a client that
// must never block its audio clock on the network cannot do with less.
const sendWakeEnv = "TUMBLE_SOAK_SEND_WAKE"

func main() {
	if os.Getenv(busyEnv) != "" {
		//lint:ignore SA5002 a busy loop is the point: the load phase's load
		for {
		}
	}
	if os.Getenv(wakeEnv) != "" {
		wakeLoop()
	}
	if addr := os.Getenv(sendWakeEnv); addr != "" {
		if err := sendWakeLoop(addr); err != nil {
			fmt.Fprintf(os.Stderr, "soak: send wake-up floor: %v\n", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	cli      string
	duration time.Duration
	idle     time.Duration
	loadTone time.Duration
	pprofDir string
}

func run(ctx context.Context, args []string) error {
	var c config
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.StringVar(&c.cli, "cli", os.Getenv("TUMBLE_CLI"), "tumble-cli `BINARY` (default $TUMBLE_CLI)")
	fs.DurationVar(&c.duration, "duration", 10*time.Minute, "length of the call (audio sent)")
	fs.DurationVar(&c.idle, "idle", 30*time.Second, "idle connected phase before the call")
	fs.DurationVar(&c.loadTone, "load-tone", 60*time.Second, "tone sent under CPU load after the call; 0 skips the phase")
	fs.StringVar(&c.pprofDir, "pprof-dir", "", "keep each tumble-cli's pprof profiles under `DIR`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.cli == "" {
		return errors.New("-cli or TUMBLE_CLI is required")
	}
	if c.duration < 20*time.Second {
		return fmt.Errorf("-duration %v: want at least 20s", c.duration)
	}
	dir, err := os.MkdirTemp("", "tumble-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Mkdir(filepath.Join(dir, "murmur"), 0o700); err != nil {
		return err
	}
	srv, err := murmurtest.StartProcess(ctx, filepath.Join(dir, "murmur"), murmurtest.Options{Channels: []string{"Lab"}})
	if err != nil {
		return fmt.Errorf("murmurd: %w", err)
	}
	defer srv.Close()
	h := &harness{cfg: c, dir: dir, common: []string{"--server", srv.Addr, "--tor", "off", "--channel", "Root/Lab",
		"--json", "--bitrate", "13000", "--frames-per-packet", "2"}}
	return h.run(ctx)
}

type harness struct {
	cfg    config
	dir    string
	common []string
}

func (h *harness) run(ctx context.Context) error {
	cfg := h.cfg
	ear, err := h.start(ctx, "ear", "--record-dir", filepath.Join(h.dir, "rec"))
	if err != nil {
		return err
	}
	defer ear.kill()
	if err := ear.waitEvent(ctx, "joined"); err != nil {
		return err
	}

	// Idle: connected, nobody talking.
	a, err := cpuNs(ear.pid())
	if err != nil {
		return err
	}
	if err := sleep(ctx, cfg.idle); err != nil {
		return err
	}
	b, err := cpuNs(ear.pid())
	if err != nil {
		return err
	}
	idlePct := pct(b-a, cfg.idle)

	// Call: mouth sends cfg.duration of audio from a FIFO fed in real time.
	fifo := filepath.Join(h.dir, "mouth.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("mkfifo: %w", err)
	}
	loop := signal10s()
	feedErr := make(chan error, 1)
	go func() { feedErr <- feedFIFO(fifo, loop, cfg.duration) }()
	mouth, err := h.start(ctx, "mouth", "--send-wav", fifo)
	if err != nil {
		return err
	}
	defer mouth.kill()
	if err := mouth.waitEvent(ctx, "voice-send-start"); err != nil {
		return err
	}
	t0 := time.Now()
	warm := min(10*time.Second, cfg.duration/10)
	slopeFrom := min(time.Minute, cfg.duration/3)
	end := cfg.duration - 2*time.Second
	var sendRSS, recvRSS, sendAnon, recvAnon [][2]float64
	var sendCPU0, recvCPU0, sendCPU1, recvCPU1 int64
	var cpuFrom, cpuTo time.Time
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	wake, err := startFloor(wakeEnv, "1")
	if err != nil {
		return err
	}
	defer func() {
		wake.Process.Kill()
		wake.Wait()
	}()
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sinkDone := make(chan struct{})
	go discard(sink, sinkDone)
	sendWake, err := startFloor(sendWakeEnv, sink.Addr().String())
	if err != nil {
		sink.Close()
		<-sinkDone
		return err
	}
	defer func() {
		sendWake.Process.Kill()
		sendWake.Wait()
		sink.Close()
		<-sinkDone
	}()
	var wakeCPU0, wakeCPU1, sendWakeCPU0, sendWakeCPU1 int64
	if err := sleep(ctx, warm); err != nil {
		return err
	}
	cpuFrom = time.Now()
	if wakeCPU0, err = cpuNs(wake.Process.Pid); err != nil {
		return err
	}
	if sendWakeCPU0, err = cpuNs(sendWake.Process.Pid); err != nil {
		return err
	}
	if sendCPU0, err = cpuNs(mouth.pid()); err != nil {
		return err
	}
	if recvCPU0, err = cpuNs(ear.pid()); err != nil {
		return err
	}
	for time.Since(t0) < end {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-mouth.done:
			return fmt.Errorf("sender ended early: %s", mouth.stderrTail())
		case <-tick.C:
		}
		el := time.Since(t0)
		if el < slopeFrom {
			continue
		}
		s, err1 := rssKB(mouth.pid(), "VmRSS")
		r, err2 := rssKB(ear.pid(), "VmRSS")
		sa, err3 := rssKB(mouth.pid(), "RssAnon")
		ra, err4 := rssKB(ear.pid(), "RssAnon")
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return err
		}
		m := el.Minutes()
		sendRSS = append(sendRSS, [2]float64{m, float64(s)})
		recvRSS = append(recvRSS, [2]float64{m, float64(r)})
		sendAnon = append(sendAnon, [2]float64{m, float64(sa)})
		recvAnon = append(recvAnon, [2]float64{m, float64(ra)})
	}
	cpuTo = time.Now()
	if wakeCPU1, err = cpuNs(wake.Process.Pid); err != nil {
		return err
	}
	if sendWakeCPU1, err = cpuNs(sendWake.Process.Pid); err != nil {
		return err
	}
	wake.Process.Kill()
	sendWake.Process.Kill()
	if sendCPU1, err = cpuNs(mouth.pid()); err != nil {
		return err
	}
	if recvCPU1, err = cpuNs(ear.pid()); err != nil {
		return err
	}
	if err := mouth.wait(ctx); err != nil {
		return err
	}
	if err := <-feedErr; err != nil {
		return err
	}
	window := cpuTo.Sub(cpuFrom)
	sendPct, recvPct := pct(sendCPU1-sendCPU0, window), pct(recvCPU1-recvCPU0, window)
	wakePct := pct(wakeCPU1-wakeCPU0, window)
	sendWakePct := pct(sendWakeCPU1-sendWakeCPU0, window)

	// Load: a tone under two busy loops per core.
	if cfg.loadTone > 0 {
		if err := h.loaded(ctx, ear); err != nil {
			return err
		}
	}
	// The listener's end: SIGINT, as a user's ^C.
	ear.cmd.Process.Signal(os.Interrupt)
	if err := ear.wait(ctx); err != nil {
		return err
	}
	var lossPct, missingPct float64
	if cfg.loadTone > 0 {
		if lossPct, err = ear.lateLoss("loaded"); err != nil {
			return err
		}
		pcm, err := wav.ReadFile(filepath.Join(ear.recDir, "loaded.wav"))
		if err != nil {
			return err
		}
		missingPct = toneMissingPct(pcm, cfg.loadTone)
	}

	// Floors, on the same audio, now that the call is over.
	encUs, decUs, err := opusFloors(loop)
	if err != nil {
		return err
	}
	encPct, decPct := encUs/20000*100, decUs/20000*100
	emit("call_duration_s", cfg.duration.Seconds(), "s")
	emit("call_idle_connected_pct_core", idlePct, "%")
	emit("call_recv_1spk_pct_core", recvPct, "%")
	emit("call_decode_floor_pct_core", decPct, "%")
	emit("call_recv_1spk_floor_ratio", recvPct/decPct, "x")
	emit("call_wakeup_floor_pct_core", wakePct, "%")
	emit("call_send_pct_core", sendPct, "%")
	emit("call_encode_floor_pct_core", encPct, "%")
	emit("call_send_floor_ratio", sendPct/encPct, "x")
	// Against codec plus plumbing: what the process costs beyond the
	// wake-ups any Go client of this shape pays.
	emit("call_send_wakeup_floor_pct_core", sendWakePct, "%")
	emit("call_send_plumbing_floor_ratio", sendPct/(encPct+sendWakePct), "x")
	emit("call_recv_plumbing_floor_ratio", recvPct/(decPct+wakePct), "x")
	emit("call_rss_slope_send_kb_per_min", slope(sendRSS), "KB/min")
	emit("call_rss_slope_recv_kb_per_min", slope(recvRSS), "KB/min")
	// Anonymous memory only (heaps, stacks), without the executable's
	// pages that are mapped in as code runs for the first time.
	emit("call_rss_anon_slope_send_kb_per_min", slope(sendAnon), "KB/min")
	emit("call_rss_anon_slope_recv_kb_per_min", slope(recvAnon), "KB/min")
	// The same over the call's second half: the RSS of a Go process rises
	// to a plateau (the heap to its collection goal, the collector's own
	// work buffers during its first cycles) and must stay there.
	half := cfg.duration.Minutes() / 2
	emit("call_rss_anon_late_slope_send_kb_per_min", slope(after(sendAnon, half)), "KB/min")
	emit("call_rss_anon_late_slope_recv_kb_per_min", slope(after(recvAnon, half)), "KB/min")
	emit("call_rss_anon_max_send_kb", maxY(sendAnon), "KB")
	emit("call_rss_anon_max_recv_kb", maxY(recvAnon), "KB")
	if n := len(sendRSS); n > 0 {
		emit("call_rss_send_kb", sendRSS[n-1][1], "KB")
		emit("call_rss_recv_kb", recvRSS[n-1][1], "KB")
	}
	if cfg.loadTone > 0 {
		emit("call_load_tone_late_loss_pct", lossPct, "%")
		emit("call_load_tone_missing_pct", missingPct, "%")
	}
	return nil
}

// loaded sends a cfg.loadTone tone with two busy loops per core running
// and waits until the listener has heard its end.
func (h *harness) loaded(ctx context.Context, ear *proc) error {
	tone := make([]int16, int(h.cfg.loadTone.Seconds()*sampleRate))
	for i := range tone {
		tone[i] = int16(0.3 * 32767 * math.Sin(2*math.Pi*440*float64(i)/sampleRate))
	}
	path := filepath.Join(h.dir, "tone.wav")
	if err := wav.WriteFile(path, tone); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var busy []*exec.Cmd
	defer func() {
		for _, b := range busy {
			b.Process.Kill()
			b.Wait()
		}
	}()
	for range 2 * runtime.NumCPU() {
		b := exec.Command(self)
		b.Env = append(os.Environ(), busyEnv+"=1")
		if err := b.Start(); err != nil {
			return err
		}
		busy = append(busy, b)
	}
	p, err := h.start(ctx, "loaded", "--send-wav", path)
	if err != nil {
		return err
	}
	defer p.kill()
	if err := p.wait(ctx); err != nil {
		return err
	}
	// Let the listener play out what it holds.
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}
	for _, b := range busy {
		b.Process.Kill()
		b.Wait()
	}
	busy = nil
	// Wait until the listener has written the end of the tone.
	start := ear.find("voice-start", "name", "loaded")
	if start == nil {
		return fmt.Errorf("the listener never heard the tone: %s", ear.stderrTail())
	}
	if err := ear.waitEventFor(ctx, "voice-end", "session", start["session"]); err != nil {
		return err
	}
	return nil
}

// wakeLoop wakes up as a receiver in a call does, forever.
func wakeLoop() {
	tick := time.NewTicker(10 * time.Millisecond)
	pkt := time.NewTicker(20 * time.Millisecond)
	for {
		select {
		case <-tick.C:
		case <-pkt.C:
		}
	}
}

// sendWakeLoop wakes up as a sender in a call does (see sendWakeEnv),
// until the connection to addr fails.
func sendWakeLoop(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	pkts := make(chan []byte, 16)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		pkt := make([]byte, 40)
		for range tick.C {
			pkts <- pkt
		}
	}()
	for p := range pkts {
		if _, err := c.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// startFloor starts this program as a floor process: env set to value
// (see wakeEnv, sendWakeEnv).
func startFloor(env, value string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := exec.Command(self)
	c.Env = append(os.Environ(), env+"="+value)
	return c, c.Start()
}

// discard accepts connections on l and reads them to the end, until l is
// closed; done is closed when it has returned.
func discard(l net.Listener, done chan<- struct{}) {
	defer close(done)
	var wg sync.WaitGroup
	for {
		c, err := l.Accept()
		if err != nil {
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.Copy(io.Discard, c)
			c.Close()
		}()
	}
}

// proc is one running tumble-cli.
type proc struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stderr strings.Builder

	mu     sync.Mutex
	events []map[string]any
	notify chan struct{}
	recDir string
}

func (h *harness) start(ctx context.Context, user string, extra ...string) (*proc, error) {
	args := append(append([]string{}, h.common...), "--user", user)
	args = append(args, extra...)
	if h.cfg.pprofDir != "" {
		args = append(args, "--pprof-dir", filepath.Join(h.cfg.pprofDir, user))
	}
	p := &proc{name: user, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	for i, a := range extra {
		if a == "--record-dir" {
			p.recDir = extra[i+1]
		}
	}
	p.cmd = exec.Command(h.cfg.cli, args...)
	p.cmd.Stderr = &lockedWriter{w: &p.stderr, mu: &p.mu}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", user, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				p.mu.Lock()
				p.events = append(p.events, e)
				p.mu.Unlock()
				select {
				case p.notify <- struct{}{}:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) stderrTail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stderr.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}

// wait waits for the process to exit and returns its error.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
	}
	if p.err != nil {
		return fmt.Errorf("%s: %v: %s", p.name, p.err, p.stderrTail())
	}
	return nil
}

func (p *proc) waitEvent(ctx context.Context, kind string) error {
	return p.waitEventFor(ctx, kind, "", nil)
}

// waitEventFor waits until p printed an event of kind (with field key equal
// to value, if key is set).
func (p *proc) waitEventFor(ctx context.Context, kind, key string, value any) error {
	for {
		if p.find(kind, key, value) != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			if p.find(kind, key, value) != nil {
				return nil
			}
			return fmt.Errorf("%s exited before %q: %v: %s", p.name, kind, p.err, p.stderrTail())
		case <-p.notify:
		}
	}
}

func (p *proc) find(kind, key string, value any) map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.events {
		if e["event"] == kind && (key == "" || e[key] == value) {
			return e
		}
	}
	return nil
}

// lateLoss returns the listener's late loss for the speaker named name, from
// its voice-stats (matched by the session of the speaker's voice-start).
func (p *proc) lateLoss(name string) (float64, error) {
	start := p.find("voice-start", "name", name)
	if start == nil {
		return 0, fmt.Errorf("%s never heard %s", p.name, name)
	}
	st := p.find("voice-stats", "session", start["session"])
	if st == nil {
		return 0, fmt.Errorf("%s printed no voice-stats for %s", p.name, name)
	}
	v, ok := st["late_loss_pct"].(float64)
	if !ok {
		return 0, fmt.Errorf("voice-stats without late_loss_pct: %v", st)
	}
	return v, nil
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// cpuNs is the CPU time of every thread of pid, in nanoseconds
// (/proc/PID/task/*/schedstat: exact, unlike the clock ticks of stat).
func cpuNs(pid int) (int64, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("process %d: no schedstat", pid)
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", t, err)
		}
		sum += n
	}
	return sum, nil
}

// rssKB is a resident set size of pid in KB: field VmRSS (all) or
// RssAnon (anonymous memory) of /proc/PID/status.
func rssKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("process %d: no %s", pid, field)
}

func pct(ns int64, over time.Duration) float64 {
	return float64(ns) / float64(over.Nanoseconds()) * 100
}

// after returns the points of pts with x at or after from.
func after(pts [][2]float64, from float64) [][2]float64 {
	for i, p := range pts {
		if p[0] >= from {
			return pts[i:]
		}
	}
	return nil
}

// maxY returns the largest y of pts, 0 if there are none.
func maxY(pts [][2]float64) float64 {
	var m float64
	for _, p := range pts {
		m = max(m, p[1])
	}
	return m
}

// slope is the least-squares slope of y over x.
func slope(pts [][2]float64) float64 {
	n := float64(len(pts))
	if n < 2 {
		return math.NaN()
	}
	var sx, sy, sxx, sxy float64
	for _, p := range pts {
		sx += p[0]
		sy += p[1]
		sxx += p[0] * p[0]
		sxy += p[0] * p[1]
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func emit(name string, v float64, unit string) {
	fmt.Printf("BENCH %s=%.3f %s\n", name, v, unit)
}

// signal10s is 10 s of speech-like audio: a voiced tone with syllable-rate
// amplitude modulation over noise, so the encoder works as on a voice.
func signal10s() []int16 {
	pcm := make([]int16, 10*sampleRate)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range pcm {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		t := float64(i) / sampleRate
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		f0 := 140 + 30*math.Sin(2*math.Pi*0.5*t)
		v := env * (0.25*math.Sin(2*math.Pi*f0*t) + 0.1*math.Sin(2*math.Pi*3*f0*t))
		v += 0.02 * (float64(x>>11)/(1<<53)*2 - 1)
		pcm[i] = int16(v * 32767)
	}
	return pcm
}

// feedFIFO writes a streaming WAV (data size 0: read to the end) of d of
// loop, repeated, into the FIFO at path; the reader paces it.
func feedFIFO(path string, loop []int16, d time.Duration) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], 36)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], sampleRate)
	binary.LittleEndian.PutUint32(hdr[28:], sampleRate*2)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	w.Write(hdr)
	n := int(d.Seconds() * sampleRate)
	var b [2]byte
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint16(b[:], uint16(loop[i%len(loop)]))
		if _, err := w.Write(b[:]); err != nil {
			f.Close()
			return fmt.Errorf("feeding the sender: %w", err)
		}
	}
	return errors.Join(w.Flush(), f.Close())
}

// opusFloors measures libopus alone on loop, in CPU time of this thread:
// encoding (13 kb/s, 20 ms, complexity 10, as tumble-cli sends) and
// decoding, in microseconds per 20 ms packet.
func opusFloors(loop []int16) (encUs, decUs float64, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	enc, err := codec.NewEncoder(codec.EncoderConfig{Bitrate: 13000, FrameMs: 20, Complexity: 10})
	if err != nil {
		return 0, 0, err
	}
	dec, err := codec.NewDecoder()
	if err != nil {
		return 0, 0, err
	}
	const frame = 960
	packets := len(loop) / frame
	const rounds = 3
	buf := make([]byte, codec.MaxPacketBytes)
	var pkts [][]byte
	t0 := threadCPU()
	for r := range rounds {
		for i := range packets {
			n, err := enc.Encode(loop[i*frame:(i+1)*frame], buf)
			if err != nil {
				return 0, 0, err
			}
			if r == 0 {
				pkts = append(pkts, append([]byte(nil), buf[:n]...))
			}
		}
	}
	encUs = float64(threadCPU()-t0) / 1e3 / float64(rounds*packets)
	pcm := make([]int16, frame)
	t0 = threadCPU()
	for range rounds {
		for _, p := range pkts {
			if _, err := dec.Decode(p, pcm); err != nil {
				return 0, 0, err
			}
		}
	}
	decUs = float64(threadCPU()-t0) / 1e3 / float64(rounds*len(pkts))
	return encUs, decUs, nil
}

// threadCPU is the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	var ru syscall.Rusage
	const rusageThread = 1
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// toneMissingPct is how much of a tone of length d is missing from pcm:
// 10 ms blocks above -30 dBFS, against d.
func toneMissingPct(pcm []int16, d time.Duration) float64 {
	const block = sampleRate / 100
	heard := 0
	for off := 0; off+block <= len(pcm); off += block {
		if analysis.DBFS(pcm[off:off+block]) > -30 {
			heard++
		}
	}
	want := int(d / (10 * time.Millisecond))
	return math.Max(0, float64(want-heard)/float64(want)*100)
}
