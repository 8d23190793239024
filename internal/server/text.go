package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Text the stores cannot hold is refused at the edge, for every string field of every
// request. PostgreSQL refuses a NUL byte in text ("invalid byte sequence for encoding UTF8:
// 0x00"); a candidate once froze a selection with one in a withdrawal reason, because the
// command reached the store and was retried there. Walking the message generically covers
// nested, repeated and map fields, and fields added later, without a rule per field.

var msgTextNotStorable = i18n.Text{
	ID: "teks mengandung karakter NUL atau urutan UTF-8 yang tidak sah",
	EN: "the text contains a NUL character or invalid UTF-8",
}

// storableText answers InvalidArgument, with one field violation per offending field, when a
// string anywhere in msg holds a NUL byte or invalid UTF-8.
func storableText(ctx context.Context, msg proto.Message) error {
	var fields []string
	badText(msg.ProtoReflect(), "", &fields)
	if len(fields) == 0 {
		return nil
	}
	// Range visits fields in no fixed order; a sorted list answers the same every time.
	slices.Sort(fields)
	desc := msgTextNotStorable.In(language(ctx))
	br := &errdetails.BadRequest{}
	for _, f := range fields {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: f, Description: desc, Reason: "TEXT_NOT_STORABLE"})
	}
	return localizedError(ctx, codes.InvalidArgument, msgInvalid, br)
}

// badText appends the path of every string in m that the stores cannot hold, in
// protovalidate's notation (results[0].reason, labels["k"]).
func badText(m protoreflect.Message, prefix string, out *[]string) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := prefix + string(fd.Name())
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				badValue(fd, l.Get(i), fmt.Sprintf("%s[%d]", name, i), out)
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				path := fmt.Sprintf("%s[%q]", name, k.String())
				if fd.MapKey().Kind() == protoreflect.StringKind && !storable(k.String()) {
					*out = append(*out, path)
				}
				badValue(fd.MapValue(), mv, path, out)
				return true
			})
		default:
			badValue(fd, v, name, out)
		}
		return true
	})
}

func badValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string, out *[]string) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if !storable(v.String()) {
			*out = append(*out, path)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		badText(v.Message(), path+".", out)
	}
}

func storable(s string) bool { return !strings.ContainsRune(s, 0) && utf8.ValidString(s) }
