package steps

import (
	"github.com/cucumber/godog"

	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/testcert"
)

// testAuthority returns the scenario's certificate authority, made at
// first use: certificates are made by the tests, never committed.
func (w *world) testAuthority() (*testcert.Authority, error) {
	if w.scratch.authority != nil {
		return w.scratch.authority, nil
	}
	dir, err := w.tempDir()
	if err != nil {
		return nil, err
	}
	w.scratch.authority, err = testcert.NewAuthority(dir, "echospec test CA")
	return w.scratch.authority, err
}

// tlsServer makes the server's certificate from the test authority.
func (w *world) tlsServer() (*serverTLS, error) {
	ca, err := w.testAuthority()
	if err != nil {
		return nil, err
	}
	files, cert, err := ca.Server()
	if err != nil {
		return nil, err
	}
	return &serverTLS{files: files, config: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}, nil
}

// serverSpeaksTLS is the step `^the server speaks TLS with a certificate from the test authority$`.
func serverSpeaksTLS(ctx context.Context) error {
	w := worldFrom(ctx)
	st, err := w.tlsServer()
	if err != nil {
		return err
	}
	return w.configure(func() { w.server.tls = st })
}

// serverRequiresClientCertificates is the step `^the server speaks TLS and requires client certificates from the test authority$`.
func serverRequiresClientCertificates(ctx context.Context) error {
	w := worldFrom(ctx)
	st, err := w.tlsServer()
	if err != nil {
		return err
	}
	st.clientCA = w.scratch.authority.CertFile
	st.config.ClientAuth, st.config.ClientCAs = tls.RequireAndVerifyClientCert, w.scratch.authority.Pool
	return w.configure(func() { w.server.tls = st })
}

// serverGivesUpOnHandshakeAfter is the step `^the server gives up on a connection's handshake after (\d+) milliseconds$`.
func serverGivesUpOnHandshakeAfter(ctx context.Context, ms int) error {
	return configureMilliseconds(ctx, ms, func(c *tcpConfig) *time.Duration { return &c.handshake })
}

// echoClientSpeaksTLSTrustingTestAuthority is the step `^the echo client speaks TLS to "([^"]*)", trusting the test authority$`.
func echoClientSpeaksTLSTrustingTestAuthority(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	ca, err := w.testAuthority()
	if err != nil {
		return err
	}
	return w.clients.echo.speakTLS(name, ca)
}

// echoClientSpeaksTLSTrustingAnotherAuthority is the step `^the echo client speaks TLS to "([^"]*)", trusting another authority$`.
func echoClientSpeaksTLSTrustingAnotherAuthority(ctx context.Context, name string) error {
	w := worldFrom(ctx)
	dir, err := w.tempDir()
	if err != nil {
		return err
	}
	other, err := testcert.NewAuthority(dir, "another CA")
	if err != nil {
		return err
	}
	return w.clients.echo.speakTLS(name, other)
}

// speakTLS makes the echo client talk TLS to name, trusting ca, in either
// mode.
func (e *echoClient) speakTLS(name string, ca *testcert.Authority) error {
	e.dialer.TLSConfig = &tls.Config{ServerName: name, RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
	e.tlsFlags = append(e.tlsFlags, "-tls-server-name", name, "-tls-ca", ca.CertFile)
	return nil
}

// echoClientPresentsCertificateFor is the step `^the echo client presents a certificate for "([^"]*)" from the test authority$`.
func echoClientPresentsCertificateFor(ctx context.Context, cn string) error {
	w := worldFrom(ctx)
	if w.clients.echo.dialer.TLSConfig == nil {
		return errors.New("the echo client must speak TLS before it presents a certificate")
	}
	ca, err := w.testAuthority()
	if err != nil {
		return err
	}
	files, cert, err := ca.Client(cn)
	if err != nil {
		return err
	}
	w.clients.echo.dialer.TLSConfig.Certificates = []tls.Certificate{cert}
	w.clients.echo.tlsFlags = append(w.clients.echo.tlsFlags, "-tls-cert", files.Cert, "-tls-key", files.Key)
	return nil
}

// serverSawTLSConnectionFor is the step `^the server saw a (TLS 1\.[23]) connection for "([^"]*)"$`.
func serverSawTLSConnectionFor(ctx context.Context, version, name string) error {
	_, err := serverOf(ctx).events.waitFor(ctx, fmt.Sprintf("a %s connection for %q", version, name), func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.tls != nil && e.tls.Version == version && e.tls.ServerName == name && e.tls.CipherSuite != "" {
				return true
			}
		}
		return false
	})
	return err
}

