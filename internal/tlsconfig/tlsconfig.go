// Package tlsconfig owns the TLS material of seleksid and of its clients: certificates,
// keys and certificate authorities read from PEM files (typically a mounted Kubernetes
// Secret that cert-manager renews), read again when the files change, so a renewed
// certificate is served, and a renewed client certificate presented, without a restart.
//
// Changes are noticed by looking at the files (modification time, size and identity) when a
// handshake needs them: a stat of two or three files costs microseconds beside a handshake's
// key exchange, needs no watcher goroutine, and also sees the symlink swap by which
// Kubernetes replaces a Secret's files. A half-finished replacement (a new certificate beside
// the old key) cannot be loaded; the previous material stays in use and the files are tried
// again once they change once more.
package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
)

// ServerFiles name the PEM files of a server.
type ServerFiles struct {
	// CertFile holds the certificate chain (leaf first), KeyFile its private key.
	CertFile, KeyFile string
	// ClientCAFile holds the authorities client certificates must chain to; empty asks no
	// client for a certificate.
	ClientCAFile string
}

// Server serves the certificate in its files and verifies clients against the authorities in
// its client CA file, reading the files again whenever they change.
type Server struct {
	logger *slog.Logger
	pair   *keyPair
	cas    *caFile
	mu     sync.Mutex
	// trusted are client identities accepted beside the CA file's (see TrustClient).
	trusted []*x509.Certificate
	// pool is the client CA pool built from cas and trusted; poolOf is the CA file's
	// contents it was built from.
	pool   *x509.CertPool
	poolOf []*x509.Certificate
	// served are the leaf certificates this server has presented, newest last (at most
	// servedKept), so a pinning client (LoopbackClient) accepts a connection made just
	// before a renewal.
	served [][]byte
}

// servedKept is how many certificates a Server remembers having presented.
const servedKept = 4

// NewServer reads the files once, so a configuration error stops the process at start
// rather than at its first handshake.
func NewServer(files ServerFiles, logger *slog.Logger) (*Server, error) {
	if files.CertFile == "" || files.KeyFile == "" {
		return nil, errors.New("tlsconfig: a server needs both a certificate file and a key file")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{logger: logger, pair: &keyPair{certFile: files.CertFile, keyFile: files.KeyFile, logger: logger}}
	if _, err := s.pair.load(); err != nil {
		return nil, err
	}
	if files.ClientCAFile != "" {
		s.cas = &caFile{file: files.ClientCAFile, logger: logger}
		if _, err := s.cas.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ClientCertificates reports whether clients are asked for certificates (a client CA file is
// configured).
func (s *Server) ClientCertificates() bool { return s.cas != nil }

// TrustClient accepts cert as a client certificate beside those the client CA file's
// authorities issued: seleksid's HTTP gateway, which calls its own gRPC server with an
// identity that lives only in the process's memory (see LoopbackClient).
func (s *Server) TrustClient(cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trusted = append(s.trusted, cert)
	s.pool = nil
}

// Config is the tls.Config of one listener. clientAuth applies when a client CA file is
// configured (tls.RequireAndVerifyClientCert on the gRPC port, tls.NoClientCert on a port
// browsers use); without one, no client is asked for a certificate. nextProtos are the ALPN
// protocols: each handshake gets a configuration of its own, which net/http does not
// complete with its protocols, so they are given here ("h2", "http/1.1" for HTTP; gRPC's
// credentials add "h2" themselves).
func (s *Server) Config(clientAuth tls.ClientAuthType, nextProtos ...string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, err := s.pair.load()
			if err != nil {
				return nil, err
			}
			s.remember(cert)
			c := &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{*cert},
				NextProtos:   slices.Clone(nextProtos),
			}
			if s.cas != nil && clientAuth != tls.NoClientCert {
				if c.ClientCAs, err = s.clientPool(); err != nil {
					return nil, err
				}
				c.ClientAuth = clientAuth
			}
			return c, nil
		},
	}
}

// remember notes that cert was presented.
func (s *Server) remember(cert *tls.Certificate) {
	leaf := cert.Certificate[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.served); n > 0 && bytes.Equal(s.served[n-1], leaf) {
		return
	}
	s.served = append(s.served, leaf)
	if len(s.served) > servedKept {
		s.served = s.served[len(s.served)-servedKept:]
	}
}

// presented reports whether leaf (DER) is a certificate this server presented.
func (s *Server) presented(leaf []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.served, func(b []byte) bool { return bytes.Equal(b, leaf) })
}

