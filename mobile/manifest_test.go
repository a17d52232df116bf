package mobile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// binresCheck runs inside a copy of fyne.io/tools' binres package (the
// encoder `fyne package` uses for AndroidManifest.xml) and checks what the
// Android package manager will read from Tumble's manifest. binres drops
// unknown flag names and enum values silently, so the encoded numbers are
// what must be checked.
const binresCheck = `package binres

import (
	"bytes"
	"os"
	"testing"
)

func TestTumbleManifest(t *testing.T) {
	data, err := os.ReadFile(os.Getenv("TUMBLE_MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	bx, err := UnmarshalXML(bytes.NewReader(data), true, 29)
	if err != nil {
		t.Fatalf("UnmarshalXML: %v", err)
	}
	if _, err := bx.MarshalBinary(); err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	got := map[string]uint32{}
	var perms []string
	var walk func(el *Element)
	walk = func(el *Element) {
		name := el.Name.Resolve(bx.Pool)
		for _, a := range el.attrs {
			attr := a.Name.Resolve(bx.Pool)
			if name == "uses-permission" && attr == "name" {
				perms = append(perms, a.RawValue.Resolve(bx.Pool))
			}
			got[name+"."+attr] = a.TypedValue.Value
		}
		for _, c := range el.Children {
			walk(c)
		}
	}
	for _, el := range bx.Children {
		walk(el)
	}
	for key, want := range map[string]uint32{
		// orientation|screenSize|smallestScreenSize|screenLayout|keyboard|
		// keyboardHidden|navigation|uiMode|fontScale
		"activity.configChanges": 0x80 | 0x400 | 0x800 | 0x100 | 0x10 | 0x20 | 0x40 | 0x200 | 0x40000000,
		"activity.launchMode":    2, // singleTask
		"application.debuggable": 0,
		"application.allowBackup": 0,
		"manifest.versionCode":   VERSIONCODE,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %#x (present %v), want %#x", key, v, ok, want)
		}
	}
	want := "android.permission.INTERNET android.permission.RECORD_AUDIO android.permission.MODIFY_AUDIO_SETTINGS"
	if s := join(perms); s != want {
		t.Errorf("permissions %q, want %q", s, want)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
`

// TestAndroidManifestCompiles encodes mobile/android/AndroidManifest.xml.in,
// filled in as package-android.sh does, with the manifest encoder of the
// fyne.io/tools version the Makefile installs, and checks the encoded
// attributes. No NDK is needed for this part of the APK build.
func TestAndroidManifestCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a copy of fyne.io/tools; skipped with -short")
	}
	root := moduleRoot(t)
	tools, version := fyneToolsCopy(t, root)
	binres := filepath.Join(tools, "cmd", "fyne", "internal", "mobile", "binres")
	mpath, tmpl := filledManifest(t, root)
	check := strings.Replace(binresCheck, "VERSIONCODE", "11", 1)
	if err := os.WriteFile(filepath.Join(binres, "tumble_manifest_test.go"), []byte(check), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "TestTumbleManifest", ".")
	cmd.Dir = binres
	cmd.Env = append(os.Environ(), "TUMBLE_MANIFEST="+mpath, "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("encoding the manifest with fyne.io/tools@%s: %v\n%s", version, err, out)
	}

	// package-android.sh fills exactly these placeholders.
	script, err := os.ReadFile(filepath.Join(root, "mobile", "package-android.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range regexp.MustCompile(`@[A-Z_]+@`).FindAllString(string(tmpl), -1) {
		if !strings.Contains(string(script), "s/"+ph+"/") {
			t.Errorf("package-android.sh does not fill %s", ph)
		}
	}
}

// fyneToolsCopy copies fyne.io/tools at the Makefile's FYNE_TOOLS_VERSION
// from the module cache into a temporary directory, without its tests, and
// returns the copy's root and the version. It skips the test if the module
// is not in the cache.
func fyneToolsCopy(t *testing.T, root string) (dir, version string) {
	t.Helper()
	version = makefileVar(t, filepath.Join(root, "Makefile"), "FYNE_TOOLS_VERSION")
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(strings.TrimSpace(string(out)), "fyne.io", "tools@"+version)
	if _, err := os.Stat(tools); err != nil {
		t.Skipf("fyne.io/tools@%s is not in the module cache (make fyne-tool puts it there): %v", version, err)
	}
	dir = filepath.Join(t.TempDir(), "tools")
	if err := os.CopyFS(dir, os.DirFS(tools)); err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"binres", "."} {
		old, _ := filepath.Glob(filepath.Join(dir, "cmd", "fyne", "internal", "mobile", pkg, "*_test.go"))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, version
}

// filledManifest writes mobile/android/AndroidManifest.xml.in filled in as
// package-android.sh does (version code 11) to a temporary file and returns
// its path and the template.
func filledManifest(t *testing.T, root string) (path string, tmpl []byte) {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(root, "mobile", "android", "AndroidManifest.xml.in"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := strings.NewReplacer("@APP_ID@", "io.github.tumble_voip.tumble",
		"@VERSION_CODE@", "11", "@VERSION_NAME@", "0.1.0").Replace(string(tmpl))
	if ph := regexp.MustCompile(`@[A-Z_]+@`).FindAllString(manifest, -1); ph != nil {
		t.Fatalf("manifest template has placeholders package-android.sh does not fill: %s", ph)
	}
	path = filepath.Join(t.TempDir(), "AndroidManifest.xml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, tmpl
}

// makefileVar reads "NAME ?= value" or "NAME := value" from a Makefile.
func makefileVar(t *testing.T, path, name string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `\s*[?:]?=\s*(\S+)\s*$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("%s not set in %s", name, path)
	return ""
}
