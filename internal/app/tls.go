package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/temporalclient"
	"github.com/bkpsdm/seleksi/internal/tlsconfig"
)

// serverTLS is the transport's TLS (issue 14 §4): none, or the configured certificate, read
// again when its files change. The files are read once here, so a bad certificate stops
// seleksid at start.
func serverTLS(cfg config.Config, logger *slog.Logger) (TransportOption, error) {
	if !cfg.TLS.Enabled() {
		return func(*transportOptions) {}, nil
	}
	s, err := tlsconfig.NewServer(tlsconfig.ServerFiles{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile,
		ClientCAFile: cfg.TLS.ClientCAFile}, logger.With("component", "tls"))
	if err != nil {
		return nil, err
	}
	return WithTLS(s, cfg.TLS.ClientAuthHTTP), nil
}

// temporalSecurity sets the TLS and the API key of the connection to an external Temporal
// cluster on opts.
func temporalSecurity(cfg config.Config, logger *slog.Logger, opts *temporalclient.Options) error {
	t := cfg.TemporalTLS
	if !t.Enabled {
		return nil
	}
	var err error
	if opts.TLS, err = tlsconfig.Client(tlsconfig.ClientFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile,
		ServerName: t.ServerName}, logger.With("component", "temporal-tls")); err != nil {
		return fmt.Errorf("Temporal TLS: %w", err)
	}
	switch {
	case t.APIKeyFile != "":
		if opts.APIKey, err = temporalclient.APIKeyFromFile(t.APIKeyFile); err != nil {
			return err
		}
	case t.APIKey != "":
		key := string(t.APIKey)
		opts.APIKey = func(context.Context) (string, error) { return key, nil }
	}
	return nil
}
