package apkres

import (
	"errors"
	"fmt"
)

// Data types of a Res_value used here.
const (
	TypeReference = 0x01 // data is a resource ID
	TypeString    = 0x03 // data is an index into the string pool
)

// Value is a Res_value: a typed datum.
type Value struct {
	Type uint8
	Data uint32
}

// attr is a ResXMLTree_attribute. NS, Name and Raw index the string pool
// (NoIndex for none).
type attr struct {
	ns, name, raw uint32
	value         Value
}

// node is one node chunk of a binary XML document.
type node struct {
	typ           uint16
	line, comment uint32
	// Namespace nodes: a = prefix, b = URI. Elements: a = namespace,
	// b = name. CDATA: a = text.
	a, b        uint32
	attrs       []attr
	id, class   uint16 // 1-based attribute indices, 0 for none
	style       uint16
	cdataValue  Value
	attrStride  uint16 // as read; written as 20
	attrStartAt uint16 // as read; written as 20
}

// XML is a compiled (binary) XML document, such as an APK's
// AndroidManifest.xml.
type XML struct {
	pool   *pool
	resMap []uint32 // resource ID of pool string i, for i < len(resMap)
	nodes  []node
}

// ParseXML decodes a binary XML document.
func ParseXML(b []byte) (*XML, error) {
	top, err := readChunk(b)
	if err != nil {
		return nil, err
	}
	if top.typ != resXML {
		return nil, fmt.Errorf("apkres: not binary XML (chunk type %#04x)", top.typ)
	}
	x := new(XML)
	rest := top.data[top.headerSize:]
	for len(rest) > 0 {
		c, err := readChunk(rest)
		if err != nil {
			return nil, err
		}
		rest = rest[len(c.data):]
		switch c.typ {
		case resStringPool:
			if x.pool != nil {
				return nil, errors.New("apkres: two string pools in one XML document")
			}
			if x.pool, err = decodePool(c); err != nil {
				return nil, err
			}
		case resXMLResourceMap:
			d := c.data[c.headerSize:]
			for len(d) >= 4 {
				x.resMap = append(x.resMap, le.Uint32(d))
				d = d[4:]
			}
		case resXMLStartNamespace, resXMLEndNamespace, resXMLStartElement, resXMLEndElement, resXMLCData:
			n, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			x.nodes = append(x.nodes, n)
		default:
			return nil, fmt.Errorf("apkres: unexpected chunk type %#04x in XML", c.typ)
		}
	}
	if x.pool == nil {
		return nil, errors.New("apkres: XML without a string pool")
	}
	if _, err := x.Root(); err != nil {
		return nil, err
	}
	return x, nil
}

func decodeNode(c chunk) (node, error) {
	b := c.data
	h := int(c.headerSize)
	if h < 16 || len(b) < h+8 {
		return node{}, errShort
	}
	n := node{typ: c.typ, line: le.Uint32(b[8:]), comment: le.Uint32(b[12:])}
	ext := b[h:]
	n.a, n.b = le.Uint32(ext), le.Uint32(ext[4:])
	switch c.typ {
	case resXMLCData:
		if len(ext) < 12 {
			return node{}, errShort
		}
		n.b = NoIndex
		n.cdataValue = Value{Type: ext[7], Data: le.Uint32(ext[8:])}
	case resXMLStartElement:
		if len(ext) < 20 {
			return node{}, errShort
		}
		n.attrStartAt = le.Uint16(ext[8:])
		n.attrStride = le.Uint16(ext[10:])
		count := int(le.Uint16(ext[12:]))
		n.id, n.class, n.style = le.Uint16(ext[14:]), le.Uint16(ext[16:]), le.Uint16(ext[18:])
		if n.attrStride < 20 {
			return node{}, fmt.Errorf("apkres: attribute size %d < 20", n.attrStride)
		}
		for i := 0; i < count; i++ {
			off := int(n.attrStartAt) + i*int(n.attrStride)
			if off+20 > len(ext) {
				return node{}, errShort
			}
			a := ext[off:]
			n.attrs = append(n.attrs, attr{
				ns: le.Uint32(a), name: le.Uint32(a[4:]), raw: le.Uint32(a[8:]),
				value: Value{Type: a[15], Data: le.Uint32(a[16:])},
			})
		}
	}
	return n, nil
}

