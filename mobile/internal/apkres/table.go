package apkres

import (
	"errors"
	"fmt"
)

// Table is a resource table (resources.arsc) with one package.
type Table struct {
	strings *pool // values of type string
	pkg     tablePackage
}

type tablePackage struct {
	header     []byte // ResTable_package header as read
	id         uint32
	typeNames  *pool
	keys       *pool
	chunks     []chunk // type spec and type chunks (and any other), in order
	appendixes [][]byte
}

// ParseTable decodes a resource table. Only tables with exactly one
// package are supported (what fyne package writes, and what an app's own
// table is).
func ParseTable(b []byte) (*Table, error) {
	top, err := readChunk(b)
	if err != nil {
		return nil, err
	}
	if top.typ != resTable || top.headerSize < 12 {
		return nil, fmt.Errorf("apkres: not a resource table (chunk type %#04x)", top.typ)
	}
	if n := le.Uint32(top.data[8:]); n != 1 {
		return nil, fmt.Errorf("apkres: resource table with %d packages, want 1", n)
	}
	t := new(Table)
	rest := top.data[top.headerSize:]
	for len(rest) > 0 {
		c, err := readChunk(rest)
		if err != nil {
			return nil, err
		}
		rest = rest[len(c.data):]
		switch c.typ {
		case resStringPool:
			if t.strings != nil {
				return nil, errors.New("apkres: two value string pools in a resource table")
			}
			if t.strings, err = decodePool(c); err != nil {
				return nil, err
			}
		case resTablePackage:
			if t.pkg.header != nil {
				return nil, errors.New("apkres: two packages in a resource table")
			}
			if err := t.pkg.decode(c); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("apkres: unexpected chunk type %#04x in a resource table", c.typ)
		}
	}
	if t.strings == nil || t.pkg.header == nil {
		return nil, errors.New("apkres: resource table without string pool or package")
	}
	return t, nil
}

func (p *tablePackage) decode(c chunk) error {
	if c.headerSize < 284 {
		return fmt.Errorf("apkres: package header of %d bytes, want at least 284", c.headerSize)
	}
	b := c.data
	p.header = b[:c.headerSize]
	p.id = le.Uint32(b[8:])
	typeOff, keyOff := le.Uint32(b[268:]), le.Uint32(b[276:])
	off := uint32(c.headerSize)
	for off < uint32(len(b)) {
		ch, err := readChunk(b[off:])
		if err != nil {
			return err
		}
		switch {
		case off == typeOff:
			if p.typeNames, err = decodePool(ch); err != nil {
				return err
			}
		case off == keyOff:
			if p.keys, err = decodePool(ch); err != nil {
				return err
			}
		default:
			p.chunks = append(p.chunks, ch)
		}
		off += uint32(len(ch.data))
	}
	if p.typeNames == nil || p.keys == nil {
		return errors.New("apkres: package without type or key strings")
	}
	return nil
}

// encode returns the table in binary form.
func (t *Table) encode() ([]byte, error) {
	vals, err := t.strings.encode()
	if err != nil {
		return nil, err
	}
	types, err := t.pkg.typeNames.encode()
	if err != nil {
		return nil, err
	}
	keys, err := t.pkg.keys.encode()
	if err != nil {
		return nil, err
	}
	pkg := append([]byte(nil), t.pkg.header...)
	hs := uint32(len(pkg))
	le.PutUint32(pkg[268:], hs)
	le.PutUint32(pkg[272:], uint32(len(t.pkg.typeNames.strings)))
	le.PutUint32(pkg[276:], hs+uint32(len(types)))
	le.PutUint32(pkg[280:], uint32(len(t.pkg.keys.strings)))
	pkg = append(pkg, types...)
	pkg = append(pkg, keys...)
	for _, c := range t.pkg.chunks {
		pkg = append(pkg, c.data...)
	}
	for _, a := range t.pkg.appendixes {
		pkg = append(pkg, a...)
	}
	le.PutUint32(pkg[4:], uint32(len(pkg)))

	out := make([]byte, 12, 12+len(vals)+len(pkg))
	le.PutUint16(out, resTable)
	le.PutUint16(out[2:], 12)
	le.PutUint32(out[8:], 1)
	out = append(out, vals...)
	out = append(out, pkg...)
	le.PutUint32(out[4:], uint32(len(out)))
	return out, nil
}

