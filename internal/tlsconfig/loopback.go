package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// LoopbackClient is the tls.Config with which a process calls its own Server: seleksid's
// HTTP gateway and web pages calling its gRPC server over loopback. The server's
// certificate is named for the clients outside (a public host name, perhaps from a private
// authority), not for 127.0.0.1, so instead of the usual verification the client accepts
// exactly the certificates s presents. When s asks clients for certificates, the client
// presents one made here, whose key never leaves the process's memory and which s trusts
// (TrustClient) beside its CA file's: no certificate of the CA's has to be issued to the
// server itself, and nobody outside can present this one.
func LoopbackClient(s *Server, now time.Time) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: loopback client key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: loopback client serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "seleksid loopback gateway"},
		NotBefore:    now.Add(-time.Hour),
		// The certificate lives as long as the process; a process running for longer than
		// this is restarted by its next deployment long before.
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: loopback client certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: loopback client certificate: %w", err)
	}
	s.TrustClient(leaf)
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		// The usual verification (chain and host name) is replaced by VerifyConnection's
		// comparison with the certificates the server presented; Go runs VerifyConnection
		// whether or not InsecureSkipVerify is set.
		InsecureSkipVerify: true, //nolint:gosec // verified by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !s.presented(cs.PeerCertificates[0].Raw) {
				return errors.New("tlsconfig: the loopback peer is not this process's server")
			}
			return nil
		},
	}, nil
}
