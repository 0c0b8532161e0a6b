package cli

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// ServerTLS is what the -tls-* flags of a server say.
type ServerTLS struct {
	cert, key, clientCA *string
	// HandshakeTimeout is -tls-handshake-timeout.
	HandshakeTimeout *time.Duration
}

// AddServerTLSFlags defines -tls-cert, -tls-key, -tls-client-ca and
// -tls-handshake-timeout on fs.
func AddServerTLSFlags(fs *flag.FlagSet, handshake time.Duration) ServerTLS {
	return ServerTLS{
		cert:             fs.String("tls-cert", "", "serve TLS with the certificate (chain) in this PEM `file`; needs -tls-key"),
		key:              fs.String("tls-key", "", "the PEM `file` of -tls-cert's private key"),
		clientCA:         fs.String("tls-client-ca", "", "require client certificates signed by a CA in this PEM `file`"),
		HandshakeTimeout: Duration(fs, "tls-handshake-timeout", handshake, "refuse a connection whose PROXY header and TLS handshake take longer than this `duration`"),
	}
}

// Config checks the flags after parsing and loads what they name: nil
// without -tls-cert. A flag without its partner is a usage error; a file
// that does not load is a run-time one.
func (t ServerTLS) Config(fs *flag.FlagSet) (*tls.Config, error) {
	if (*t.cert == "") != (*t.key == "") {
		return nil, Usagef(fs, "-tls-cert and -tls-key go together")
	}
	if *t.cert == "" {
		if *t.clientCA != "" {
			return nil, Usagef(fs, "-tls-client-ca needs -tls-cert and -tls-key")
		}
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(*t.cert, *t.key)
	if err != nil {
		return nil, fmt.Errorf("load -tls-cert and -tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if *t.clientCA != "" {
		if cfg.ClientCAs, err = loadPool(*t.clientCA); err != nil {
			return nil, fmt.Errorf("load -tls-client-ca: %w", err)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientConn is what the flags of a TCP client say about its connection:
// TLS, and a PROXY header.
type ClientConn struct {
	on, insecure              *bool
	ca, serverName, cert, key *string
	proxyHeader               *int
}

// AddClientConnFlags defines -tls, -tls-ca, -tls-insecure,
// -tls-server-name, -tls-cert, -tls-key and -proxy-header on fs.
func AddClientConnFlags(fs *flag.FlagSet) ClientConn {
	return ClientConn{
		proxyHeader: ProxyHeader(fs),
		on:          fs.Bool("tls", false, "talk TLS to the server (implied by the other -tls flags)"),
		ca:          fs.String("tls-ca", "", "trust the server certificates signed by a CA in this PEM `file` (default: the system's)"),
		insecure:    fs.Bool("tls-insecure", false, "accept any server certificate: for testing only"),
		serverName:  fs.String("tls-server-name", "", "the `name` to ask for (SNI) and to check the certificate against (default: the host of -addr)"),
		cert:        fs.String("tls-cert", "", "present the client certificate (chain) in this PEM `file`; needs -tls-key"),
		key:         fs.String("tls-key", "", "the PEM `file` of -tls-cert's private key"),
	}
}

// Config checks the flags after parsing and returns the TLS
// configuration they name (nil when no -tls flag is set) and the PROXY
// header version (0 for none).
func (t ClientConn) Config(fs *flag.FlagSet) (*tls.Config, int, error) {
	cfg, err := t.tlsConfig(fs)
	return cfg, *t.proxyHeader, err
}

func (t ClientConn) tlsConfig(fs *flag.FlagSet) (*tls.Config, error) {
	if (*t.cert == "") != (*t.key == "") {
		return nil, Usagef(fs, "-tls-cert and -tls-key go together")
	}
	if !*t.on && !*t.insecure && *t.ca == "" && *t.serverName == "" && *t.cert == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: *t.serverName, InsecureSkipVerify: *t.insecure, MinVersion: tls.VersionTLS12}
	var err error
	if *t.ca != "" {
		if cfg.RootCAs, err = loadPool(*t.ca); err != nil {
			return nil, fmt.Errorf("load -tls-ca: %w", err)
		}
	}
	if *t.cert != "" {
		cert, err := tls.LoadX509KeyPair(*t.cert, *t.key)
		if err != nil {
			return nil, fmt.Errorf("load -tls-cert and -tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", file)
	}
	return pool, nil
}

// ProxyHeader defines -proxy-header v1|v2 on fs: the PROXY protocol
// version a client sends, 0 for none.
func ProxyHeader(fs *flag.FlagSet) *int {
	v := new(int)
	Checked(fs, "proxy-header", "send a PROXY protocol header of this `version`, v1 or v2, naming this client, as a load balancer would", func() string {
		if *v == 0 {
			return ""
		}
		return fmt.Sprintf("v%d", *v)
	}, func(s string) error {
		switch s {
		case "v1":
			*v = 1
		case "v2":
			*v = 2
		default:
			return fmt.Errorf("must be v1 or v2, not %q", s)
		}
		return nil
	})
	return v
}

// Prefixes defines a flag that takes a comma-separated list of CIDR
// prefixes (a bare address is one address).
func Prefixes(fs *flag.FlagSet, name, usage string) *[]netip.Prefix {
	var list []netip.Prefix
	Checked(fs, name, usage, func() string {
		items := make([]string, len(list))
		for i, p := range list {
			items[i] = p.String()
		}
		return strings.Join(items, ",")
	}, func(s string) error {
		list = list[:0]
		for _, item := range strings.Split(s, ",") {
			item = strings.TrimSpace(item)
			p, err := netip.ParsePrefix(item)
			if err != nil {
				a, aerr := netip.ParseAddr(item)
				if aerr != nil {
					return fmt.Errorf("%q is no CIDR prefix or address", item)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			list = append(list, p.Masked())
		}
		return nil
	})
	return &list
}
