package postgres

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// matchesJSON reports whether js, libpg_query's JSON form of a parse
// result, holds exactly one statement whose tree equals root, the source
// locations aside. It is Print's round-trip check: the printed text is
// parsed again to JSON, which the C library writes several times faster
// than protobuf, and compared field by field with the tree that was
// judged.
//
// The comparison fails closed: a key the generated Go types do not know,
// a value of another shape, a missing key whose Go field is set, or a
// malformed document are all differences.
func matchesJSON(js string, version int32, root *pg_query.Node) bool {
	want := &pg_query.ParseResult{Version: version, Stmts: []*pg_query.RawStmt{{Stmt: root}}}
	m := jsonMatcher{s: js}
	v := reflect.ValueOf(want)
	if !m.message(v, infoOf(v.Type())) {
		return false
	}
	m.space()
	return m.i == len(m.s)
}

// jsonMatcher walks a JSON document alongside a Go value.
type jsonMatcher struct {
	s   string
	i   int
	buf []byte // scratch for strings with escapes
}

func (m *jsonMatcher) space() {
	for m.i < len(m.s) {
		switch m.s[m.i] {
		case ' ', '\t', '\n', '\r':
			m.i++
		default:
			return
		}
	}
}

// next skips white space and reports the next byte, or 0 at the end.
func (m *jsonMatcher) next() byte {
	m.space()
	if m.i < len(m.s) {
		return m.s[m.i]
	}
	return 0
}

func (m *jsonMatcher) take(c byte) bool {
	if m.next() == c {
		m.i++
		return true
	}
	return false
}

func (m *jsonMatcher) literal(word string) bool {
	m.space()
	if strings.HasPrefix(m.s[m.i:], word) {
		m.i += len(word)
		return true
	}
	return false
}

// str reads a JSON string. Without escapes it is a slice of the document;
// with them it is decoded into the scratch buffer, valid until the next
// call.
func (m *jsonMatcher) str() (string, bool) {
	if !m.take('"') {
		return "", false
	}
	start := m.i
	for m.i < len(m.s) {
		switch c := m.s[m.i]; {
		case c == '"':
			out := m.s[start:m.i]
			m.i++
			return out, true
		case c == '\\':
			return m.escaped(start)
		case c < 0x20:
			return "", false
		default:
			m.i++
		}
	}
	return "", false
}

