package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DecodeCall reads one methodCall from r.
//
// It reproduces the original's loader (supervisor.xmlrpc's loads on top of
// ElementTree.iterparse) rather than the XML-RPC spec: every element is
// reduced when it ends, by tag, wherever it appears:
//
//	int, i4          Python int(text): surrounding spaces, '+', '_' and Unicode digits allowed → int
//	boolean          text == "1" (anything else is false, not an error) → bool
//	string           text, "" if empty → string
//	double           Python float(text) → float64
//	dateTime.iso8601 strptime "%Y%m%dT%H:%M:%S" → time.Time (UTC; Python's is naive)
//	base64           lenient base64 → []byte (the original makes a str of it, so it must be UTF-8)
//	array            its first child's value; data: its children's values → []any
//	struct           members of exactly two children (name, value) → map[string]any
//	value            its first child's value, else its raw text ("" if none)
//
// Any other element (i8 included — the original does not know it) keeps its
// raw text, or nil (Python None) when it has none, so <value><nil/></value>
// gives nil. Element text is the character data before the element's first
// child, with whitespace kept. methodName's raw text is the method; the last
// methodName and params elements win.
//
// Every error is a *DecodeError; see its Kind.
func DecodeCall(r io.Reader, lim Limits) (method string, params []any, err error) {
	lim = lim.withDefaults()
	in := &guardReader{r: r, left: lim.MaxBytes}
	d := &decoder{maxDepth: lim.MaxDepth, maxElems: lim.MaxElements, left: lim.MaxElements}
	if err := d.run(in); err != nil {
		var de *DecodeError
		switch {
		case errors.As(err, &de):
			return "", nil, de
		case in.tooLarge:
			return "", nil, &DecodeError{Kind: ErrTooLarge, Detail: fmt.Sprintf("more than %d bytes", lim.MaxBytes)}
		case in.badUTF8:
			return "", nil, &DecodeError{Kind: ErrInvalidUTF8, Detail: fmt.Sprintf("at byte %d", in.badAt)}
		default:
			return "", nil, &DecodeError{Kind: ErrMalformed, Err: err}
		}
	}
	if d.method == nil || *d.method == "" {
		return "", nil, &DecodeError{Kind: ErrNoMethod}
	}
	if d.params == nil {
		d.params = []any{} // clients may leave out <params>
	}
	return *d.method, d.params, nil
}

// node is an ended element as the original's tree keeps it: its (reduced)
// text and, unless it was a reduced element (which the original clears),
// its children.
type node struct {
	tag  string
	val  any // nil = Python None
	kids []node
}

type frame struct {
	raw     xml.Name // as written, to match the end tag
	tag     string   // ElementTree's tag: local name, or {uri}local
	text    []byte
	hasText bool
	started bool // a child began: later text is a tail, not ours
	kids    []node
	nsMark  int // length of decoder.ns when this element started
}

type nsBinding struct{ prefix, uri string }

type decoder struct {
	maxDepth int
	maxElems int
	left     int // elements still allowed
	stack    []frame
	ns       []nsBinding
	rootDone bool
	method   *string
	params   []any
}

func malformed(format string, a ...any) error {
	return &DecodeError{Kind: ErrMalformed, Detail: fmt.Sprintf(format, a...)}
}

