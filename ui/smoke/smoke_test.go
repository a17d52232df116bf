package smoke

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble/murmurtest"
	"github.com/tumble-voip/tumble/ui/internal/xvfbtest"
)

// Names the test looks for on the screen. They are chosen to be read
// reliably by tesseract and to appear nowhere but in the channel tree.
const (
	smokeLabel   = "Smoke murmur"
	smokeChannel = "Lighthouse"
	smokeUser    = "Zebedee"
)

// requireTools skips (or, with TUMBLE_REQUIRE_SERVERS=1, fails) the test
// when a program it needs is missing.
func requireTools(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			msg := fmt.Sprintf("smoke test needs %s (apt-get install xvfb imagemagick xdotool tesseract-ocr x11-utils)", n)
			if os.Getenv("TUMBLE_REQUIRE_SERVERS") == "1" {
				t.Fatal(msg + " (TUMBLE_REQUIRE_SERVERS=1)")
			}
			t.Skip(msg)
		}
	}
}

// outDir is where screenshots go: $TUMBLE_SMOKE_OUT if set (kept), else a
// temporary directory.
func outDir(t *testing.T) string {
	if d := os.Getenv("TUMBLE_SMOKE_OUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// The tumble binary the tests run, built once for the package (see
// buildTumble).
var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildTumble returns cmd/tumble built once for the package (or
// $TUMBLE_BIN). Call it before starting a test's deadline: a build takes
// what it takes on a loaded machine.
func buildTumble(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TUMBLE_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		if buildDir, buildErr = os.MkdirTemp("", "tumble-smoke-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "tumble")
		cmd := exec.Command("go", "build", "-tags", "nolibopusfile", "-o", builtBin, "./cmd/tumble")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build cmd/tumble: %v", buildErr)
	}
	return builtBin
}

// startXvfb starts an X server on a free display and returns its name.
func startXvfb(t *testing.T, ctx context.Context) string {
	return xvfbtest.Start(t, ctx)
}

// writeBookmark prepares a configuration directory with one bookmark for
// the server at port, joining smokeChannel.
func writeBookmark(t *testing.T, dir string, port int) {
	st, err := app.OpenStorage(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	store, err := app.OpenBookmarkStore(st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Add(app.Bookmark{Label: smokeLabel, Address: "127.0.0.1", Port: port,
		Username: smokeUser, Channel: []string{smokeChannel}}); err != nil {
		t.Fatal(err)
	}
}

// word is one word tesseract found, with its box in pixels.
type word struct {
	text                     string
	left, top, width, height int
}

// ocr reads the words of an image with tesseract.
func ocr(ctx context.Context, png string) ([]word, error) {
	// Scale up first: Fyne's 14 px text is small for tesseract.
	big := strings.TrimSuffix(png, ".png") + "-x2.png"
	if out, err := exec.CommandContext(ctx, "convert", png, "-resize", "200%", big).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("convert: %v: %s", err, out)
	}
	defer os.Remove(big)
	out, err := exec.CommandContext(ctx, "tesseract", big, "-", "--psm", "11", "tsv").Output()
	if err != nil {
		return nil, fmt.Errorf("tesseract: %v", err)
	}
	rd := csv.NewReader(bytes.NewReader(out))
	rd.Comma = '\t'
	rd.LazyQuotes = true
	rd.FieldsPerRecord = -1
	var words []word
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tesseract output: %v", err)
		}
		if len(rec) < 12 || rec[0] == "level" || strings.TrimSpace(rec[11]) == "" {
			continue
		}
		n := make([]int, 4)
		for i := range n {
			n[i], _ = strconv.Atoi(rec[6+i])
			n[i] /= 2 // back to screen pixels
		}
		words = append(words, word{text: strings.TrimSpace(rec[11]), left: n[0], top: n[1], width: n[2], height: n[3]})
	}
	return words, nil
}

// find returns the first word equal to text (ignoring case and trailing
// punctuation).
func find(words []word, text string) (word, bool) {
	for _, w := range words {
		if strings.EqualFold(strings.Trim(w.text, ".,:;|"), text) {
			return w, true
		}
	}
	return word{}, false
}

// treeCheck checks that the Channels pane (between the "Channels" and
// "Chat" titles) shows the root channel, the channel and the user below
// it, each indented further than the row above. It returns why not.
func treeCheck(words []word) error {
	chTitle, ok := find(words, "Channels")
	if !ok {
		return fmt.Errorf("no Channels pane title on the screen")
	}
	var chat word
	found := false
	for _, w := range words {
		if strings.EqualFold(w.text, "Chat") && w.left > chTitle.left && abs(w.top-chTitle.top) < 10 {
			chat, found = w, true
		}
	}
	if !found {
		return fmt.Errorf("no Chat pane title beside the Channels pane")
	}
	inPane := func(name string) (word, error) {
		for _, w := range words {
			if strings.EqualFold(strings.Trim(w.text, ".,:;|"), name) &&
				w.left >= chTitle.left-4 && w.left < chat.left && w.top > chTitle.top {
				return w, nil
			}
		}
		return word{}, fmt.Errorf("%q is not in the Channels pane", name)
	}
	root, err := inPane("Root")
	if err != nil {
		return err
	}
	channel, err := inPane(smokeChannel)
	if err != nil {
		return err
	}
	user, err := inPane(smokeUser)
	if err != nil {
		return err
	}
	if !(root.top < channel.top && channel.top < user.top) {
		return fmt.Errorf("rows out of order: Root at y=%d, %s at y=%d, %s at y=%d",
			root.top, smokeChannel, channel.top, smokeUser, user.top)
	}
	if !(root.left < channel.left && channel.left < user.left) {
		return fmt.Errorf("rows not indented as a tree: Root at x=%d, %s at x=%d, %s at x=%d",
			root.left, smokeChannel, channel.left, smokeUser, user.left)
	}
	return nil
}

// filesUnder lists everything below dir.
func filesUnder(t *testing.T, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// redPixels counts the strongly red pixels of a PNG inside r.
func redPixels(path string, r image.Rectangle) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("decode %s: %v", path, err)
	}
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if cr>>8 > 200 && cg>>8 < 110 && cb>>8 < 110 {
				n++
			}
		}
	}
	return n, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestSmoke starts the real binary under Xvfb, connects to a local murmur