// serverSawClientCertificateOf is the step `^the server saw the client certificate of "([^"]*)"$`.
func serverSawClientCertificateOf(ctx context.Context, cn string) error {
	_, err := serverOf(ctx).events.waitFor(ctx, "a client certificate for "+cn, func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.tls != nil && strings.Contains(e.tls.Client, "CN="+cn) {
				return true
			}
		}
		return false
	})
	return err
}

// serverRefusedClientBecause is the step `^the server closed `+client+`'s connection because of its (TLS handshake|PROXY header)$`.
func serverRefusedClientBecause(ctx context.Context, name, what string) error {
	w := worldFrom(ctx)
	p, err := w.peer(clientName(name))
	if err != nil {
		return err
	}
	return w.refusedBecause(ctx, p.local(), what)
}

// serverRefusedConnectionBecause is the step `^the server closed a connection because of its (TLS handshake|PROXY header)$`.
func serverRefusedConnectionBecause(ctx context.Context, what string) error {
	return worldFrom(ctx).refusedBecause(ctx, "", what)
}

// refusedBecause waits for the server to refuse the connection from
// remote (any, if empty) for what failed in its preamble.
func (w *world) refusedBecause(ctx context.Context, remote, what string) error {
	want := serverReasons[what]
	events, err := w.server.events.waitFor(ctx, "a connection refused", func(events []event) bool {
		return reasonOf(events, tcpecho.ConnRejected, remote) != nil
	})
	if err != nil {
		return err
	}
	if got := reasonOf(events, tcpecho.ConnRejected, remote); !errors.Is(got, want) {
		return fmt.Errorf("the server refused the connection because %w, not because of its %s", got, what)
	}
	return nil
}

// registerTLSSteps registers the steps of this file: tLS: certificates from a test authority, what the server saw.
func registerTLSSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the server speaks TLS with a certificate from the test authority$`, serverSpeaksTLS)
	sc.Step(`^the server speaks TLS and requires client certificates from the test authority$`, serverRequiresClientCertificates)
	sc.Step(`^the server gives up on a connection's handshake after (\d+) milliseconds$`, serverGivesUpOnHandshakeAfter)
	sc.Step(`^the echo client speaks TLS to "([^"]*)", trusting the test authority$`, echoClientSpeaksTLSTrustingTestAuthority)
	sc.Step(`^the echo client speaks TLS to "([^"]*)", trusting another authority$`, echoClientSpeaksTLSTrustingAnotherAuthority)
	sc.Step(`^the echo client presents a certificate for "([^"]*)" from the test authority$`, echoClientPresentsCertificateFor)
	sc.Step(`^the server saw a (TLS 1\.[23]) connection for "([^"]*)"$`, serverSawTLSConnectionFor)
	sc.Step(`^the server saw the client certificate of "([^"]*)"$`, serverSawClientCertificateOf)
	sc.Step(`^the server closed `+client+`'s connection because of its (TLS handshake|PROXY header)$`, serverRefusedClientBecause)
	sc.Step(`^the server closed a connection because of its (TLS handshake|PROXY header)$`, serverRefusedConnectionBecause)
	sc.Step(`^a TLS 1\.2 client offering only (TLS_\w+) (is refused|is served)$`, tls12ClientOfferingOnly)
}

// tls12ClientOfferingOnly is the step `^a TLS 1\.2 client offering only (TLS_\w+) (is refused|is served)$`.
func tls12ClientOfferingOnly(ctx context.Context, suite, outcome string) error {
	var id uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if s.Name == suite {
			id = s.ID
		}
	}
	if id == 0 {
		return fmt.Errorf("no cipher suite %s in crypto/tls", suite)
	}
	w := worldFrom(ctx)
	ca, err := w.testAuthority()
	if err != nil {
		return err
	}
	if err := w.startServer(); err != nil {
		return err
	}
	cfg := &tls.Config{ServerName: "localhost", RootCAs: ca.Pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{id}}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: patience}, "tcp", w.server.addr, cfg)
	if outcome == "is refused" {
		if err == nil {
			c.Close()
			return fmt.Errorf("the server agreed to %s", suite)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("a client offering only %s: %w", suite, err)
	}
	defer c.Close()
	return exchangeOver(c, []byte("hello\n"))
}

// exchangeOver sends b over c and reads it back.
func exchangeOver(c net.Conn, b []byte) error {
	c.SetDeadline(time.Now().Add(patience))
	if _, err := c.Write(b); err != nil {
		return fmt.Errorf("send %s: %w", show(b), err)
	}
	got := make([]byte, len(b))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("read the echo of %s: %w", show(b), err)
	}
	if !bytes.Equal(got, b) {
		return fmt.Errorf("the echo differs: %s", difference(b, got))
	}
	return nil
}