// addStringResource adds a resource typ/name of type string with the
// default configuration, whose value is value (for an xml resource: the
// file's path in the APK), and returns its resource ID. The type must not
// exist yet.
func (t *Table) addStringResource(typ, name, value string) (uint32, error) {
	for _, s := range t.pkg.typeNames.strings {
		if s == typ {
			return 0, fmt.Errorf("apkres: resource table already has a %q type", typ)
		}
	}
	for _, c := range t.pkg.chunks {
		if (c.typ == resTableTypeSpec || c.typ == resTableType) && len(c.data) > 8 &&
			int(c.data[8]) > len(t.pkg.typeNames.strings) {
			return 0, fmt.Errorf("apkres: resource table has type ID %d beyond its %d type names", c.data[8], len(t.pkg.typeNames.strings))
		}
	}
	if t.pkg.id == 0 || t.pkg.id > 0xff {
		return 0, fmt.Errorf("apkres: package ID %#x", t.pkg.id)
	}
	t.pkg.typeNames.strings = append(t.pkg.typeNames.strings, typ)
	typeID := len(t.pkg.typeNames.strings) // type IDs are 1-based indices into the type names
	if typeID > 0xff {
		return 0, errors.New("apkres: too many resource types")
	}
	t.pkg.keys.strings = append(t.pkg.keys.strings, name)
	key := uint32(len(t.pkg.keys.strings) - 1)
	t.strings.strings = append(t.strings.strings, value)
	val := uint32(len(t.strings.strings) - 1)

	// ResTable_typeSpec with one entry whose configuration mask is 0
	// (the value does not vary with the device configuration).
	spec := make([]byte, 20)
	le.PutUint16(spec, resTableTypeSpec)
	le.PutUint16(spec[2:], 16)
	le.PutUint32(spec[4:], 20)
	spec[8] = byte(typeID)
	le.PutUint32(spec[12:], 1)

	// ResTable_type for the default configuration (a zero
	// ResTable_config of 64 bytes), one offset, one simple entry.
	const header = 20 + 64
	typ1 := make([]byte, header+4)
	le.PutUint16(typ1, resTableType)
	le.PutUint16(typ1[2:], header)
	typ1[8] = byte(typeID)
	le.PutUint32(typ1[12:], 1)        // entryCount
	le.PutUint32(typ1[16:], header+4) // entriesStart
	le.PutUint32(typ1[20:], 64)       // config size
	le.PutUint32(typ1[header:], 0)    // offset of entry 0
	typ1 = le.AppendUint16(typ1, 8)   // ResTable_entry size
	typ1 = le.AppendUint16(typ1, 0)   // flags: simple, not public
	typ1 = le.AppendUint32(typ1, key) // key string
	typ1 = appendValue(typ1, Value{Type: TypeString, Data: val})
	le.PutUint32(typ1[4:], uint32(len(typ1)))

	t.pkg.appendixes = append(t.pkg.appendixes, spec, typ1)
	return t.pkg.id<<24 | uint32(typeID)<<16, nil
}

// Resolve returns the type name, entry name and string value of resource
// id in the table's default configuration. It fails if the resource does
// not exist there or its value is not a string.
func (t *Table) Resolve(id uint32) (typ, name, value string, err error) {
	if id>>24 != t.pkg.id {
		return "", "", "", fmt.Errorf("apkres: resource %#08x is not in package %#x", id, t.pkg.id)
	}
	typeID, entry := int(id>>16&0xff), int(id&0xffff)
	if typeID == 0 || typeID > len(t.pkg.typeNames.strings) {
		return "", "", "", fmt.Errorf("apkres: resource %#08x: no type %d", id, typeID)
	}
	typ = t.pkg.typeNames.strings[typeID-1]
	chunks := append([]chunk(nil), t.pkg.chunks...)
	for _, a := range t.pkg.appendixes {
		c, err := readChunk(a)
		if err != nil {
			return "", "", "", err
		}
		chunks = append(chunks, c)
	}
	for _, c := range chunks {
		if c.typ != resTableType || len(c.data) < 24 || int(c.data[8]) != typeID {
			continue
		}
		b := c.data
		count, start := le.Uint32(b[12:]), le.Uint32(b[16:])
		if b[9] != 0 { // flags: sparse or offset16 entries are not written by fyne
			return "", "", "", fmt.Errorf("apkres: type chunk flags %#x not supported", b[9])
		}
		cfgSize := uint64(le.Uint32(b[20:]))
		if cfgSize < 4 || 20+cfgSize > uint64(c.headerSize) {
			return "", "", "", fmt.Errorf("apkres: type chunk with a configuration of %d bytes", cfgSize)
		}
		if !isZero(b[24 : 20+cfgSize]) {
			continue // not the default configuration
		}
		if entry >= int(count) || int(c.headerSize)+4*entry+4 > len(b) {
			continue
		}
		off := le.Uint32(b[int(c.headerSize)+4*entry:])
		if off == NoIndex {
			continue
		}
		e := uint64(start) + uint64(off)
		if e+16 > uint64(len(b)) {
			return "", "", "", errShort
		}
		size, flags := le.Uint16(b[e:]), le.Uint16(b[e+2:])
		if flags&1 != 0 || size != 8 {
			return "", "", "", fmt.Errorf("apkres: resource %#08x is not a simple value", id)
		}
		if name, err = t.pkg.keys.get(le.Uint32(b[e+4:])); err != nil {
			return "", "", "", err
		}
		v := b[e+8:]
		if v[3] != TypeString {
			return "", "", "", fmt.Errorf("apkres: resource %#08x has value type %#02x, not a string", id, v[3])
		}
		if value, err = t.strings.get(le.Uint32(v[4:])); err != nil {
			return "", "", "", err
		}
		return typ, name, value, nil
	}
	return "", "", "", fmt.Errorf("apkres: resource %#08x (%s) has no entry in the default configuration", id, typ)
}

func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