func (d *decoder) run(r io.Reader) error {
	xd := xml.NewDecoder(r)
	// The original decodes the body as UTF-8 before expat sees it, so any
	// declared encoding is ignored; let the declaration through unchanged.
	xd.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	first := true
	for {
		tok, err := xd.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if first {
			first = false
			// expat skips a byte order mark; encoding/xml reports it as text.
			if cd, ok := tok.(xml.CharData); ok && bytes.HasPrefix(cd, []byte("\uFEFF")) {
				tok = xml.CharData(cd[3:])
			}
		} else if pi, ok := tok.(xml.ProcInst); ok && pi.Target == "xml" {
			return malformed("XML declaration not at start of document")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := d.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if err := d.end(t); err != nil {
				return err
			}
		case xml.CharData:
			if len(d.stack) == 0 {
				if len(bytes.Trim(t, " \t\r\n")) != 0 {
					return malformed("text outside the document element")
				}
				continue
			}
			f := &d.stack[len(d.stack)-1]
			if !f.started {
				f.text = append(f.text, t...)
				f.hasText = f.hasText || len(t) > 0
			}
		case xml.Directive:
			if d.rootDone || len(d.stack) > 0 {
				return malformed("misplaced directive")
			}
		}
	}
	if len(d.stack) > 0 {
		return malformed("unclosed element <%s>", d.stack[len(d.stack)-1].tag)
	}
	if !d.rootDone {
		return malformed("no element found")
	}
	return nil
}

func (d *decoder) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace", true
	}
	for i := len(d.ns) - 1; i >= 0; i-- {
		if d.ns[i].prefix == prefix {
			return d.ns[i].uri, true
		}
	}
	return "", prefix == ""
}

func (d *decoder) start(t xml.StartElement) error {
	if d.rootDone {
		return malformed("junk after document element")
	}
	if len(d.stack) >= d.maxDepth {
		return &DecodeError{Kind: ErrTooDeep, Detail: fmt.Sprintf("more than %d nested elements", d.maxDepth)}
	}
	if d.left--; d.left < 0 {
		return &DecodeError{Kind: ErrTooLarge, Detail: fmt.Sprintf("more than %d elements", d.maxElems)}
	}
	mark := len(d.ns)
	for i, a := range t.Attr {
		for _, b := range t.Attr[:i] {
			if a.Name == b.Name {
				return malformed("duplicate attribute %q", a.Name.Local)
			}
		}
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			d.ns = append(d.ns, nsBinding{"", a.Value})
		case a.Name.Space == "xmlns":
			d.ns = append(d.ns, nsBinding{a.Name.Local, a.Value})
		}
	}
	for _, a := range t.Attr {
		if a.Name.Space != "" && a.Name.Space != "xmlns" {
			if _, ok := d.lookup(a.Name.Space); !ok {
				return malformed("unbound prefix %q", a.Name.Space)
			}
		}
	}
	uri, ok := d.lookup(t.Name.Space)
	if !ok {
		return malformed("unbound prefix %q", t.Name.Space)
	}
	tag := t.Name.Local
	if uri != "" {
		tag = "{" + uri + "}" + tag
	}
	if n := len(d.stack); n > 0 {
		d.stack[n-1].started = true
	}
	d.stack = append(d.stack, frame{raw: t.Name, tag: tag, nsMark: mark})
	return nil
}

func (d *decoder) end(t xml.EndElement) error {
	n := len(d.stack)
	if n == 0 || d.stack[n-1].raw != t.Name {
		return malformed("mismatched tag </%s>", t.Name.Local)
	}
	f := &d.stack[n-1]
	var text any // Python's elem.text: None or a non-empty str
	if f.hasText {
		text = string(f.text)
	}
	nd, err := d.reduce(f.tag, text, f.kids)
	if err != nil {
		return err
	}
	d.ns = d.ns[:f.nsMark]
	d.stack[n-1] = frame{}
	d.stack = d.stack[:n-1]
	if n == 1 {
		d.rootDone = true
		return nil
	}
	p := &d.stack[n-2]
	p.kids = append(p.kids, nd)
	return nil
}

func firstVal(tag string, kids []node) (any, error) {
	if len(kids) == 0 {
		return nil, malformed("<%s> has no child", tag)
	}
	return kids[0].val, nil
}