// escaped finishes a string that holds escapes, from start (just after
// the opening quote); m.i is at the first backslash.
func (m *jsonMatcher) escaped(start int) (string, bool) {
	m.buf = append(m.buf[:0], m.s[start:m.i]...)
	for m.i < len(m.s) {
		c := m.s[m.i]
		switch {
		case c == '"':
			m.i++
			return string(m.buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			m.buf = append(m.buf, c)
			m.i++
			continue
		}
		if m.i+1 >= len(m.s) {
			return "", false
		}
		e := m.s[m.i+1]
		m.i += 2
		switch e {
		case '"', '\\', '/':
			m.buf = append(m.buf, e)
		case 'b':
			m.buf = append(m.buf, '\b')
		case 'f':
			m.buf = append(m.buf, '\f')
		case 'n':
			m.buf = append(m.buf, '\n')
		case 'r':
			m.buf = append(m.buf, '\r')
		case 't':
			m.buf = append(m.buf, '\t')
		case 'u':
			r, ok := m.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				if !strings.HasPrefix(m.s[m.i:], `\u`) {
					return "", false
				}
				m.i += 2
				r2, ok := m.hex4()
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
			}
			m.buf = utf8.AppendRune(m.buf, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (m *jsonMatcher) hex4() (rune, bool) {
	if m.i+4 > len(m.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(m.s[m.i:m.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	m.i += 4
	return rune(n), true
}

// number reads a JSON number's text.
func (m *jsonMatcher) number() (string, bool) {
	m.space()
	start := m.i
	for m.i < len(m.s) {
		c := m.s[m.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			m.i++
			continue
		}
		break
	}
	return m.s[start:m.i], m.i > start
}

// message compares a JSON object with v, a non-nil pointer to a generated
// message struct described by mi.
func (m *jsonMatcher) message(v reflect.Value, mi *msgInfo) bool {
	if mi == nil {
		mi = infoOf(v.Type())
	}
	t := mi.json
	if t == nil || !m.take('{') {
		return false
	}
	e := v.Elem()
	var seen fieldSet
	if m.take('}') {
		return m.restZero(t, e, &seen)
	}
	for {
		key, ok := m.str()
		if !ok || !m.take(':') {
			return false
		}
		f := t.lookup(key)
		if f == nil {
			return false
		}
		if f.location {
			if _, ok := m.number(); !ok {
				return false
			}
		} else {
			if seen.has(f.slot) {
				return false // a key twice, or two members of one oneof
			}
			seen.add(f.slot)
			fv := e.Field(f.index)
			if f.wrapper != nil {
				// A oneof member: the interface must hold this member's
				// wrapper, whose one field is the value.
				if fv.IsNil() || fv.Elem().Type() != f.wrapper {
					return false
				}
				fv = fv.Elem().Elem().Field(0)
			}
			if !m.value(f, fv) {
				return false
			}
		}
		if m.take(',') {
			continue
		}
		if !m.take('}') {
			return false
		}
		return m.restZero(t, e, &seen)
	}
}

// fieldSet is a set of field slots, below maxGoFields.
type fieldSet [maxGoFields / 64]uint64

func (s *fieldSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
func (s *fieldSet) add(i int)      { s[i/64] |= 1 << (i % 64) }

// restZero checks that every field the object did not name is unset.
func (m *jsonMatcher) restZero(t *jsonTable, e reflect.Value, seen *fieldSet) bool {
	for slot, index := range t.goFields {
		if seen.has(slot) {
			continue
		}
		fv := e.Field(index)
		switch fv.Kind() {
		case reflect.Slice, reflect.Map:
			if fv.Len() != 0 {
				return false
			}
		default:
			if !fv.IsZero() {
				return false
			}
		}
	}
	return true
}

// value compares one JSON value with the Go field fv.
func (m *jsonMatcher) value(f *jsonField, fv reflect.Value) bool {
	switch f.kind {
	case jsonMessage:
		return !fv.IsNil() && m.message(fv, f.child)
	case jsonList:
		if !m.take('[') {
			return false
		}
		n := fv.Len()
		if m.take(']') {
			return n == 0
		}
		for i := 0; ; i++ {
			if i >= n || fv.Index(i).IsNil() || !m.message(fv.Index(i), f.child) {
				return false
			}
			if m.take(',') {
				continue
			}
			return m.take(']') && i+1 == n
		}
	case jsonString:
		if m.literal("null") {
			// The C writer prints a null string as null; protobuf has
			// no null and reads it as empty.
			return fv.String() == ""
		}
		s, ok := m.str()
		return ok && s == fv.String()
	case jsonBool:
		switch {
		case m.literal("true"):
			return fv.Bool()
		case m.literal("false"):
			return !fv.Bool()
		}
		return false
	case jsonInt:
		text, ok := m.quotedOrNumber()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(text, 10, 64)
		return err == nil && n == fv.Int()
	case jsonUint:
		text, ok := m.quotedOrNumber()
		if !ok {
			return false
		}
		n, err := strconv.ParseUint(text, 10, 64)
		return err == nil && n == fv.Uint()
	case jsonEnum:
		name, ok := m.str()
		if !ok {
			return false
		}
		n, ok := f.enum[name]
		return ok && int64(n) == fv.Int()
	}
	// Kinds a parse tree does not use (floating point, bytes, repeated
	// scalars, maps) are never accepted.
	return false
}

// quotedOrNumber reads an integer written bare or, as protobuf's JSON
// mapping writes 64-bit integers, as a string.
func (m *jsonMatcher) quotedOrNumber() (string, bool) {
	if m.next() == '"' {
		return m.str()
	}
	return m.number()
}

type jsonKind uint8

const (
	jsonOther jsonKind = iota
	jsonMessage
	jsonList
	jsonString
	jsonBool
	jsonInt
	jsonUint
	jsonEnum
)

// jsonField is one JSON key of a message: a field, or one member of a
// oneof.
type jsonField struct {
	name     string
	index    int // Go struct field; for a oneof member, the interface field
	slot     int // index into jsonTable.goFields
	kind     jsonKind
	location bool
	wrapper  reflect.Type // the oneof member's wrapper type, or nil
	enum     map[string]int32
	child    *msgInfo // for messages and lists; nil: looked up by type
}

// jsonTable describes a generated message type for the matcher.
type jsonTable struct {
	fields []jsonField
	byName map[string]*jsonField // for types with many keys (Node)
	// goFields are the indexes of the struct fields that carry the
	// message's content (locations excluded): each must match or be unset.
	goFields []int
}

// maxGoFields bounds the fields of a message the matcher tracks in one
// bit set; pg_query's largest message has far fewer.
const maxGoFields = 128

func (t *jsonTable) lookup(key string) *jsonField {
	if t.byName != nil {
		return t.byName[key]
	}
	for i := range t.fields {
		if t.fields[i].name == key {
			return &t.fields[i]
		}
	}
	return nil
}

// buildJSONTable maps the JSON names of mi's fields (from the protobuf
// descriptor, as libpg_query writes them) to its Go fields. It returns nil,
// which makes every comparison fail, for a type it cannot map completely.
func buildJSONTable(mi *msgInfo, known func(reflect.Type) *msgInfo) *jsonTable {
	st := mi.typ.Elem()
	desc := reflect.New(st).Interface().(proto.Message).ProtoReflect().Descriptor()
	byProto := protoFieldIndex(st)
	tab := &jsonTable{}
	slotOf := map[int]int{}
	slot := func(index int) int {
		if s, ok := slotOf[index]; ok {
			return s
		}
		slotOf[index] = len(tab.goFields)
		tab.goFields = append(tab.goFields, index)
		return slotOf[index]
	}
	fds := desc.Fields()
	for k := 0; k < fds.Len(); k++ {
		fd := fds.Get(k)
		jf := jsonField{name: fd.JSONName(), kind: fieldKind(fd)}
		if fd.Enum() != nil && !fd.IsList() {
			jf.enum = map[string]int32{}
			vals := fd.Enum().Values()
			for j := 0; j < vals.Len(); j++ {
				jf.enum[string(vals.Get(j).Name())] = int32(vals.Get(j).Number())
			}
		}
		if od := fd.ContainingOneof(); od != nil && !od.IsSynthetic() {
			w, ok := oneofMember(mi.typ, fd)
			if !ok {
				return nil
			}
			index := -1
			for i := 0; i < st.NumField(); i++ {
				if st.Field(i).Tag.Get("protobuf_oneof") == string(od.Name()) {
					index = i
				}
			}
			if index < 0 {
				return nil
			}
			jf.index, jf.wrapper, jf.slot = index, w.Type(), slot(index)
			if jf.kind == jsonMessage {
				jf.child = known(w.Elem().Field(0).Type())
			}
		} else {
			index, ok := byProto[string(fd.Name())]
			if !ok {
				return nil
			}
			f := st.Field(index)
			jf.index = index
			if f.Type.Kind() == reflect.Int32 && isLocationField(f.Name) {
				jf.location = true
			} else {
				jf.slot = slot(index)
			}
			switch jf.kind {
			case jsonMessage:
				jf.child = known(f.Type)
			case jsonList:
				jf.child = known(f.Type.Elem())
			}
		}
		tab.fields = append(tab.fields, jf)
		if name := string(fd.Name()); name != jf.name {
			// Like protobuf's own JSON reader, take the field's proto name
			// too; a field named twice is still matched once.
			jf.name = name
			tab.fields = append(tab.fields, jf)
		}
	}
	// Every exported field must be mapped: an unmapped one could carry
	// content that would go unchecked.
	for i := 0; i < st.NumField(); i++ {
		if !st.Field(i).IsExported() {
			continue
		}
		mapped := false
		for _, jf := range tab.fields {
			mapped = mapped || jf.index == i
		}
		if !mapped {
			return nil
		}
	}
	if len(tab.goFields) > maxGoFields {
		return nil
	}
	if len(tab.fields) > 12 {
		tab.byName = make(map[string]*jsonField, len(tab.fields))
		for i := range tab.fields {
			tab.byName[tab.fields[i].name] = &tab.fields[i]
		}
	}
	return tab
}

func fieldKind(fd protoreflect.FieldDescriptor) jsonKind {
	if fd.IsMap() {
		return jsonOther
	}
	if fd.IsList() {
		if fd.Kind() == protoreflect.MessageKind {
			return jsonList
		}
		return jsonOther
	}
	switch fd.Kind() {
	case protoreflect.MessageKind:
		return jsonMessage
	case protoreflect.StringKind:
		return jsonString
	case protoreflect.BoolKind:
		return jsonBool
	case protoreflect.EnumKind:
		return jsonEnum
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return jsonInt
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return jsonUint
	}
	return jsonOther
}
