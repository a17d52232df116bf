package apkres

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
)

// testManifest is a small compiled manifest laid out as fyne's encoder
// writes one: android attribute names first in the pool (and only they in
// the resource map), <application>'s attributes out of resource-ID order,
// a CDATA node and an id index to follow.
func testManifest(t testing.TB) []byte {
	t.Helper()
	p := &pool{strings: []string{"allowBackup", "label", "icon", "name",
		"android", AndroidNamespace, "", "package", "manifest", "io.example", "application", "Tumble", "activity", "Main", "text"}}
	x := &XML{pool: p, resMap: []uint32{0x01010280, 0x01010001, 0x01010002, 0x01010003}}
	ns := uint32(5)
	x.nodes = []node{
		{typ: resXMLStartNamespace, comment: NoIndex, a: 4, b: ns},
		{typ: resXMLStartElement, line: 1, comment: NoIndex, a: NoIndex, b: 8, attrs: []attr{
			{ns: NoIndex, name: 7, raw: 9, value: Value{TypeString, 9}}}},
		{typ: resXMLStartElement, line: 2, comment: NoIndex, a: NoIndex, b: 10, id: 2, attrs: []attr{
			{ns: ns, name: 0, raw: NoIndex, value: Value{0x12, 0}},
			{ns: ns, name: 1, raw: 11, value: Value{TypeString, 11}},
			{ns: ns, name: 2, raw: NoIndex, value: Value{TypeReference, 0x7f020000}}}},
		{typ: resXMLStartElement, line: 3, comment: NoIndex, a: NoIndex, b: 12, attrs: []attr{
			{ns: ns, name: 3, raw: 13, value: Value{TypeString, 13}}}},
		{typ: resXMLCData, line: 3, comment: NoIndex, a: 14, b: NoIndex, cdataValue: Value{TypeString, 14}},
		{typ: resXMLEndElement, line: 4, comment: NoIndex, a: NoIndex, b: 12},
		{typ: resXMLEndElement, line: 5, comment: NoIndex, a: NoIndex, b: 10},
		{typ: resXMLEndElement, line: 6, comment: NoIndex, a: NoIndex, b: 8},
		{typ: resXMLEndNamespace, comment: NoIndex, a: 4, b: ns},
	}
	b, err := x.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testTable is a resource table like fyne's: package 0x7f with an empty
// attr type and a mipmap icon.
func testTable(t testing.TB) []byte {
	t.Helper()
	header := make([]byte, 288)
	le.PutUint16(header, resTablePackage)
	le.PutUint16(header[2:], 288)
	le.PutUint32(header[8:], 0x7f)
	tbl := &Table{strings: &pool{}, pkg: tablePackage{header: header, id: 0x7f, typeNames: &pool{strings: []string{"attr"}}, keys: &pool{}}}
	spec := make([]byte, 16)
	le.PutUint16(spec, resTableTypeSpec)
	le.PutUint16(spec[2:], 16)
	le.PutUint32(spec[4:], 16)
	spec[8] = 1
	tbl.pkg.appendixes = append(tbl.pkg.appendixes, spec)
	if _, err := tbl.addStringResource("mipmap", "icon", "res/mipmap-xxxhdpi-v4/icon.png"); err != nil {
		t.Fatal(err)
	}
	b, err := tbl.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRulesXML(t *testing.T) {
	b, err := RulesXML()
	if err != nil {
		t.Fatal(err)
	}
	x, err := ParseXML(b)
	if err != nil {
		t.Fatal(err)
	}
	root, err := x.Root()
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "data-extraction-rules" || len(root.Children) != 2 {
		t.Fatalf("root %q with %d children", root.Name, len(root.Children))
	}
	for i, sec := range root.Children {
		if sec.Name != Sections[i] || len(sec.Children) != len(Domains) {
			t.Fatalf("section %q with %d rules", sec.Name, len(sec.Children))
		}
		for j, r := range sec.Children {
			d, p := r.Attr("domain"), r.Attr("path")
			if r.Name != "exclude" || d == nil || d.Raw != Domains[j] || p == nil || p.Raw != "." ||
				d.Value.Type != TypeString || x.pool.strings[d.Value.Data] != Domains[j] {
				t.Errorf("%s rule %d: <%s> %+v", sec.Name, j, r.Name, r.Attrs)
			}
		}
	}
}

func TestAddRulesAttr(t *testing.T) {
	in := testManifest(t)
	before, err := ParseXML(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := addRulesAttr(in, 0x7f030000)
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseXML(out)
	if err != nil {
		t.Fatal(err)
	}
	r0, _ := before.Root()
	r1, _ := after.Root()
	// Every old string still reads the same after the pool insertion.
	if r1.Name != "manifest" || r1.Attr("package").Raw != "io.example" {
		t.Errorf("manifest: %+v", r1)
	}
	app0, app1 := r0.Children[0], r1.Children[0]
	if len(app1.Attrs) != len(app0.Attrs)+1 {
		t.Fatalf("application attrs %+v", app1.Attrs)
	}
	var ids []uint32
	for _, a := range app1.Attrs {
		ids = append(ids, a.ResID)
	}
	if want := []uint32{0x01010001, 0x01010002, 0x01010280, AttrDataExtractionRules}; !slices.Equal(ids, want) {
		t.Errorf("application attribute IDs %#x, want %#x", ids, want)
	}
	for _, a := range app0.Attrs {
		if b := app1.Attr(a.Name); b == nil || b.Raw != a.Raw || b.ResID != a.ResID || b.Namespace != AndroidNamespace ||
			(a.Value.Type != TypeString && b.Value != a.Value) {
			t.Errorf("attribute %s changed: %+v -> %+v", a.Name, a, b)
		}
	}
	if l := app1.Attr("label"); l.Value.Type != TypeString || after.pool.strings[l.Value.Data] != "Tumble" {
		t.Errorf("label's typed string value moved wrongly: %+v", l)
	}
	d := app1.Attr("dataExtractionRules")
	if d == nil || d.Namespace != AndroidNamespace || d.ResID != AttrDataExtractionRules || d.Value != (Value{TypeReference, 0x7f030000}) {
		t.Errorf("dataExtractionRules = %+v", d)
	}
	// The id index followed "label" to its new place.
	var appNode node
	for _, n := range after.nodes {
		if n.typ == resXMLStartElement && after.pool.strings[n.b] == "application" {
			appNode = n
		}
	}
	if appNode.id == 0 || after.pool.strings[appNode.attrs[appNode.id-1].name] != "label" {
		t.Errorf("id attribute index %d does not point at label", appNode.id)
	}
	act := r1.Children[0].Children[0]
	if act.Name != "activity" || act.Attr("name").Raw != "Main" || act.Attr("name").ResID != 0x01010003 {
		t.Errorf("activity: %+v", act)
	}
	for _, n := range after.nodes {
		if n.typ == resXMLCData && (after.pool.strings[n.a] != "text" || after.pool.strings[n.cdataValue.Data] != "text") {
			t.Errorf("CDATA moved wrongly")
		}
	}
	if _, err := addRulesAttr(out, 0x7f030000); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("adding twice: %v", err)
	}
}

func TestTableAddAndResolve(t *testing.T) {
	tbl, err := ParseTable(testTable(t))
	if err != nil {
		t.Fatal(err)
	}
	id, err := tbl.addStringResource(RulesType, RulesName, RulesPath)
	if err != nil {
		t.Fatal(err)
	}
	if id != 0x7f030000 {
		t.Errorf("id %#08x, want 0x7f030000 (type 3 after attr and mipmap)", id)
	}
	b, err := tbl.encode()
	if err != nil {
		t.Fatal(err)
	}
	tbl, err = ParseTable(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id               uint32
		typ, name, value string
	}{
		{0x7f020000, "mipmap", "icon", "res/mipmap-xxxhdpi-v4/icon.png"},
		{id, RulesType, RulesName, RulesPath},
	} {
		typ, name, value, err := tbl.Resolve(c.id)
		if err != nil || typ != c.typ || name != c.name || value != c.value {
			t.Errorf("Resolve(%#08x) = %q %q %q %v, want %q %q %q", c.id, typ, name, value, err, c.typ, c.name, c.value)
		}
	}
	for _, bad := range []uint32{0x7f040000, 0x7f030001, 0x7e030000, 0x7f000000, 0x7f010000} {
		if _, _, _, err := tbl.Resolve(bad); err == nil {
			t.Errorf("Resolve(%#08x) succeeded", bad)
		}
	}
	if _, err := tbl.addStringResource(RulesType, "other", "x"); err == nil {
		t.Error("a second xml type was added")
	}
}

func testAPK(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"classes.dex", "AndroidManifest.xml", "resources.arsc", "META-INF/MANIFEST.MF", "META-INF/CERT.SF", "META-INF/CERT.RSA"} {
		if files[name] == nil {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAddDataExtractionRules(t *testing.T) {
	files := map[string][]byte{
		"classes.dex":          []byte("dex"),
		"AndroidManifest.xml":  testManifest(t),
		"resources.arsc":       testTable(t),
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\n"),
		"META-INF/CERT.SF":     []byte("sf"),
		"META-INF/CERT.RSA":    []byte("rsa"),
	}
	out, err := AddDataExtractionRules(testAPK(t, files))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		names = append(names, f.Name)
	}
	if want := []string{"classes.dex", "AndroidManifest.xml", "resources.arsc", RulesPath}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q (no stale signature)", names, want)
	}
	if string(got["classes.dex"]) != "dex" {
		t.Error("classes.dex changed")
	}
	rules, _ := RulesXML()
	if !bytes.Equal(got[RulesPath], rules) {
		t.Error("rules file differs from RulesXML")
	}
	x, err := ParseXML(got["AndroidManifest.xml"])
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x.Root()
	ref := root.Children[0].Attr("dataExtractionRules")
	tbl, err := ParseTable(got["resources.arsc"])
	if err != nil {
		t.Fatal(err)
	}
	if ref == nil {
		t.Fatal("no dataExtractionRules")
	}
	if _, _, path, err := tbl.Resolve(ref.Value.Data); err != nil || path != RulesPath {
		t.Errorf("rules reference resolves to %q, %v", path, err)
	}

	// An APK it already went through, or one without a resource table, is
	// refused with a reason.
	if _, err := AddDataExtractionRules(out); err == nil {
		t.Error("a second run succeeded")
	}
	delete(files, "resources.arsc")
	if _, err := AddDataExtractionRules(testAPK(t, files)); err == nil || !strings.Contains(err.Error(), "resources.arsc") {
		t.Errorf("without resources.arsc: %v", err)
	}
}

// TestBadInput feeds truncated and corrupted encodings: each must give an
// error or a valid result, never a panic.
func TestBadInput(t *testing.T) {
	rules, _ := RulesXML()
	inputs := [][]byte{rules, testManifest(t), testTable(t)}
	for _, in := range inputs {
		for n := 0; n < len(in); n++ {
			parseAll(in[:n])
		}
		for i := 0; i < len(in); i++ {
			for _, v := range []byte{0x00, 0xff, 0x7f, 0x80} {
				c := bytes.Clone(in)
				c[i] = v
				parseAll(c)
			}
		}
	}
	if _, err := AddDataExtractionRules([]byte("not a zip")); err == nil {
		t.Error("not a zip: no error")
	}
}

func parseAll(b []byte) {
	if x, err := ParseXML(b); err == nil {
		x.Root()
		x.Encode()
		addRulesAttr(b, 0x7f030000)
	}
	if tbl, err := ParseTable(b); err == nil {
		tbl.Resolve(0x7f020000)
		if _, err := tbl.addStringResource("xml", "x", "y"); err == nil {
			tbl.encode()
		}
	}
}

func FuzzParse(f *testing.F) {
	rules, _ := RulesXML()
	f.Add(rules)
	f.Add(testManifest(f))
	f.Add(testTable(f))
	f.Fuzz(func(t *testing.T, b []byte) { parseAll(b) })
}
