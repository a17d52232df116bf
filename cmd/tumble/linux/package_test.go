package linux

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// fyneApp is the part of FyneApp.toml the package is checked against.
type fyneApp struct {
	Details struct {
		Icon, Name, ID, Version string
	}
}

// TestLinuxPackageInstalls unpacks dist/tumble-VERSION-linux-ARCH.tar.xz,
// installs it into a temporary prefix with its own Makefile, checks the
// installed files and runs the installed binary's --version, then
// uninstalls it.
func TestLinuxPackageInstalls(t *testing.T) {
	root := moduleRoot(t)
	var meta fyneApp
	if _, err := toml.DecodeFile(filepath.Join(root, "FyneApp.toml"), &meta); err != nil {
		t.Fatalf("FyneApp.toml: %v", err)
	}
	if meta.Details.Version == "" || meta.Details.ID == "" {
		t.Fatalf("FyneApp.toml lacks Details.Version or Details.ID: %+v", meta.Details)
	}
	tarball := filepath.Join(root, "dist", fmt.Sprintf("tumble-%s-linux-%s.tar.xz", meta.Details.Version, runtime.GOARCH))
	st, err := os.Stat(tarball)
	if err != nil {
		if os.Getenv("TUMBLE_PACKAGE_TEST") == "1" {
			t.Fatalf("TUMBLE_PACKAGE_TEST=1 but %s is missing: run make package-linux first (%v)", tarball, err)
		}
		t.Skipf("%s not built (make package-linux; TUMBLE_PACKAGE_TEST=1 makes this a failure)", tarball)
	}
	for _, tool := range []string{"tar", "xz", "make", "install"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to unpack and install the package: %v", tool, err)
		}
	}
	t.Logf("%s: %.1f MB", filepath.Base(tarball), float64(st.Size())/1e6)

	// The archive holds one directory: the install Makefile and usr/.
	list := run(t, "", "tar", "-tJf", tarball)
	var files []string
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		if !strings.HasSuffix(l, "/") {
			files = append(files, strings.TrimPrefix(l, "./"))
		}
	}
	exe, cli, desktop, icon := "", "", "", ""
	for _, f := range files {
		switch {
		case f == "tumble/Makefile":
		case strings.HasSuffix(f, "/bin/tumble"):
			exe = f
		case strings.HasSuffix(f, "/bin/tumble-cli"):
			cli = f
		case strings.HasSuffix(f, "/share/applications/"+meta.Details.ID+".desktop"):
			desktop = f
		case strings.HasSuffix(f, "/share/pixmaps/"+meta.Details.ID+".png"):
			icon = f
		default:
			t.Errorf("unexpected file in the archive: %s", f)
		}
	}
	if exe == "" || cli == "" || desktop == "" || icon == "" || len(files) != 5 {
		t.Fatalf("archive files %v: want tumble/Makefile, bin/tumble, bin/tumble-cli, the .desktop file and the icon", files)
	}

	work := t.TempDir()
	run(t, "", "tar", "-xJf", tarball, "-C", work)
	prefix := filepath.Join(work, "prefix")
	run(t, "", "make", "-C", filepath.Join(work, "tumble"), "install", "PREFIX="+prefix)

	bin := filepath.Join(prefix, "bin", "tumble")
	desktopPath := filepath.Join(prefix, "share", "applications", meta.Details.ID+".desktop")
	iconPath := filepath.Join(prefix, "share", "pixmaps", meta.Details.ID+".png")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("installed binary %s: %v (mode %v)", bin, err, fi)
	} else {
		t.Logf("installed binary: %.1f MB", float64(fi.Size())/1e6)
	}

	// The desktop entry starts the installed command with our icon.
	entry, err := os.ReadFile(desktopPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := desktopKeys(string(entry))
	for k, want := range map[string]string{
		"Type": "Application", "Name": meta.Details.Name, "Exec": "tumble", "Icon": meta.Details.ID,
	} {
		if keys[k] != want {
			t.Errorf("desktop entry %s=%q, want %q", k, keys[k], want)
		}
	}
	if !strings.Contains(keys["Categories"], "Network;") {
		t.Errorf("desktop entry Categories=%q lacks Network", keys["Categories"])
	}
	if v, err := exec.LookPath("desktop-file-validate"); err == nil {
		if out, err := exec.Command(v, desktopPath).CombinedOutput(); err != nil {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
	}
	gotIcon, err := os.ReadFile(iconPath)
	if err != nil {
		t.Fatal(err)
	}
	wantIcon, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(meta.Details.Icon)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotIcon, wantIcon) {
		t.Errorf("installed icon differs from %s", meta.Details.Icon)
	}

	// The binary was built with the embedded Tor and without build paths.
	info := run(t, "", "go", "version", "-m", bin)
	for _, want := range []string{"-tags=nolibopusfile,libtor", "-trimpath=true", "CGO_ENABLED=1"} {
		if !strings.Contains(info, want) {
			t.Errorf("go version -m %s lacks %q:\n%s", bin, want, info)
		}
	}
	// No path of the build machine is left in the binary (-trimpath, -s -w).
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	for _, p := range []string{root, home} {
		if len(p) > 1 && bytes.Contains(data, []byte(p+"/")) {
			t.Errorf("the installed binary contains the build path %s", p)
		}
	}
	// libevent, OpenSSL and zlib are linked statically with Tor.
	if out, err := exec.Command("ldd", bin).CombinedOutput(); err == nil {
		for _, lib := range []string{"libevent", "libssl", "libcrypto", "libz.so", "not found"} {
			if strings.Contains(string(out), lib) {
				t.Errorf("ldd %s shows %q:\n%s", bin, lib, out)
			}
		}
	}

	// --version prints FyneApp.toml's version and needs no display.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "LANG=en_US.UTF-8"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	if !strings.Contains(string(out), meta.Details.Version) {
		t.Errorf("%s --version printed %q, want the version %s from FyneApp.toml", bin, out, meta.Details.Version)
	}
	t.Logf("--version: %s", strings.TrimSpace(string(out)))

	// tumble-cli, for systems without a display, is installed beside it
	// and runs without one.
	cliBin := filepath.Join(prefix, "bin", "tumble-cli")
	cmd = exec.CommandContext(ctx, cliBin, "-h")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "LANG=en_US.UTF-8"}
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "usage: tumble-cli") {
		t.Errorf("%s -h: %v\n%s", cliBin, err, out)
	}
	if info := run(t, "", "go", "version", "-m", cliBin); !strings.Contains(info, "-tags=nolibopusfile,libtor") {
		t.Errorf("%s was built without the embedded Tor:\n%s", cliBin, info)
	}

	run(t, "", "make", "-C", filepath.Join(work, "tumble"), "uninstall", "PREFIX="+prefix)
	for _, p := range []string{bin, cliBin, desktopPath, iconPath} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still there after make uninstall", p)
		}
	}
}

// desktopKeys reads the [Desktop Entry] group of a desktop file.
func desktopKeys(s string) map[string]string {
	keys := map[string]string{}
	group := ""
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			group = l
		case group == "[Desktop Entry]":
			if k, v, ok := strings.Cut(l, "="); ok {
				keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return keys
}

// run runs a command and returns its standard output; failure ends the
// test with the command's output.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the module")
	}
	return filepath.Dir(gomod)
}
