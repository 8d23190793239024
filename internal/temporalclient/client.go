// Package temporalclient owns the connection to Temporal: dialing the frontend (embedded or
// an external cluster) with Seleksi's logger, and making sure the namespace exists with the
// configured retention and the search attributes the selection workflows upsert. It uses
// only the SDK, so it behaves the same against the embedded server and a production cluster.
package temporalclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Options say where Temporal is and how the namespace must look.
type Options struct {
	HostPort  string
	Namespace string
	// Retention is how long Temporal keeps a closed workflow's history.
	Retention time.Duration
	// SearchAttributes are registered when missing; existing ones are left alone.
	SearchAttributes map[string]enumspb.IndexedValueType
	// DataConverter turns values into payloads and back for everything the client and the
	// workers built on it send and receive (internal/payloadcodec's, which encrypts them);
	// nil is the SDK's default.
	DataConverter converter.DataConverter
	Logger        *slog.Logger
	// TLS secures the connection (TLS, or mutual TLS when it presents a client
	// certificate); nil connects in plain text, as to the embedded server.
	TLS *tls.Config
	// APIKey, when set, gives the API key sent with every call to a hosted cluster; it is
	// asked on each call, so a rotated key is used without a restart (APIKeyFromFile).
	APIKey func(context.Context) (string, error)
	// MetricsHandler receives the SDK's metrics (internal/telemetry); nil records none.
	MetricsHandler client.MetricsHandler
	// Interceptors wrap the client and the workers built on it (tracing: internal/telemetry).
	Interceptors []interceptor.ClientInterceptor
}

// Dial connects to Temporal, waiting up to the context's deadline for the frontend, then
// ensures the namespace, its retention and the search attributes.
func Dial(ctx context.Context, opts Options) (client.Client, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := dialWithRetry(ctx, clientOptions(opts))
	if err != nil {
		return nil, err
	}
	if err := ensureNamespace(ctx, c, opts); err != nil {
		c.Close()
		return nil, err
	}
	if err := ensureSearchAttributes(ctx, c, opts); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// clientOptions are the SDK's options for opts.
func clientOptions(opts Options) client.Options {
	o := client.Options{
		HostPort:          opts.HostPort,
		Namespace:         opts.Namespace,
		DataConverter:     opts.DataConverter,
		MetricsHandler:    opts.MetricsHandler,
		Interceptors:      opts.Interceptors,
		Logger:            sdklog.NewStructuredLogger(opts.Logger.With("component", "temporal-sdk")),
		ConnectionOptions: client.ConnectionOptions{TLS: opts.TLS},
	}
	if opts.APIKey != nil {
		o.Credentials = client.NewAPIKeyDynamicCredentials(opts.APIKey)
	}
	return o
}

// dialWithRetry retries while the frontend is still starting (an embedded server, or a
// cluster coming up beside us in Compose), until the context ends.
func dialWithRetry(ctx context.Context, o client.Options) (client.Client, error) {
	for {
		c, err := client.DialContext(ctx, o)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("temporalclient: dial %s: %w", o.HostPort, errors.Join(err, ctx.Err()))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func ensureNamespace(ctx context.Context, c client.Client, opts Options) error {
	ws := c.WorkflowService()
	desc, err := ws.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: opts.Namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound):
		_, err = ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        opts.Namespace,
			Description:                      "Seleksi: open selection for JPT Pratama",
			WorkflowExecutionRetentionPeriod: durationpb.New(opts.Retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("temporalclient: register namespace %q: %w", opts.Namespace, err)
		}
		opts.Logger.InfoContext(ctx, "registered temporal namespace", "namespace", opts.Namespace, "retention", opts.Retention)
		return nil
	case err != nil:
		return fmt.Errorf("temporalclient: describe namespace %q: %w", opts.Namespace, err)
	}
	if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == opts.Retention {
		return nil
	}
	_, err = ws.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: opts.Namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(opts.Retention)},
	})
	if err != nil {
		return fmt.Errorf("temporalclient: set retention of namespace %q: %w", opts.Namespace, err)
	}
	opts.Logger.InfoContext(ctx, "set temporal namespace retention", "namespace", opts.Namespace, "retention", opts.Retention)
	return nil
}

func ensureSearchAttributes(ctx context.Context, c client.Client, opts Options) error {
	if len(opts.SearchAttributes) == 0 {
		return nil
	}
	list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: opts.Namespace})
	if err != nil {
		return fmt.Errorf("temporalclient: list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range opts.SearchAttributes {
		have, ok := list.GetCustomAttributes()[name]
		if !ok {
			missing[name] = typ
			continue
		}
		if have != typ {
			return fmt.Errorf("temporalclient: search attribute %s is %s in namespace %q, want %s", name, have, opts.Namespace, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        opts.Namespace,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("temporalclient: add search attributes: %w", err)
	}
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	slices.Sort(names)
	opts.Logger.InfoContext(ctx, "added temporal search attributes", "namespace", opts.Namespace, "names", names)
	return nil
}
