package apkres

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"sort"
	"strings"
)

const (
	// RulesPath is where AddDataExtractionRules puts the compiled rules.
	RulesPath = "res/xml/data_extraction_rules.xml"
	// RulesType and RulesName name the rules' resource: @xml/data_extraction_rules.
	RulesType = "xml"
	RulesName = "data_extraction_rules"

	// AttrDataExtractionRules is the resource ID of the framework
	// attribute android:dataExtractionRules (android.R.attr, API 31).
	AttrDataExtractionRules = 0x0101063e

	// AndroidNamespace is the namespace of the framework's attributes.
	AndroidNamespace = "http://schemas.android.com/apk/res/android"
)

// Domains are all the domains of Android's backup rules: the app's
// credential-protected storage (root, file, database, sharedpref), its
// external files and its device-protected storage (device_*). "root" covers
// file, database and sharedpref and "device_root" the device_* ones; each
// is still named so that no reading of the rules leaves one out.
var Domains = []string{
	"root", "file", "database", "sharedpref", "external",
	"device_root", "device_file", "device_database", "device_sharedpref",
}

// Sections are the parts of <data-extraction-rules>: cloud backup and
// device-to-device transfer.
var Sections = []string{"cloud-backup", "device-transfer"}

// RulesXML returns the compiled data extraction rules that exclude
// everything: for each section, an <exclude domain=D path="."/> for every
// domain ("." is the domain's whole directory).
func RulesXML() ([]byte, error) {
	x := &XML{pool: new(pool)}
	p := x.pool
	domain, pathAttr, dot := p.index("domain"), p.index("path"), p.index(".")
	line := uint32(1)
	start := func(name uint32, attrs ...attr) {
		x.nodes = append(x.nodes, node{typ: resXMLStartElement, line: line, comment: NoIndex, a: NoIndex, b: name, attrs: attrs})
		line++
	}
	end := func(name uint32) {
		x.nodes = append(x.nodes, node{typ: resXMLEndElement, line: line, comment: NoIndex, a: NoIndex, b: name})
		line++
	}
	str := func(name, value uint32) attr {
		return attr{ns: NoIndex, name: name, raw: value, value: Value{Type: TypeString, Data: value}}
	}
	root := p.index("data-extraction-rules")
	start(root)
	for _, s := range Sections {
		sec := p.index(s)
		start(sec)
		for _, d := range Domains {
			ex := p.index("exclude")
			start(ex, str(domain, p.index(d)), str(pathAttr, dot))
			end(ex)
		}
		end(sec)
	}
	end(root)
	return x.Encode()
}

// addRulesAttr returns manifest with android:dataExtractionRules="@ref" on
// its <application>. The attribute name goes into the string pool within
// the resource map (Android finds framework attributes by resource ID, not
// by name), and the application's attributes are put in resource-ID order,
// as aapt2 writes them: the framework's attribute lookup walks both lists in
// that order and misses an attribute that is out of place.
func addRulesAttr(manifest []byte, ref uint32) ([]byte, error) {
	x, err := ParseXML(manifest)
	if err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %w", err)
	}
	if len(x.resMap) > len(x.pool.strings) {
		return nil, errors.New("apkres: AndroidManifest.xml: resource map longer than string pool")
	}
	for i, id := range x.resMap {
		if id == AttrDataExtractionRules || x.pool.strings[i] == "dataExtractionRules" {
			return nil, errors.New("apkres: AndroidManifest.xml already has android:dataExtractionRules")
		}
	}
	ns := uint32(NoIndex)
	for i, s := range x.pool.strings {
		if s == AndroidNamespace {
			ns = uint32(i)
			break
		}
	}
	if ns == NoIndex {
		return nil, errors.New("apkres: AndroidManifest.xml does not use the android namespace")
	}
	app := -1
	for i, n := range x.nodes {
		if n.typ == resXMLStartElement && n.a == NoIndex && n.b != NoIndex && x.pool.strings[n.b] == "application" {
			if app >= 0 {
				return nil, errors.New("apkres: AndroidManifest.xml has two <application> elements")
			}
			app = i
		}
	}
	if app < 0 {
		return nil, errors.New("apkres: AndroidManifest.xml has no <application>")
	}

	// Insert the name at index k, the end of the resource-mapped strings,
	// and move every reference to a later string up by one.
	k := uint32(len(x.resMap))
	shift := func(r *uint32) {
		if *r != NoIndex && *r >= k {
			*r++
		}
	}
	for i := range x.nodes {
		n := &x.nodes[i]
		shift(&n.comment)
		shift(&n.a)
		shift(&n.b)
		if n.typ == resXMLCData && n.cdataValue.Type == TypeString {
			shift(&n.cdataValue.Data)
		}
		for j := range n.attrs {
			a := &n.attrs[j]
			shift(&a.ns)
			shift(&a.name)
			shift(&a.raw)
			if a.value.Type == TypeString {
				shift(&a.value.Data)
			}
		}
	}
	shift(&ns)
	x.pool.strings = append(x.pool.strings[:k], append([]string{"dataExtractionRules"}, x.pool.strings[k:]...)...)
	x.resMap = append(x.resMap, AttrDataExtractionRules)

	n := &x.nodes[app]
	n.attrs = append(n.attrs, attr{ns: ns, name: k, raw: NoIndex, value: Value{Type: TypeReference, Data: ref}})
	sortByResID(n, x.resMap)
	return x.Encode()
}

