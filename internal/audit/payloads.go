package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// Option adjusts how the functions that read histories (ExtractFacts, Replay,
// ReplayHistories, VerifyBundle) read their payloads.
type Option func(*options)

type options struct {
	codec converter.PayloadCodec
}

// WithPayloadCodec decodes every payload of the histories with codec before they are read:
// the payload codec holding the deployment's keys (internal/payloadcodec), since Temporal,
// its exported histories and the bundles carry payloads encrypted. Payloads the codec does
// not know (histories recorded before encryption) pass through unchanged. Only copies are
// decoded: the histories handed in, whose bytes the bundle's digests and signature cover,
// are left as they are.
func WithPayloadCodec(codec converter.PayloadCodec) Option {
	return func(o *options) { o.codec = codec }
}

func optionsOf(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ErrEncryptedPayloads is returned for histories whose payloads are encrypted when no codec
// (or one without their keys) was given: they cannot be read without the payload keys.
var ErrEncryptedPayloads = errors.New("the history's payloads are encrypted: the payload keys are needed to read it (seleksictl --payload-keys)")

// ErrPayloadKeys is returned for histories whose encrypted payloads the codec given cannot
// decrypt: it lacks their key, or holds another key under that ID, or a payload was altered.
var ErrPayloadKeys = errors.New("the history's payloads do not decrypt with the payload keys given")

// decodeRun returns h with its payloads decoded by the options' codec: a decoded copy, or
// h itself when it has no encrypted payload. Without a codec, a history with encrypted
// payloads is an ErrEncryptedPayloads naming their key IDs.
func (o options) decodeRun(h *historypb.History) (*historypb.History, error) {
	keyIDs, err := encryptedKeyIDs(h)
	if err != nil || len(keyIDs) == 0 {
		return h, err
	}
	if o.codec == nil {
		return nil, fmt.Errorf("%w (key IDs %v)", ErrEncryptedPayloads, keyIDs)
	}
	d := proto.Clone(h).(*historypb.History)
	err = proxy.VisitPayloads(context.Background(), d, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return o.codec.Decode(ps)
		},
		// The SDK never encodes search attributes with the codec.
		SkipSearchAttributes: true,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (key IDs %v): %w", ErrPayloadKeys, keyIDs, err)
	}
	return d, nil
}

// decodeRuns decodes every run (see decodeRun); the error names the run.
func (o options) decodeRuns(runs []*historypb.History) ([]*historypb.History, error) {
	out := make([]*historypb.History, len(runs))
	for i, h := range runs {
		d, err := o.decodeRun(h)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		out[i] = d
	}
	return out, nil
}

// encryptedKeyIDs lists the key IDs of h's encrypted payloads, sorted; none when h is in
// clear.
func encryptedKeyIDs(h *historypb.History) ([]string, error) {
	var ids []string
	err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				if payloadcodec.Encrypted(p) {
					if id := string(p.GetMetadata()[payloadcodec.MetadataKeyID]); !slices.Contains(ids, id) {
						ids = append(ids, id)
					}
				}
			}
			return ps, nil
		},
		SkipSearchAttributes: true,
		// Left alone, the visitor re-marshals every Any it meets; this scan changes nothing.
		WellKnownAnyVisitor: func(*proxy.VisitPayloadsContext, *anypb.Any) error { return nil },
	})
	slices.Sort(ids)
	return ids, err
}
