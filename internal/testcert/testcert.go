// Package testcert makes the certificates TLS tests need, fresh for each
// test, so that none is committed: a CA, a server certificate for
// localhost and 127.0.0.1 signed by it, and client certificates.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Files are PEM files of one certificate and its key.
type Files struct {
	Cert, Key string
}

// Authority is a CA that signs certificates for tests.
type Authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
	// CertFile is the CA's certificate, as PEM, for a peer to trust.
	CertFile string
	// Pool holds the CA's certificate.
	Pool *x509.CertPool
}

// NewAuthority makes a CA named name whose files go in dir.
func NewAuthority(dir, name string) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	a := &Authority{cert: cert, key: key, dir: dir, CertFile: filepath.Join(dir, safe(name)+"-ca.pem"), Pool: x509.NewCertPool()}
	a.Pool.AddCert(cert)
	return a, writePEM(a.CertFile, "CERTIFICATE", der)
}

// Server signs a server certificate for localhost and 127.0.0.1 (and any
// other names given) and writes it and its key.
func (a *Authority) Server(names ...string) (Files, tls.Certificate, error) {
	return a.issue("server", append([]string{"localhost", "127.0.0.1"}, names...), x509.ExtKeyUsageServerAuth)
}

// Client signs a client certificate whose subject's common name is cn.
func (a *Authority) Client(cn string) (Files, tls.Certificate, error) {
	return a.issue(cn, nil, x509.ExtKeyUsageClientAuth)
}

func (a *Authority) issue(cn string, names []string, usage x509.ExtKeyUsage) (Files, tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Files{}, tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return Files{}, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"echospec tests"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return Files{}, tls.Certificate{}, fmt.Errorf("certificate for %s: %w", cn, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Files{}, tls.Certificate{}, err
	}
	f := Files{Cert: filepath.Join(a.dir, safe(cn)+".pem"), Key: filepath.Join(a.dir, safe(cn)+"-key.pem")}
	if err := writePEM(f.Cert, "CERTIFICATE", der); err != nil {
		return Files{}, tls.Certificate{}, err
	}
	if err := writePEM(f.Key, "PRIVATE KEY", keyDER); err != nil {
		return Files{}, tls.Certificate{}, err
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	return f, cert, err
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}

// safe makes a name fit for a file name.
func safe(name string) string {
	b := []byte(name)
	for i, c := range b {
		if ('a' > c || c > 'z') && ('A' > c || c > 'Z') && ('0' > c || c > '9') && c != '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
