package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"google.golang.org/protobuf/proto"

	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// encrypted returns a copy of h with every payload (search attributes aside, as the SDK
// does) encrypted by c: the history a deployment with payload encryption records.
func encrypted(t *testing.T, h *historypb.History, c *payloadcodec.Codec) *historypb.History {
	t.Helper()
	e := proto.Clone(h).(*historypb.History)
	if err := proxy.VisitPayloads(context.Background(), e, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Encode(ps)
		},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func testCodec(t *testing.T, id string) *payloadcodec.Codec {
	t.Helper()
	secret := make([]byte, payloadcodec.KeySize)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	c, err := payloadcodec.New([]payloadcodec.Key{{ID: id, Secret: secret}}, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEncryptedHistories: a history whose payloads are encrypted replays, and yields the same
// facts as in clear, with the codec that holds its key; without it (or with other keys) it
// cannot be read, and the error names the key it needs. The history handed in is never
// changed: bundles sign its bytes as Temporal holds them.
func TestEncryptedHistories(t *testing.T) {
	ctx := context.Background()
	codec, other := testCodec(t, "20261201-kunci"), testCodec(t, "20250101-lain")
	for name, b := range recorded(t) {
		t.Run(name, func(t *testing.T) {
			h, err := ParseHistory(b)
			if err != nil {
				t.Fatal(err)
			}
			clear, err := ReplayHistories(ctx, []*historypb.History{h})
			if err != nil || !clear.OK() {
				t.Fatalf("in clear: %v %v", err, clear.Findings)
			}
			enc := encrypted(t, h, codec)
			before := proto.Clone(enc)
			got, err := ReplayHistories(ctx, []*historypb.History{enc}, WithPayloadCodec(codec))
			if err != nil || !got.OK() {
				t.Fatalf("encrypted, with the key: %v %v", err, got.Findings)
			}
			if !proto.Equal(before, enc) {
				t.Error("decoding changed the history handed in")
			}
			if !reflect.DeepEqual(got.Facts, clear.Facts) || !reflect.DeepEqual(got.State, clear.State) {
				t.Error("the encrypted history yields other facts or another state than in clear")
			}
			// A clear history reads the same with a codec (pass-through).
			if again, err := ReplayHistories(ctx, []*historypb.History{h}, WithPayloadCodec(codec)); err != nil || !again.OK() {
				t.Errorf("in clear with a codec: %v %v", err, again.Findings)
			}
			for _, tc := range []struct {
				name string
				opts []Option
			}{{"no keys", nil}, {"other keys", []Option{WithPayloadCodec(other)}}} {
				_, err := ReplayHistories(ctx, []*historypb.History{enc}, tc.opts...)
				if err == nil || !strings.Contains(err.Error(), "20261201-kunci") {
					t.Errorf("%s: %v, want an error naming the key", tc.name, err)
				}
				want := ErrEncryptedPayloads
				if tc.opts != nil {
					want = ErrPayloadKeys
				}
				if !errors.Is(err, want) {
					t.Errorf("%s: %v, want %v", tc.name, err, want)
				}
				if _, fs := ExtractFacts([]*historypb.History{enc}, tc.opts...); !HasKind(fs, KindPartInvalid) {
					t.Errorf("%s: ExtractFacts found nothing wrong", tc.name)
				}
			}
			facts, fs := ExtractFacts([]*historypb.History{enc}, WithPayloadCodec(codec))
			if len(fs) > 0 || !reflect.DeepEqual(facts, clear.Facts) {
				t.Errorf("ExtractFacts with the key: %v", fs)
			}
		})
	}
}
