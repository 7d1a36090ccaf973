package postgres

import (
	"reflect"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// msgInfo is what the generic walks over parse trees (the coverage net and
// the round-trip check) need to know about one generated message type,
// worked out once so that a walk does no reflection on types.
type msgInfo struct {
	typ reflect.Type // pointer to the generated struct
	// children are the fields that can hold messages.
	children []childField
	// wrappers maps each oneof member's Go wrapper type to what it holds.
	wrappers map[reflect.Type]member
	// tracked: a message that means something for the judgement, which the
	// describer must have examined.
	tracked bool
	json    *jsonTable
}

type childKind uint8

const (
	childMessage childKind = iota
	childList
	childOneof
)

// member is what a oneof member holds: a message (info nil when it is
// to be looked up as the walk meets it) or a scalar.
type member struct {
	msg  bool
	info *msgInfo
}

// childField is a field that can hold messages; info describes them for
// a message or list field (nil: looked up as the walk meets them).
type childField struct {
	index int
	kind  childKind
	info  *msgInfo
}

var protoMessage = reflect.TypeOf((*proto.Message)(nil)).Elem()

// messageInfos holds every message type of pg_query's protobuf file.
var messageInfos = sync.OnceValue(func() map[reflect.Type]*msgInfo {
	infos := map[reflect.Type]*msgInfo{}
	msgs := pg_query.File_pg_query_proto.Messages()
	for i := 0; i < msgs.Len(); i++ {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(msgs.Get(i).FullName())
		if err != nil {
			continue
		}
		t := reflect.TypeOf(mt.Zero().Interface())
		infos[t] = &msgInfo{typ: t}
	}
	for _, mi := range infos {
		fill(mi, func(t reflect.Type) *msgInfo { return infos[t] })
	}
	return infos
})

// infoOf returns the info of a generated message type (a pointer to
// struct). A type outside pg_query's file, which a parse tree cannot
// hold, is worked out on the spot.
func infoOf(t reflect.Type) *msgInfo {
	if mi, ok := messageInfos()[t]; ok {
		return mi
	}
	mi := &msgInfo{typ: t}
	fill(mi, func(reflect.Type) *msgInfo { return nil })
	return mi
}

// fill works out mi from its type; known returns the info of another
// type, or nil, in which case walks look it up when they meet it.
func fill(mi *msgInfo, known func(reflect.Type) *msgInfo) {
	st := mi.typ.Elem()
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Pointer && f.Type.Implements(protoMessage):
			mi.children = append(mi.children, childField{i, childMessage, known(f.Type)})
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Implements(protoMessage):
			mi.children = append(mi.children, childField{i, childList, known(f.Type.Elem())})
		case f.Type.Kind() == reflect.Interface && f.Tag.Get("protobuf_oneof") != "":
			mi.children = append(mi.children, childField{i, childOneof, nil})
		}
	}
	mi.tracked = tracked(reflect.New(st).Interface())
	mi.wrappers = map[reflect.Type]member{}
	for w, inner := range oneofWrappers(mi.typ) {
		if inner.Kind() == reflect.Pointer && inner.Implements(protoMessage) {
			mi.wrappers[w] = member{msg: true, info: known(inner)}
		} else {
			mi.wrappers[w] = member{}
		}
	}
	mi.json = buildJSONTable(mi, known)
}

// oneofWrappers maps each oneof member's wrapper type of message type t
// to the type of the value it wraps. Setting a member through protoreflect
// shows which wrapper stands for it.
func oneofWrappers(t reflect.Type) map[reflect.Type]reflect.Type {
	out := map[reflect.Type]reflect.Type{}
	st := t.Elem()
	fds := reflect.New(st).Interface().(proto.Message).ProtoReflect().Descriptor().Fields()
	for k := 0; k < fds.Len(); k++ {
		fd := fds.Get(k)
		od := fd.ContainingOneof()
		if od == nil || od.IsSynthetic() {
			continue
		}
		if w, ok := oneofMember(t, fd); ok {
			out[w.Type()] = w.Elem().Field(0).Type()
		}
	}
	return out
}

// oneofMember returns the wrapper value that a message of type t holds in
// its oneof interface field when member fd is set.
func oneofMember(t reflect.Type, fd protoreflect.FieldDescriptor) (reflect.Value, bool) {
	st := t.Elem()
	m := reflect.New(st)
	pm := m.Interface().(proto.Message).ProtoReflect()
	pm.Set(fd, pm.NewField(fd))
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if f.Tag.Get("protobuf_oneof") == string(fd.ContainingOneof().Name()) {
			if w := m.Elem().Field(i); !w.IsNil() {
				return w.Elem(), true
			}
		}
	}
	return reflect.Value{}, false
}

// protoFieldIndex maps protobuf field names to Go struct field indexes,
// from the struct tags.
func protoFieldIndex(st reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		for _, part := range strings.Split(f.Tag.Get("protobuf"), ",") {
			if name, ok := strings.CutPrefix(part, "name="); ok {
				out[name] = i
			}
		}
	}
	return out
}
