package server

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// A request message that cannot be decoded (garbage, truncated protobuf,
// invalid UTF-8 in a string field) is the caller's mistake: it is answered
// INVALID_ARGUMENT, through the interceptors, so the call is authenticated,
// limited, logged and counted like any other.
//
// grpc-go decodes the message inside the generated handler, before the
// interceptors run, and when its codec fails it answers INTERNAL at once
// (which this service keeps for its own faults), leaving the call out of
// the logs and metrics. So the server's codec does not fail on the
// service's request messages: it records the failure, which the guarded
// handler then finds and answers.

// lenientCodec is the protobuf codec, except that it records a request
// message of the guarded types that does not decode instead of failing.
type lenientCodec struct {
	encoding.CodecV2
	guarded map[protoreflect.FullName]bool
	failed  sync.Map // proto.Message → error, until the handler takes it
}

func newLenientCodec() *lenientCodec {
	return &lenientCodec{CodecV2: encoding.GetCodecV2(proto.Name), guarded: map[protoreflect.FullName]bool{}}
}

func (c *lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	if m, ok := v.(protov2.Message); ok && c.guarded[m.ProtoReflect().Descriptor().FullName()] {
		protov2.Reset(m)
		c.failed.Store(v, err)
		return nil
	}
	return err
}

// take returns and forgets the decoding failure recorded for v.
func (c *lenientCodec) take(v any) error {
	if err, ok := c.failed.LoadAndDelete(v); ok {
		return err.(error)
	}
	return nil
}

// guard returns a copy of desc whose unary handlers answer a request
// message that did not decode with INVALID_ARGUMENT through the
// interceptor, and registers the methods' request types with the codec.
func (c *lenientCodec) guard(desc *grpc.ServiceDesc) *grpc.ServiceDesc {
	if d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName)); err == nil {
		if sd, ok := d.(protoreflect.ServiceDescriptor); ok {
			for i := 0; i < sd.Methods().Len(); i++ {
				if m := sd.Methods().Get(i); !m.IsStreamingClient() {
					c.guarded[m.Input().FullName()] = true
				}
			}
		}
	}
	out := *desc
	out.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		handler, method := m.Handler, "/"+desc.ServiceName+"/"+m.MethodName
		m.Handler = func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			var decoded any
			var decodeErr error
			resp, err := handler(srv, ctx, func(v any) error {
				decoded = v
				decodeErr = dec(v)
				if decodeErr == nil {
					if bad := c.take(v); bad != nil {
						decodeErr = status.Errorf(codes.InvalidArgument,
							"the request is not a valid %s message (%v); send protobuf as the service's .proto file defines it, with UTF-8 strings",
							method, bad)
					}
				}
				return decodeErr
			}, interceptor)
			if decodeErr == nil || err != decodeErr {
				return resp, err
			}
			// A failure of the transport itself (a message over the size
			// limit) has been answered already; it is still counted.
			if interceptor == nil {
				return nil, decodeErr
			}
			return interceptor(ctx, decoded, &grpc.UnaryServerInfo{Server: srv, FullMethod: method},
				func(context.Context, any) (any, error) { return nil, decodeErr })
		}
		out.Methods[i] = m
	}
	return &out
}
