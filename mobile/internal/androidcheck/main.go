// Command androidcheck type-checks Tumble's packages for Android
// (GOOS=android GOARCH=arm64) with cgo on, on a machine without an Android
// NDK: `go list`, which needs no C compiler, names every file of every
// dependency, and go/types checks them with FakeImportC, so everything
// except the C.xxx references themselves is checked, the android-only
// files included (the JNI glue, cmd/tumble's platform wiring).
//
// Errors caused by the unresolved C types ("invalid type") are not
// reported. `make check-android` runs it:
//
//	go run ./mobile/internal/androidcheck -prefix github.com/tumble-voip/tumble ./cmd/tumble
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// listedPackage is the part of `go list -json` used here.
type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	ImportMap  map[string]string
	Error      *struct{ Err string }
}

func main() {
	prefix := flag.String("prefix", "", "report only packages whose import path starts with this")
	tags := flag.String("tags", "nolibopusfile", "build tags")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: androidcheck [-prefix PATH] [-tags TAGS] PACKAGE...")
		os.Exit(2)
	}
	n, problems, err := check(*prefix, *tags, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "androidcheck:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	fmt.Printf("androidcheck: %d packages type-checked for android/arm64 with cgo; %d errors\n", n, len(problems))
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check type-checks the packages and their dependencies in dependency
// order and returns how many packages under prefix it checked and their
// errors.
func check(prefix, tags string, patterns []string) (int, []string, error) {
	pkgs, err := list(tags, patterns)
	if err != nil {
		return 0, nil, err
	}
	fset := token.NewFileSet()
	checked := map[string]*types.Package{"unsafe": types.Unsafe}
	var problems []string
	n := 0
	for _, p := range pkgs {
		if p.ImportPath == "unsafe" {
			continue
		}
		mine := strings.HasPrefix(p.ImportPath, prefix)
		if p.Error != nil && mine {
			problems = append(problems, fmt.Sprintf("%s: %s", p.ImportPath, p.Error.Err))
		}
		var files []*ast.File
		for _, name := range append(append([]string(nil), p.GoFiles...), p.CgoFiles...) {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			files = append(files, f)
		}
		var errs []error
		conf := types.Config{
			FakeImportC: true,
			Importer: importerFunc(func(path string) (*types.Package, error) {
				if m, ok := p.ImportMap[path]; ok {
					path = m
				}
				if tp, ok := checked[path]; ok {
					return tp, nil
				}
				return nil, fmt.Errorf("%s is not checked before %s", path, p.ImportPath)
			}),
			Error: func(err error) { errs = append(errs, err) },
		}
		tp, _ := conf.Check(p.ImportPath, fset, files, nil)
		checked[p.ImportPath] = tp
		if !mine {
			continue
		}
		n++
		for _, e := range errs {
			// The C types are fake: what they touch is invalid.
			if !strings.Contains(e.Error(), "invalid type") {
				problems = append(problems, e.Error())
			}
		}
	}
	return n, problems, nil
}

// list runs go list for Android with cgo: every package the patterns need,
// dependencies first.
func list(tags string, patterns []string) ([]listedPackage, error) {
	args := append([]string{"list", "-e", "-deps", "-json", "-tags", tags}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=android", "GOARCH=arm64", "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

type importerFunc func(string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
