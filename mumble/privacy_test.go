package mumble

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoDirectNetworking enforces the privacy invariant that this package
// never resolves names or opens connections itself: every connection goes
// through Config.DialContext (Tor in Tor mode). It fails if non-test code in
// mumble/ (outside the test harness murmurtest, and murmur, which runs the
// hosted room's Mumble server as a child process on 127.0.0.1 and checks it
// there: it is not the client's path to any server, and internal/childproc,
// which starts those two's servers and which nothing else may import) refers
// to a net function or type that dials, listens or resolves, or imports a
// package that does.
func TestNoDirectNetworking(t *testing.T) {
	forbiddenNet := map[string]bool{
		"Dial": true, "DialTimeout": true, "DialTCP": true, "DialUDP": true, "DialIP": true, "DialUnix": true,
		"Dialer": true, "Listen": true, "ListenPacket": true, "ListenTCP": true, "ListenUDP": true,
		"ListenConfig": true, "Resolver": true, "DefaultResolver": true, "LookupHost": true, "LookupIP": true,
		"LookupAddr": true, "LookupCNAME": true, "LookupSRV": true, "LookupTXT": true, "LookupMX": true,
		"LookupNS": true, "LookupPort": true, "ResolveTCPAddr": true, "ResolveUDPAddr": true, "ResolveIPAddr": true,
		"FileConn": true, "FilePacketConn": true, "FileListener": true,
	}
	forbiddenImports := []string{"net/http", "net/rpc", "net/smtp", "os/exec", "golang.org/x/net/proxy",
		"github.com/tumble-voip/tumble/mumble/internal/childproc"}
	forbiddenTLS := map[string]bool{"Dial": true, "DialWithDialer": true, "Dialer": true, "Listen": true}

	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (path == "murmurtest" || path == "murmur" || path == filepath.Join("internal", "childproc") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d source files", len(files))
	}
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{} // local import name -> path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbiddenImports {
				if p == bad || strings.HasPrefix(p, bad+"/") {
					t.Errorf("%s imports %s", path, p)
				}
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch names[pkg.Name] {
			case "net":
				if forbiddenNet[sel.Sel.Name] {
					t.Errorf("%s: uses net.%s", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			case "crypto/tls":
				if forbiddenTLS[sel.Sel.Name] {
					t.Errorf("%s: uses tls.%s", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
	}
}
