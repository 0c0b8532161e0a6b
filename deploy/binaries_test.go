package deploy

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/echospec/echo/internal/metricstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/internal/identity"
	"github.com/echospec/echo/internal/lines"
)

// binaries are what make dist builds, and the image holds.
var binaries = []string{"echobench", "tcpclient", "tcpserver", "udpclient", "udpserver"}

var (
	distOnce sync.Once
	distDir  string
	distErr  error
)

// dist runs the main module's make dist once, into a folder of the
// test binary's own, and returns the folder.
func dist(t *testing.T) string {
	t.Helper()
	distOnce.Do(func() {
		distDir, distErr = os.MkdirTemp("", "echo-dist-")
		if distErr != nil {
			return
		}
		out, err := exec.Command("make", "-C", "..", "dist", "DIST="+distDir).CombinedOutput()
		if err != nil {
			distErr = fmt.Errorf("make dist: %v: %s", err, out)
		}
	})
	require.NoError(t, distErr)
	return distDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if distDir != "" {
		os.RemoveAll(distDir)
	}
	os.Exit(code)
}

// make dist's binaries need nothing from the system: no interpreter
// (ld.so) and no shared library, so an image FROM scratch runs them.
func TestDistBinariesAreStatic(t *testing.T) {
	dir := dist(t)
	for _, name := range binaries {
		f, err := elf.Open(filepath.Join(dir, name))
		require.NoError(t, err, name)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a dynamic loader", name)
			assert.NotEqual(t, elf.PT_DYNAMIC, p.Type, "%s is dynamically linked", name)
		}
		libs, err := f.ImportedLibraries()
		require.NoError(t, err)
		assert.Empty(t, libs, "%s needs shared libraries", name)
		f.Close()
		out, err := exec.Command(filepath.Join(dir, name), "-version").Output()
		require.NoError(t, err, name)
		assert.True(t, strings.HasPrefix(string(out), name+" "), "%s -version: %q", name, out)
	}
}

// server is one of the binaries, run for a test with the arguments a
// deployment file gives it.
type server struct {
	cmd    *exec.Cmd
	stderr *lines.Output
	exited chan struct{} // closed once it has exited
	admin  string        // http://HOST:PORT
	addr   string
}

// runServer runs dist's name with args, then "-listen 127.0.0.1:0 -admin
// 127.0.0.1:0", which win over what args say, so that a test can run
// anywhere; every other flag is as the deployment file has it. It returns
// once the server listens.
func runServer(t *testing.T, name string, args []string, extraFiles ...*os.File) *server {
	t.Helper()
	args = append(append([]string{}, args...), "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	s := start(t, exec.Command(filepath.Join(dist(t), name), args...), extraFiles...)
	s.admin = strings.TrimSuffix(s.wait(t, "admin endpoint at "), "/")
	s.addr = s.wait(t, "listening on ")
	return s
}

// start starts cmd, a server, ended when the test ends.
func start(t *testing.T, cmd *exec.Cmd, extraFiles ...*os.File) *server {
	t.Helper()
	s := &server{cmd: cmd, stderr: lines.NewOutput(), exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.ExtraFiles = extraFiles
	require.NoError(t, cmd.Start())
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
	})
	return s
}

// wait waits up to 10 s for a line of the server's stderr starting with
// prefix, and returns the rest of it.
func (s *server) wait(t *testing.T, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rest, err := s.stderr.WaitLine(ctx, prefix)
	require.NoError(t, err)
	return rest
}

// get fetches a path of the server's admin endpoint.
func (s *server) get(t *testing.T, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, body, err := metricstest.Fetch(ctx, s.admin+path)
	require.NoError(t, err)
	return status, body
}

// stop sends SIGTERM, as the kubelet and systemd do, and returns the exit
// code and how long the server took, failing after limit.
func (s *server) stop(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	sent := time.Now()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.exited:
		return s.cmd.ProcessState.ExitCode(), time.Since(sent)
	case <-time.After(limit):
		t.Fatalf("still running %v after SIGTERM", limit)
	}
	return -1, 0
}

// echo sends msg to the server over network and checks that it comes
// back.
// identify sends the identity probe that opens a connection (TCP) or is
// a datagram (UDP), and returns the name the server answers with.
func identify(t *testing.T, network, addr string) string {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	nonce := identity.Nonce{'d', 'e', 'p', 'l', 'o', 'y'}
	_, err = c.Write(identity.Probe(nonce))
	require.NoError(t, err)
	got := make([]byte, identity.Size)
	n, err := c.Read(got) // the answer is one short write, one datagram
	require.NoError(t, err)
	name, ok := identity.ParseAnswer(got[:n], nonce)
	require.True(t, ok, "an answer to the probe: %q", got[:n])
	return name
}

func echo(t *testing.T, network, addr, msg string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Write([]byte(msg))
	require.NoError(t, err)
	got := make([]byte, len(msg))
	if network == "tcp" {
		_, err = io.ReadFull(c, got)
	} else {
		var n int
		n, err = c.Read(got)
		got = got[:n]
	}
	require.NoError(t, err)
	assert.Equal(t, msg, string(got))
}
