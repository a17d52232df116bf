package apptest

import (
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const importPath = "github.com/tumble-voip/tumble/app/apptest"

// TestOnlyTestsImport checks that no non-test file of the module imports
// this package: test helpers must not end up in the binaries.
func TestOnlyTestsImport(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == importPath {
				t.Errorf("%s imports %s, which is for tests only", path, importPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTrackerCounts(t *testing.T) {
	base, connections := Tracker(t)
	if got := connections(); got != 0 {
		t.Fatalf("a new tracker counts %d connections", got)
	}
	addr := strings.TrimPrefix(base, "http://")
	for i := range 2 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		// The tracker closes each connection after counting it.
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d: the tracker sent data", i)
		}
		conn.Close()
	}
	if got := connections(); got != 2 {
		t.Errorf("the tracker counted %d connections, want 2", got)
	}
}

// TestBlackholeHandsOverConnections checks that each accepted connection
// reaches the test, and that the client's close shows on it.
func TestBlackholeHandsOverConnections(t *testing.T) {
	bh := NewBlackhole(t)
	conn, err := net.Dial("tcp", bh.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server := <-bh.Accepted
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("the blackhole's side read %q, %v", buf, err)
	}
	conn.(*net.TCPConn).CloseWrite()
	if n, err := io.Copy(io.Discard, server); err != nil || n != 0 {
		t.Fatalf("after the client's close the blackhole read %d more bytes, %v", n, err)
	}
}