// clientPool is the pool of the CA file's current contents and the trusted identities.
func (s *Server) clientPool() (*x509.CertPool, error) {
	cas, err := s.cas.load()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool != nil && slices.Equal(s.poolOf, cas) {
		return s.pool, nil
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	for _, c := range s.trusted {
		pool.AddCert(c)
	}
	s.pool, s.poolOf = pool, cas
	return pool, nil
}

// ClientFiles name the PEM files of a client.
type ClientFiles struct {
	// CAFile holds the authorities the server's certificate must chain to; empty trusts the
	// system's roots.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key, presented when the server
	// asks for one (mutual TLS); both or neither.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must carry; empty uses the host of
	// the address dialled.
	ServerName string
}

// Client builds the tls.Config of a client. The CA file is read once (an authority changes
// far more rarely than a certificate, and the client's roots cannot change under a running
// tls.Config); the client certificate is read again whenever its files change.
func Client(files ClientFiles, logger *slog.Logger) (*tls.Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: files.ServerName}
	if files.CAFile != "" {
		cas, err := (&caFile{file: files.CAFile, logger: logger}).load()
		if err != nil {
			return nil, err
		}
		c.RootCAs = x509.NewCertPool()
		for _, ca := range cas {
			c.RootCAs.AddCert(ca)
		}
	}
	switch {
	case files.CertFile == "" && files.KeyFile == "":
	case files.CertFile == "" || files.KeyFile == "":
		return nil, errors.New("tlsconfig: a client certificate needs both a certificate file and a key file")
	default:
		pair := &keyPair{certFile: files.CertFile, keyFile: files.KeyFile, logger: logger}
		if _, err := pair.load(); err != nil {
			return nil, err
		}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return pair.load() }
	}
	return c, nil
}

// stamp identifies one version of a file.
type stamp struct{ fi os.FileInfo }

func statFile(name string) (stamp, error) {
	fi, err := os.Stat(name)
	return stamp{fi}, err
}

// same reports whether s and o are the same version of the file: the same file (a replaced
// symlink target or a file renamed over the old one is another file), of the same size and
// modification time (a file rewritten in place).
func (s stamp) same(o stamp) bool {
	return s.fi != nil && o.fi != nil && os.SameFile(s.fi, o.fi) && s.fi.Size() == o.fi.Size() && s.fi.ModTime().Equal(o.fi.ModTime())
}

// keyPair is a certificate and key file pair, loaded again when either changes.
type keyPair struct {
	certFile, keyFile string
	logger            *slog.Logger
	mu                sync.Mutex
	cert              *tls.Certificate
	// loaded are the versions cert was read from; tried the versions last tried, which
	// failed if they differ from loaded.
	loaded, tried [2]stamp
}

// load returns the current certificate, reading the files again if they changed since it
// was read. Files that cannot be loaded leave the previous certificate in use (and are
// reported once); only when there never was one is it an error.
func (k *keyPair) load() (*tls.Certificate, error) {
	cs, cerr := statFile(k.certFile)
	ks, kerr := statFile(k.keyFile)
	k.mu.Lock()
	defer k.mu.Unlock()
	now := [2]stamp{cs, ks}
	if k.cert != nil && (cerr != nil || kerr != nil || (now[0].same(k.loaded[0]) && now[1].same(k.loaded[1])) ||
		(now[0].same(k.tried[0]) && now[1].same(k.tried[1]))) {
		// Unchanged, known to be broken, or missing in the middle of a replacement: keep
		// serving what was loaded until the files change again.
		return k.cert, nil
	}
	k.tried = now
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		err = fmt.Errorf("tlsconfig: load certificate %s and key %s: %w", k.certFile, k.keyFile, err)
		if k.cert == nil {
			return nil, err
		}
		k.logger.Warn("TLS certificate files changed but cannot be loaded; the previous certificate stays in use",
			"cert_file", k.certFile, "key_file", k.keyFile, "error", err)
		return k.cert, nil
	}
	if k.cert != nil {
		k.logger.Info("TLS certificate reloaded", "cert_file", k.certFile, "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	}
	k.cert, k.loaded = &cert, now
	return k.cert, nil
}

// caFile is a PEM file of certificate authorities, loaded again when it changes.
type caFile struct {
	file   string
	logger *slog.Logger
	mu     sync.Mutex
	cas    []*x509.Certificate
	loaded stamp
	tried  stamp
}

// load returns the file's authorities, as keyPair.load does its certificate.
func (c *caFile) load() ([]*x509.Certificate, error) {
	st, serr := statFile(c.file)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cas != nil && (serr != nil || st.same(c.loaded) || st.same(c.tried)) {
		return c.cas, nil
	}
	c.tried = st
	cas, err := readCAs(c.file)
	if err != nil {
		if c.cas == nil {
			return nil, err
		}
		c.logger.Warn("TLS CA file changed but cannot be loaded; the previous authorities stay in use", "ca_file", c.file, "error", err)
		return c.cas, nil
	}
	if c.cas != nil {
		c.logger.Info("TLS CA file reloaded", "ca_file", c.file, "authorities", len(cas))
	}
	c.cas, c.loaded = cas, st
	return c.cas, nil
}

// readCAs reads every certificate of a PEM file.
func readCAs(file string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: read CA file: %w", err)
	}
	var cas []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("tlsconfig: CA file %s: %w", file, err)
		}
		cas = append(cas, c)
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("tlsconfig: CA file %s holds no PEM certificate", file)
	}
	return cas, nil
}
