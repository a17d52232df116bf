package mobile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestAndroidPackageList keeps mobile/android-packages.txt complete and
// true: every package of the module is listed as pure or skip (with a
// reason), and every pure one builds for GOOS=android GOARCH=arm64 with
// CGO_ENABLED=0 (what make check-android builds).
func TestAndroidPackageList(t *testing.T) {
	if testing.Short() {
		t.Skip("builds packages for android/arm64; skipped with -short")
	}
	root := moduleRoot(t)
	pure, skip := readPackageList(t, filepath.Join(root, "mobile", "android-packages.txt"))

	cmd := exec.Command("go", "list", "-tags", "nolibopusfile", "-f", "{{.Dir}}", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	var missing []string
	for _, dir := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		p := "./" + filepath.ToSlash(rel)
		if !pure[p] && skip[p] == "" {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("%s is not in mobile/android-packages.txt: add it as \"pure %s\" if it builds for Android without cgo, else as \"skip %s # reason\"", p, p, p)
	}

	var list []string
	for p := range pure {
		list = append(list, p)
	}
	sort.Strings(list)
	build := exec.Command("go", append([]string{"build", "-tags", "nolibopusfile"}, list...)...)
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=android", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("pure packages do not build for android/arm64 without cgo: %v\n%s", err, out)
	}
	t.Logf("%d pure packages build for android/arm64 without cgo; %d skipped", len(pure), len(skip))
}

// readPackageList parses the list: "pure PKG" and "skip PKG # reason".
func readPackageList(t *testing.T, path string) (pure map[string]bool, skip map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pure, skip = map[string]bool{}, map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, reason, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 || !strings.HasPrefix(fields[1], "./") {
			t.Fatalf("%s:%d: want \"pure ./PKG\" or \"skip ./PKG # reason\", got %q", path, n, sc.Text())
		}
		switch fields[0] {
		case "pure":
			pure[fields[1]] = true
		case "skip":
			if strings.TrimSpace(reason) == "" {
				t.Errorf("%s:%d: skip %s without a reason", path, n, fields[1])
				reason = "?"
			}
			skip[fields[1]] = strings.TrimSpace(reason)
		default:
			t.Fatalf("%s:%d: unknown kind %q", path, n, fields[0])
		}
		if pure[fields[1]] && skip[fields[1]] != "" {
			t.Errorf("%s:%d: %s is both pure and skip", path, n, fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pure, skip
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