// sortByResID orders the attributes of element n as aapt2 does: those with
// a resource ID first, by ID, then the others in their order. The 1-based
// id, class and style attribute indices follow their attributes.
func sortByResID(n *node, resMap []uint32) {
	type item struct {
		a    attr
		orig int
	}
	items := make([]item, len(n.attrs))
	for i, a := range n.attrs {
		items[i] = item{a, i + 1}
	}
	key := func(a attr) (bool, uint32) {
		if uint64(a.name) < uint64(len(resMap)) && resMap[a.name] != 0 {
			return true, resMap[a.name]
		}
		return false, 0
	}
	sort.SliceStable(items, func(i, j int) bool {
		hi, ki := key(items[i].a)
		hj, kj := key(items[j].a)
		if hi != hj {
			return hi
		}
		return hi && ki < kj
	})
	moved := func(idx uint16) uint16 {
		for i, it := range items {
			if idx != 0 && it.orig == int(idx) {
				return uint16(i + 1)
			}
		}
		return 0
	}
	n.id, n.class, n.style = moved(n.id), moved(n.class), moved(n.style)
	for i, it := range items {
		n.attrs[i] = it.a
	}
}

// AddDataExtractionRules returns a copy of the APK apk (as written by fyne
// package: a binary AndroidManifest.xml and a resources.arsc with the app's
// package) with
//
//   - RulesPath: the compiled rules of RulesXML, excluding every domain
//     from cloud backup and from device-to-device transfer;
//   - a resource @xml/data_extraction_rules in resources.arsc whose value
//     is RulesPath;
//   - android:dataExtractionRules on <application> referring to it.
//
// The APK's v1 signature files (META-INF/MANIFEST.MF, *.SF, *.RSA, *.DSA,
// *.EC) are left out: they no longer match, and the result must be aligned
// and signed again (zipalign, apksigner). The entries written are stored
// uncompressed, as Android requires of resources.arsc.
func AddDataExtractionRules(apk []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		return nil, fmt.Errorf("apkres: reading the APK: %w", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("apkres: the APK has %s twice", f.Name)
		}
		files[f.Name] = f
	}
	for _, name := range []string{"AndroidManifest.xml", "resources.arsc"} {
		if files[name] == nil {
			return nil, fmt.Errorf("apkres: the APK has no %s (fyne package writes resources.arsc only with an icon)", name)
		}
	}
	if files[RulesPath] != nil {
		return nil, fmt.Errorf("apkres: the APK already has %s", RulesPath)
	}
	read := func(name string) ([]byte, error) {
		rc, err := files[name].Open()
		if err != nil {
			return nil, fmt.Errorf("apkres: %s: %w", name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("apkres: %s: %w", name, err)
		}
		return b, nil
	}
	arsc, err := read("resources.arsc")
	if err != nil {
		return nil, err
	}
	manifest, err := read("AndroidManifest.xml")
	if err != nil {
		return nil, err
	}
	tbl, err := ParseTable(arsc)
	if err != nil {
		return nil, fmt.Errorf("resources.arsc: %w", err)
	}
	ref, err := tbl.addStringResource(RulesType, RulesName, RulesPath)
	if err != nil {
		return nil, fmt.Errorf("resources.arsc: %w", err)
	}
	newArsc, err := tbl.encode()
	if err != nil {
		return nil, fmt.Errorf("resources.arsc: %w", err)
	}
	newManifest, err := addRulesAttr(manifest, ref)
	if err != nil {
		return nil, err
	}
	rules, err := RulesXML()
	if err != nil {
		return nil, err
	}

	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	store := func(name string, like *zip.File, data []byte) error {
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: name, Method: zip.Store, Modified: like.Modified,
			CRC32: crc32.ChecksumIEEE(data), CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)),
		})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	for _, f := range zr.File {
		switch {
		case isV1Signature(f.Name):
			continue
		case f.Name == "AndroidManifest.xml":
			err = store(f.Name, f, newManifest)
		case f.Name == "resources.arsc":
			if err = store(f.Name, f, newArsc); err == nil {
				err = store(RulesPath, f, rules)
			}
		default:
			err = copyRaw(zw, f)
		}
		if err != nil {
			return nil, fmt.Errorf("apkres: writing %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("apkres: writing the APK: %w", err)
	}
	return out.Bytes(), nil
}

// isV1Signature reports whether name is a file of a JAR (v1) signature.
func isV1Signature(name string) bool {
	dir, file := path.Split(name)
	if dir != "META-INF/" {
		return false
	}
	if file == "MANIFEST.MF" {
		return true
	}
	switch strings.ToUpper(path.Ext(file)) {
	case ".SF", ".RSA", ".DSA", ".EC":
		return true
	}
	return false
}

func copyRaw(zw *zip.Writer, f *zip.File) error {
	r, err := f.OpenRaw()
	if err != nil {
		return err
	}
	h := f.FileHeader
	h.Extra = nil // old alignment padding; zipalign pads again
	w, err := zw.CreateRaw(&h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}