// with Tor off, and checks the screenshot shows the channel tree.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke test skipped with -short")
	}
	requireTools(t, "Xvfb", "import", "tesseract", "convert", "xdotool", "xprop")
	bin := buildTumble(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	srv := murmurtest.Start(t, murmurtest.Options{Version: murmurtest.V13, Channels: []string{smokeChannel}})
	display := startXvfb(t, ctx)
	cfgDir := t.TempDir()
	writeBookmark(t, cfgDir, srv.Port)
	out := outDir(t)

	// Before connecting: the window is up and the tree is empty.
	home := t.TempDir() // Fyne must not write into the real home
	env := append(os.Environ(), "DISPLAY="+display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"LANG=en_US.UTF-8", "FYNE_THEME=light")
	idle := exec.CommandContext(ctx, bin, "--config-dir", cfgDir, "--tor", "off", "--audio", "null")
	idle.Env = env
	idlePNG := filepath.Join(out, "idle.png")
	runAndShoot(t, ctx, idle, display, step{shot: idlePNG, check: func(words []word) error {
		// Tesseract cannot read white on red; the banner is the only
		// red on the screen, so look for its colour.
		if n, err := redPixels(idlePNG, image.Rect(0, 0, 640, 60)); err != nil {
			return err
		} else if n < 2000 {
			return fmt.Errorf("no red UNPROTECTED banner at the top left (%d red pixels)", n)
		}
		if err := treeCheck(words); err == nil {
			return fmt.Errorf("the tree shows before connecting")
		}
		if _, ok := find(words, "Smoke"); !ok {
			return fmt.Errorf("the bookmark %q is not on the screen", smokeLabel)
		}
		return windowIcon(ctx, display)
	}})

	// Amnesic mode: the window says so, and nothing lands in HOME (Fyne
	// included) or in a configuration directory.
	amnesicHome := t.TempDir()
	amnesicCfg := filepath.Join(t.TempDir(), "not-created")
	amnesic := exec.CommandContext(ctx, bin, "--amnesic", "--config-dir", amnesicCfg, "--tor", "off", "--audio", "null")
	amnesic.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+amnesicHome,
		"XDG_CONFIG_HOME="+filepath.Join(amnesicHome, ".config"), "XDG_CACHE_HOME="+filepath.Join(amnesicHome, ".cache"),
		"LANG=en_US.UTF-8")
	runAndShoot(t, ctx, amnesic, display, step{shot: filepath.Join(out, "amnesic.png"), check: func(words []word) error {
		if _, ok := find(words, "Amnesic"); !ok {
			return fmt.Errorf("the amnesic mode notice is not on the screen")
		}
		return nil
	}})
	if left := filesUnder(t, amnesicHome); len(left) > 0 {
		t.Errorf("amnesic mode wrote into HOME: %v", left)
	}
	if _, err := os.Stat(amnesicCfg); err == nil {
		t.Errorf("amnesic mode created the configuration directory %s", amnesicCfg)
	}

	cmd := exec.CommandContext(ctx, bin, "--config-dir", cfgDir, "--tor", "off", "--audio", "null", "--connect", smokeLabel)
	cmd.Env = env
	// Connected: the tree; then the push-to-talk key, held with xdotool,
	// lights the transmitting indicator until it is released.
	xdotool := func(args ...string) func() error {
		return func() error {
			c := exec.CommandContext(ctx, "xdotool", args...)
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil {
				return fmt.Errorf("xdotool %v: %v: %s", args, err, out)
			}
			return nil
		}
	}
	transmitting := func(want bool) func([]word) error {
		return func(words []word) error {
			if _, ok := find(words, "Transmitting"); ok != want {
				return fmt.Errorf("transmitting indicator shown: %v, want %v", ok, want)
			}
			return nil
		}
	}
	runAndShoot(t, ctx, cmd, display,
		step{shot: filepath.Join(out, "connected.png"), check: treeCheck},
		step{shot: filepath.Join(out, "ptt-held.png"), action: func() error {
			if err := xdotool("mousemove", "560", "400")(); err != nil {
				return err
			}
			return xdotool("keydown", "Control_R")()
		}, check: transmitting(true)},
		step{shot: filepath.Join(out, "ptt-released.png"), action: xdotool("keyup", "Control_R"), check: transmitting(false)},
	)
	t.Logf("screenshots in %s", out)
}

