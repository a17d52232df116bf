package mobile

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tumble-voip/tumble/mobile/internal/apkres"
)

// fyneAPK runs inside a copy of fyne.io/tools' cmd/fyne/internal/mobile
// package and writes an APK the way `fyne package --os android` does for
// Tumble (its own manifest, an icon, no adaptive icon or splash, the
// debug target SDK of a non-release build), with fyne's own code: the
// APK writer and signer, the manifest encoder and the icon's resource
// table. Only the native library is a stand-in: building it needs the NDK.
const fyneAPK = `package mobile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTumbleAPK(t *testing.T) {
	tmpdir = t.TempDir()
	lib := "lib/arm64-v8a/libtumble.so"
	if err := os.MkdirAll(filepath.Join(tmpdir, filepath.Dir(lib)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmpdir, lib), []byte("\x7fELF stand-in: the real one needs the NDK"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(os.Getenv("TUMBLE_MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(os.Getenv("TUMBLE_APK"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	apkw, err := buildAPK(f, nil, []string{lib}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := addAssets(apkw, manifest, t.TempDir(), os.Getenv("TUMBLE_ICON"), androidTargetDebug, 1, "0.1.0", "", "", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := apkw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
`

// TestAndroidAPKDataExtractionRules builds an APK with fyne.io/tools' own
// packaging code (a stand-in for the NDK-built library), runs
// mobile/internal/apkrules on it as package-android.sh does, and checks
// what Android's package manager and backup service will read:
// android:dataExtractionRules on <application> is a reference, in
// resource-ID order among the application's attributes; the ID resolves in
// the APK's resources.arsc to res/xml/data_extraction_rules.xml; that file
// is in the APK and its rules exclude every domain from cloud backup and
// from device-to-device transfer; allowBackup stays false. With Debian's
// aapt (Android's own resource parser, libandroidfw) installed, aapt must
// read the same.
func TestAndroidAPKDataExtractionRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a copy of fyne.io/tools; skipped with -short")
	}
	root := moduleRoot(t)
	tools, version := fyneToolsCopy(t, root)
	pkg := filepath.Join(tools, "cmd", "fyne", "internal", "mobile")
	if err := os.WriteFile(filepath.Join(pkg, "tumble_apk_test.go"), []byte(fyneAPK), 0o644); err != nil {
		t.Fatal(err)
	}
	mpath, _ := filledManifest(t, root)
	work := t.TempDir()
	fyneOut := filepath.Join(work, "fyne.apk")
	cmd := exec.Command("go", "test", "-count=1", "-run", "TestTumbleAPK", ".")
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "TUMBLE_MANIFEST="+mpath, "TUMBLE_APK="+fyneOut,
		"TUMBLE_ICON="+filepath.Join(root, "mobile", "icon", "Icon.png"), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writing an APK with fyne.io/tools@%s: %v\n%s", version, err, out)
	}

	// package-android.sh runs these steps on fyne's APK.
	script, err := os.ReadFile(filepath.Join(root, "mobile", "package-android.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{`"$GO" build -o "$apkrules" ./mobile/internal/apkrules`,
		`"$apkrules" "$stage/Tumble.apk" "$stage/unsigned.apk"`,
		`mobile/sign-apk.sh" "$stage/unsigned.apk" "$apk"`} {
		if !strings.Contains(string(script), step) {
			t.Errorf("package-android.sh no longer has the step %s", step)
		}
	}

	bin := filepath.Join(work, "apkrules")
	build := exec.Command("go", "build", "-o", bin, "./mobile/internal/apkrules")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building apkrules: %v\n%s", err, out)
	}
	apk := filepath.Join(work, "tumble.apk")
	if out, err := exec.Command(bin, fyneOut, apk).CombinedOutput(); err != nil {
		t.Fatalf("apkrules: %v\n%s", err, out)
	}

	zr, err := zip.OpenReader(apk)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	methods := map[string]uint16{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files[f.Name] = b
		methods[f.Name] = f.Method
	}
	for _, name := range []string{"classes.dex", "lib/arm64-v8a/libtumble.so", "res/mipmap-xxxhdpi-v4/icon.png"} {
		if files[name] == nil {
			t.Errorf("%s from fyne's APK is missing", name)
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "META-INF/") {
			t.Errorf("%s: fyne's v1 signature is stale after the change and must be left for apksigner to redo", name)
		}
	}
	if methods["resources.arsc"] != zip.Store {
		t.Errorf("resources.arsc is compressed (method %d); Android 11+ refuses that for apps targeting API 30+", methods["resources.arsc"])
	}

	x, err := apkres.ParseXML(files["AndroidManifest.xml"])
	if err != nil {
		t.Fatalf("AndroidManifest.xml: %v", err)
	}
	man, err := x.Root()
	if err != nil {
		t.Fatal(err)
	}
	var app *apkres.Element
	for _, c := range man.Children {
		if c.Name == "application" {
			app = c
		}
	}
	if app == nil {
		t.Fatal("no <application> in the manifest")
	}
	rules := app.Attr("dataExtractionRules")
	if rules == nil {
		t.Fatal("<application> has no dataExtractionRules")
	}
	if rules.Namespace != apkres.AndroidNamespace || rules.ResID != apkres.AttrDataExtractionRules {
		t.Errorf("dataExtractionRules: namespace %q, resource ID %#08x; want %q, %#08x (android.R.attr.dataExtractionRules)",
			rules.Namespace, rules.ResID, apkres.AndroidNamespace, apkres.AttrDataExtractionRules)
	}
	if rules.Value.Type != apkres.TypeReference || rules.Value.Data>>24 != 0x7f {
		t.Fatalf("dataExtractionRules = type %#02x data %#08x, want a reference to an app resource (0x7f......)", rules.Value.Type, rules.Value.Data)
	}
	// Android looks up a view's attributes by walking them and the wanted
	// IDs in step: the framework attributes must be in resource-ID order.
	var ids []uint32
	for _, a := range app.Attrs {
		if a.ResID != 0 {
			ids = append(ids, a.ResID)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("<application> attribute IDs %#x are not in order: Android would miss some", ids)
	}
	if a := app.Attr("allowBackup"); a == nil || a.ResID != 0x01010280 || a.Value.Data != 0 {
		t.Errorf("allowBackup = %+v, want android:allowBackup (0x01010280) false: Android 11 and older read only that", a)
	}

	tbl, err := apkres.ParseTable(files["resources.arsc"])
	if err != nil {
		t.Fatalf("resources.arsc: %v", err)
	}
	typ, name, path, err := tbl.Resolve(rules.Value.Data)
	if err != nil {
		t.Fatalf("resolving dataExtractionRules %#08x: %v", rules.Value.Data, err)
	}
	if typ != "xml" || name != "data_extraction_rules" || path != "res/xml/data_extraction_rules.xml" {
		t.Errorf("%#08x = @%s/%s -> %q, want @xml/data_extraction_rules -> res/xml/data_extraction_rules.xml", rules.Value.Data, typ, name, path)
	}
	if icon := app.Attr("icon"); icon == nil || icon.Value.Type != apkres.TypeReference || icon.Value.Data>>16 == rules.Value.Data>>16 {
		t.Errorf("icon = %+v: fyne's @mipmap/icon must stay and be of another type than the rules", icon)
	}
	if files[path] == nil {
		t.Fatalf("%s is not in the APK", path)
	}
	checkRulesExcludeAll(t, files[path])

	t.Run("aapt", func(t *testing.T) {
		aapt, err := exec.LookPath("aapt")
		if err != nil {
			t.Skip("Debian's aapt is not installed (make deps installs it)")
		}
		dump := func(args ...string) string {
			out, err := exec.Command(aapt, append([]string{"dump"}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("aapt dump %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}
		ref := "=@0x" + hex32(rules.Value.Data)
		if m := dump("xmltree", apk, "AndroidManifest.xml"); !strings.Contains(m, "A: android:dataExtractionRules(0x0101063e)"+ref) {
			t.Errorf("aapt does not read android:dataExtractionRules(0x0101063e)%s:\n%s", ref, m)
		}
		res := dump("--values", "resources", apk)
		if !strings.Contains(res, "resource 0x"+hex32(rules.Value.Data)+" io.github.tumble_voip.tumble:xml/data_extraction_rules") ||
			!strings.Contains(res, `"res/xml/data_extraction_rules.xml"`) {
			t.Errorf("aapt does not resolve 0x%s to res/xml/data_extraction_rules.xml:\n%s", hex32(rules.Value.Data), res)
		}
		x := dump("xmltree", apk, path)
		for _, sec := range apkres.Sections {
			if !strings.Contains(x, "E: "+sec) {
				t.Errorf("aapt does not read <%s> in the rules:\n%s", sec, x)
			}
		}
		if n := strings.Count(x, `A: domain="`); n != len(apkres.Sections)*len(apkres.Domains) {
			t.Errorf("aapt reads %d domain attributes, want %d:\n%s", n, len(apkres.Sections)*len(apkres.Domains), x)
		}
	})

	// package-android.sh aligns and signs the result with mobile/sign-apk.sh.
	t.Run("sign", func(t *testing.T) {
		for _, tool := range []string{"zipalign", "apksigner", "openssl", "aapt"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("%s is not installed (make deps installs it)", tool)
			}
		}
		signed := filepath.Join(work, "signed.apk")
		sign := exec.Command("bash", filepath.Join(root, "mobile", "sign-apk.sh"), apk, signed)
		sign.Env = append(withoutEnv(os.Environ(), "TUMBLE_ANDROID_KEYSTORE"), "TUMBLE_ANDROID_DEBUG_KEY_DIR="+filepath.Join(work, "key"))
		if out, err := sign.CombinedOutput(); err != nil {
			t.Fatalf("sign-apk.sh: %v\n%s", err, out)
		}
		out, err := exec.Command("apksigner", "verify", "--verbose", signed).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verified using v2 scheme (APK Signature Scheme v2): true") {
			t.Errorf("apksigner verify: %v\n%s", err, out)
		}
		out, err = exec.Command("aapt", "dump", "xmltree", signed, "AndroidManifest.xml").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "A: android:dataExtractionRules(0x0101063e)=@0x"+hex32(rules.Value.Data)) {
			t.Errorf("the signed APK's manifest: %v\n%s", err, out)
		}
	})
}

// withoutEnv returns env without the variable name.
func withoutEnv(env []string, name string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// checkRulesExcludeAll checks compiled data extraction rules: exactly a
// <cloud-backup> and a <device-transfer>, each with nothing but
// <exclude domain=D path="."/> for every domain of Android's backup rules.
func checkRulesExcludeAll(t *testing.T, b []byte) {
	t.Helper()
	x, err := apkres.ParseXML(b)
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	root, err := x.Root()
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "data-extraction-rules" || len(root.Attrs) != 0 {
		t.Fatalf("rules root <%s> %+v, want <data-extraction-rules>", root.Name, root.Attrs)
	}
	want := []string{"root", "file", "database", "sharedpref", "external",
		"device_root", "device_file", "device_database", "device_sharedpref"}
	var sections []string
	for _, sec := range root.Children {
		sections = append(sections, sec.Name)
		var domains []string
		for _, r := range sec.Children {
			d, p := r.Attr("domain"), r.Attr("path")
			if r.Name != "exclude" || len(r.Children) != 0 || d == nil || p == nil || len(r.Attrs) != 2 ||
				d.Namespace != "" || p.Namespace != "" || p.Raw != "." || p.Value.Type != apkres.TypeString {
				t.Errorf("<%s>: rule <%s> %+v, want only <exclude domain=D path=\".\"/>", sec.Name, r.Name, r.Attrs)
				continue
			}
			domains = append(domains, d.Raw)
		}
		slices.Sort(domains)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(domains, w) {
			t.Errorf("<%s> excludes %q, want every domain %q", sec.Name, domains, w)
		}
	}
	if !slices.Equal(sections, []string{"cloud-backup", "device-transfer"}) {
		t.Errorf("rules sections %q, want cloud-backup and device-transfer", sections)
	}
}
