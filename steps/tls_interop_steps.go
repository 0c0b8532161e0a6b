package steps

import (
	"github.com/cucumber/godog"

	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/echospec/echo/internal/lines"
)

// echoThrough runs a TLS client tool that is not ours, writes data to its
// stdin and reads from its stdout until as many bytes as were sent have
// come back (or patience runs out), then ends it: neither openssl
// s_client -quiet nor ncat ends by itself while the server keeps the
// connection open.
func echoThrough(ctx context.Context, tool string, data []byte, args ...string) ([]byte, error) {
	path, err := lookTool(tool)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := lines.NewOutput()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", tool, err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if _, err := stdin.Write(data); err != nil {
		return nil, fmt.Errorf("write to %s: %w", tool, err)
	}
	got := make([]byte, len(data))
	read := make(chan error, 1)
	var n int
	go func() {
		var err error
		n, err = io.ReadFull(stdout, got)
		read <- err
	}()
	select {
	case err := <-read:
		if err != nil {
			return got[:n], fmt.Errorf("%s printed %d of %d bytes, then: %w; stderr: %s", tool, n, len(data), err, stderr)
		}
		return got, nil
	case <-time.After(patience):
		cmd.Process.Kill()
		<-read
		return got[:n], fmt.Errorf("%s printed %d of %d bytes in %v; stderr: %s", tool, n, len(data), patience, stderr)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// tlsToolArgs are the command lines of the TLS clients that are not ours,
// trusting the CA in caFile, for the server at addr.
func tlsToolArgs(tool, addr, caFile string) (string, []string) {
	host, port, _ := net.SplitHostPort(addr)
	switch tool {
	case "openssl s_client":
		return "openssl", []string{"s_client", "-quiet", "-connect", addr, "-servername", "localhost", "-verify_return_error", "-CAfile", caFile}
	default: // ncat --ssl
		return "ncat", []string{"--ssl", "--ssl-verify", "--ssl-trustfile", caFile, "--ssl-servername", "localhost", host, port}
	}
}

// tlsToolSendsOverTLS is the step `^(openssl s_client|ncat --ssl) sends `+quoted+` over TLS$`.
func tlsToolSendsOverTLS(ctx context.Context, tool, text string) error {
	data, err := unquote(text)
	if err != nil {
		return err
	}
	w := worldFrom(ctx)
	if err := w.startServer(); err != nil {
		return err
	}
	if w.scratch.authority == nil {
		return errors.New("the server does not speak TLS")
	}
	name, args := tlsToolArgs(tool, w.server.addr, w.scratch.authority.CertFile)
	printed, err := echoThrough(ctx, name, data, args...)
	if errors.Is(err, errMissingTool) {
		return skipScenario(ctx, "%v", err)
	}
	w.procs.tool = &toolRun{name: tool, sent: data, printed: printed, err: err}
	return nil
}

// socatsTLSEchoServer is the step `^socat's TLS echo server, with a certificate from the test authority$`.
func socatsTLSEchoServer(ctx context.Context) error {
	w := worldFrom(ctx)
	combined, err := w.serverPEM("socat.pem")
	if err != nil {
		return err
	}
	s, addr, err := startThirdPartyServer("socat", "listening on AF=2 ", "-d", "-d",
		"OPENSSL-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,verify=0,cert="+combined, "EXEC:cat")
	return w.useThirdParty(ctx, s, err, func() { w.clients.elsewhere = strings.TrimSpace(addr) })
}

// serverPEM makes a server certificate from the test authority and writes
// it and its key into one file, name, as HAProxy and socat take them; it
// returns the file's path.
func (w *world) serverPEM(name string) (string, error) {
	ca, err := w.testAuthority()
	if err != nil {
		return "", err
	}
	files, _, err := ca.Server()
	if err != nil {
		return "", err
	}
	var pem []byte
	for _, f := range []string{files.Cert, files.Key} {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		pem = append(pem, b...)
	}
	combined := filepath.Join(filepath.Dir(files.Cert), name)
	return combined, os.WriteFile(combined, pem, 0o600)
}

// registerTLSInteropSteps registers the steps of this file: tLS tools and servers that are not ours: openssl, ncat, socat.
func registerTLSInteropSteps(sc *godog.ScenarioContext) {
	sc.Step(`^(openssl s_client|ncat --ssl) sends `+quoted+` over TLS$`, tlsToolSendsOverTLS)
	sc.Step(`^socat's TLS echo server, with a certificate from the test authority$`, socatsTLSEchoServer)
}