// windowIcon checks that Tumble's window carries our icon
// (_NET_WM_ICON, which desktops show in task bars and switchers).
func windowIcon(ctx context.Context, display string) error {
	// Print only the first icon's width and height.
	out, err := exec.CommandContext(ctx, "xprop", "-display", display, "-name", "Tumble", "-notype",
		"-f", "_NET_WM_ICON", "32c", "=$0,$1\\n", "_NET_WM_ICON").CombinedOutput()
	if err != nil {
		return fmt.Errorf("xprop: %v: %.200s", err, out)
	}
	var w, h int
	if _, err := fmt.Sscanf(string(out), "_NET_WM_ICON=%d,%d", &w, &h); err != nil || w < 32 || w != h {
		return fmt.Errorf("the window has no square icon of 32 pixels or more: %.200q", out)
	}
	return nil
}

// step is one check of a running tumble: an optional action, then
// screenshots until check accepts the words read from one.
type step struct {
	shot   string
	action func() error
	check  func([]word) error
}

// runAndShoot starts cmd, runs the steps in order (each gets 40 s), stops
// cmd with SIGINT and checks that it exited cleanly.
func runAndShoot(t *testing.T, ctx context.Context, cmd *exec.Cmd, display string, steps ...step) {
	t.Helper()
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tumble: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()

	for _, st := range steps {
		if st.action != nil {
			if err := st.action(); err != nil {
				t.Fatalf("%s: %v", filepath.Base(st.shot), err)
			}
		}
		deadline := time.Now().Add(40 * time.Second)
		var lastErr error
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				t.Fatalf("tumble exited early: %v\n%s", waitErr, logBuf.String())
			case <-time.After(time.Second):
			}
			shot := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", st.shot)
			if out, err := shot.CombinedOutput(); err != nil {
				lastErr = fmt.Errorf("import: %v: %s", err, out)
				continue
			}
			words, err := ocr(ctx, st.shot)
			if err != nil {
				t.Fatal(err)
			}
			if lastErr = st.check(words); lastErr == nil {
				break
			}
		}
		if lastErr != nil {
			t.Fatalf("%s: %v\nscreenshot: %s\ntumble's output:\n%s", filepath.Base(st.shot), lastErr, st.shot, logBuf.String())
		}
	}
	// A clean exit on SIGINT.
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("tumble exited with %v after SIGINT\n%s", waitErr, logBuf.String())
		}
	case <-time.After(15 * time.Second):
		t.Errorf("tumble did not exit within 15 s of SIGINT\n%s", logBuf.String())
	}
}