// Encode returns the document in binary form.
func (x *XML) Encode() ([]byte, error) {
	out := make([]byte, 8)
	le.PutUint16(out, resXML)
	le.PutUint16(out[2:], 8)
	p, err := x.pool.encode()
	if err != nil {
		return nil, err
	}
	out = append(out, p...)
	if len(x.resMap) > 0 {
		m := make([]byte, 8, 8+4*len(x.resMap))
		le.PutUint16(m, resXMLResourceMap)
		le.PutUint16(m[2:], 8)
		le.PutUint32(m[4:], uint32(8+4*len(x.resMap)))
		for _, id := range x.resMap {
			m = le.AppendUint32(m, id)
		}
		out = append(out, m...)
	}
	for _, n := range x.nodes {
		out = append(out, n.encode()...)
	}
	le.PutUint32(out[4:], uint32(len(out)))
	return out, nil
}

func (n *node) encode() []byte {
	b := make([]byte, 16, 64)
	le.PutUint16(b, n.typ)
	le.PutUint16(b[2:], 16)
	le.PutUint32(b[8:], n.line)
	le.PutUint32(b[12:], n.comment)
	b = le.AppendUint32(b, n.a)
	switch n.typ {
	case resXMLCData:
		b = appendValue(b, n.cdataValue)
	case resXMLStartElement:
		b = le.AppendUint32(b, n.b)
		b = le.AppendUint16(b, 20) // attributeStart
		b = le.AppendUint16(b, 20) // attributeSize
		b = le.AppendUint16(b, uint16(len(n.attrs)))
		b = le.AppendUint16(b, n.id)
		b = le.AppendUint16(b, n.class)
		b = le.AppendUint16(b, n.style)
		for _, a := range n.attrs {
			b = le.AppendUint32(b, a.ns)
			b = le.AppendUint32(b, a.name)
			b = le.AppendUint32(b, a.raw)
			b = appendValue(b, a.value)
		}
	default:
		b = le.AppendUint32(b, n.b)
	}
	le.PutUint32(b[4:], uint32(len(b)))
	return b
}

func appendValue(b []byte, v Value) []byte {
	b = le.AppendUint16(b, 8)
	b = append(b, 0, v.Type)
	return le.AppendUint32(b, v.Data)
}

// Attribute is an attribute of an Element, with its strings resolved.
type Attribute struct {
	Namespace string // "" for none
	Name      string
	Raw       string // the value as written, "" if the encoder kept none
	ResID     uint32 // the attribute's resource ID from the resource map, 0 if none
	Value     Value
}

// Element is an element of a document, with its strings resolved.
type Element struct {
	Namespace string
	Name      string
	Attrs     []Attribute
	Children  []*Element
}

// Attr returns the attribute named name (in any namespace), or nil.
func (e *Element) Attr(name string) *Attribute {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			return &e.Attrs[i]
		}
	}
	return nil
}

// Root returns the document's root element with its strings resolved. It
// checks that start and end elements pair up and that every string and
// resource-map reference is in range.
func (x *XML) Root() (*Element, error) {
	str := func(i uint32) (string, error) {
		if i == NoIndex {
			return "", nil
		}
		return x.pool.get(i)
	}
	var stack []*Element
	var root *Element
	for _, n := range x.nodes {
		switch n.typ {
		case resXMLStartElement:
			e := new(Element)
			var err error
			if e.Namespace, err = str(n.a); err != nil {
				return nil, err
			}
			if e.Name, err = str(n.b); err != nil {
				return nil, err
			}
			for _, a := range n.attrs {
				var at Attribute
				if at.Namespace, err = str(a.ns); err != nil {
					return nil, err
				}
				if at.Name, err = str(a.name); err != nil {
					return nil, err
				}
				if at.Raw, err = str(a.raw); err != nil {
					return nil, err
				}
				if a.value.Type == TypeString {
					if _, err := x.pool.get(a.value.Data); err != nil {
						return nil, err
					}
				}
				if uint64(a.name) < uint64(len(x.resMap)) {
					at.ResID = x.resMap[a.name]
				}
				at.Value = a.value
				e.Attrs = append(e.Attrs, at)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("apkres: XML with two root elements")
				}
				root = e
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			}
			stack = append(stack, e)
		case resXMLEndElement:
			if len(stack) == 0 {
				return nil, errors.New("apkres: XML end element without start")
			}
			name, err := str(n.b)
			if err != nil {
				return nil, err
			}
			if top := stack[len(stack)-1]; top.Name != name {
				return nil, fmt.Errorf("apkres: XML element %q ended as %q", top.Name, name)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 || root == nil {
		return nil, errors.New("apkres: XML elements do not close, or there are none")
	}
	return root, nil
}