// reduce applies the original's unmarshaller for tag.
func (d *decoder) reduce(tag string, text any, kids []node) (node, error) {
	str, _ := text.(string)
	bad := func(err error) (node, error) {
		return node{}, &DecodeError{Kind: ErrMalformed, Detail: fmt.Sprintf("<%s>%s</%s>", tag, str, tag), Err: err}
	}
	var v any
	switch tag {
	case "int", "i4":
		if text == nil {
			return bad(errSyntax)
		}
		i, err := parsePyInt(str)
		if err != nil {
			return bad(err)
		}
		v = i
	case "boolean":
		v = str == "1"
	case "string":
		v = str
	case "double":
		if text == nil {
			return bad(errSyntax)
		}
		f, err := parsePyFloat(str)
		if err != nil {
			return bad(err)
		}
		v = f
	case "dateTime.iso8601":
		t, err := parsePyDateTime(str)
		if err != nil {
			return bad(err)
		}
		v = t
	case "base64":
		b, err := decodePyBase64(str)
		if err != nil {
			return bad(err)
		}
		if !utf8.Valid(b) {
			return bad(ErrInvalidUTF8)
		}
		v = b
	case "array", "param":
		x, err := firstVal(tag, kids)
		if err != nil {
			return node{}, err
		}
		v = x
	case "data":
		list := make([]any, len(kids))
		for i, k := range kids {
			list[i] = k.val
		}
		v = list
	case "struct":
		m := make(map[string]any, len(kids))
		for _, member := range kids {
			if len(member.kids) != 2 {
				return node{}, malformed("<%s> in <struct> has %d children, want 2", member.tag, len(member.kids))
			}
			var key string
			switch k := member.kids[0].val.(type) {
			case nil:
			case string:
				key = k
			default:
				// Python would key the dict by a non-string here (or fail
				// for unhashable values); Go maps want strings.
				return node{}, malformed("struct member name is a %T", k)
			}
			m[key] = member.kids[1].val
		}
		v = m
	case "value":
		if len(kids) > 0 {
			v = kids[0].val
		} else {
			v = str
		}
	default:
		switch tag {
		case "methodName":
			s := str
			d.method = &s
		case "params":
			list := make([]any, len(kids))
			for i, k := range kids {
				list[i] = k.val
			}
			d.params = list
		}
		// Not reduced: the original leaves its text and children in place.
		return node{tag: tag, val: text, kids: kids}, nil
	}
	return node{tag: tag, val: v}, nil
}

// guardReader enforces the size cap and rejects invalid UTF-8 as it
// streams (encoding/xml would silently turn bad bytes into U+FFFD).
type guardReader struct {
	r        io.Reader
	left     int64
	pending  [utf8.UTFMax]byte // incomplete sequence carried to the next read
	npend    int
	off      int64
	tooLarge bool
	badUTF8  bool
	badAt    int64
}

var errGuard = errors.New("request body rejected")

func (g *guardReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > g.left+1 {
		p = p[:g.left+1]
	}
	n, err := g.r.Read(p)
	if int64(n) > g.left {
		g.tooLarge = true
		return 0, errGuard
	}
	g.left -= int64(n)
	if !g.check(p[:n], err == io.EOF) {
		g.badUTF8 = true
		return 0, errGuard
	}
	return n, err
}

// check validates p, continuing a sequence left incomplete by the last read.
func (g *guardReader) check(p []byte, eof bool) bool {
	i := 0
	if g.npend > 0 {
		for i < len(p) && g.npend < utf8.UTFMax && !utf8.FullRune(g.pending[:g.npend]) {
			g.pending[g.npend] = p[i]
			g.npend++
			i++
		}
		if !utf8.FullRune(g.pending[:g.npend]) {
			if eof {
				g.badAt = g.off
				return false
			}
			g.off += int64(len(p))
			return true
		}
		if r, size := utf8.DecodeRune(g.pending[:g.npend]); r == utf8.RuneError && size <= 1 || size != g.npend {
			g.badAt = g.off
			return false
		}
		g.npend = 0
	}
	for i < len(p) {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			if !utf8.FullRune(p[i:]) && !eof {
				g.npend = copy(g.pending[:], p[i:])
				break
			}
			g.badAt = g.off + int64(i)
			return false
		}
		i += size
	}
	g.off += int64(len(p))
	return true
}
