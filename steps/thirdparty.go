package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/lines"
	"github.com/echospec/echo/internal/xinetd"
)

// errMissingTool says a tool that is not ours is not installed here.
var errMissingTool = errors.New("not installed")

// tools says how to install each tool that is not ours, on Debian. fortio
// is pinned to a release whose dependencies the Go module proxy serves.
var tools = map[string]string{
	"nc":                      "apt-get install netcat-openbsd",
	"socat":                   "apt-get install socat",
	"xinetd":                  "apt-get install xinetd",
	"fortio":                  "go install " + fortioModule,
	"haproxy":                 "apt-get install haproxy",
	"openssl":                 "apt-get install openssl",
	"ncat":                    "apt-get install ncat",
	"promtool":                "apt-get install prometheus",
	"systemd-socket-activate": "apt-get install systemd",
}

// fortioModule is the fortio release the interop scenarios run.
const fortioModule = "fortio.org/fortio@v1.66.5"

// lookTool finds a tool that is not ours, in PATH, in /usr/sbin (where
// xinetd lives, outside an ordinary user's PATH) or where go install puts
// binaries. nc must be OpenBSD's: the other netcats take other flags.
func lookTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		found := false
		for _, dir := range []string{"/usr/sbin", os.Getenv("GOBIN"), filepath.Join(build.Default.GOPATH, "bin")} {
			if dir == "" {
				continue
			}
			path = filepath.Join(dir, name)
			if _, err := os.Stat(path); err == nil {
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("%s is %w (%s)", name, errMissingTool, tools[name])
		}
	}
	if name == "nc" {
		out, _ := exec.Command(path, "-h").CombinedOutput()
		if !bytes.Contains(out, []byte("OpenBSD")) {
			return "", fmt.Errorf("nc here is not OpenBSD netcat, so it is %w in the form needed (apt-get install netcat-openbsd)", errMissingTool)
		}
	}
	return path, nil
}

// thirdPartyServer is a server that is not ours, running for a scenario or
// a test.
type thirdPartyServer struct {
	cmd    *exec.Cmd
	stderr *lines.Output
	done   chan struct{}
}

// startThirdPartyServer starts tool with args and waits for the line on its
// stderr that contains ready; it returns the server and what follows ready
// on that line.
func startThirdPartyServer(tool, ready string, args ...string) (*thirdPartyServer, string, error) {
	path, err := lookTool(tool)
	if err != nil {
		return nil, "", err
	}
	s := &thirdPartyServer{cmd: exec.Command(path, args...), stderr: lines.NewOutput(), done: make(chan struct{})}
	s.cmd.Stderr = s.stderr
	// A group of its own, so that stop ends what it forked too (socat's
	// children, one a datagram, hold its stderr open); and a bound on the
	// wait for its output once it is gone.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", tool, err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel() // it exited: stop waiting for it to be ready
		case <-ctx.Done():
		}
	}()
	line, err := s.stderr.WaitContaining(ctx, ready)
	if err != nil {
		s.stop()
		return nil, "", fmt.Errorf("%s did not say %q: %w", tool, ready, err)
	}
	_, rest, _ := strings.Cut(line, ready)
	return s, rest, nil
}

func (s *thirdPartyServer) stop() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // the group: it and what it forked
	s.cmd.Process.Kill()
	<-s.done
}

// socatEcho starts socat as an echo server over proto ("tcp" or "udp"),
// each connection or datagram answered by cat, and returns its address.
func socatEcho(proto string) (*thirdPartyServer, string, error) {
	if proto == "tcp" {
		s, addr, err := startThirdPartyServer("socat", "listening on AF=2 ", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:cat")
		return s, addr, err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	// socat says it is receiving on the port it was given.
	s, addr, err := startThirdPartyServer("socat", "receiving on AF=2 ", "-d", "-d", "-b", "65536", fmt.Sprintf("UDP-RECVFROM:%d,bind=127.0.0.1,fork", port), "EXEC:cat")
	return s, addr, err
}

// socatCapitals starts socat as a TCP service that is not an echo: it
// answers with its input in capitals (tr, which answers once its input
// ends), and returns its address.
func socatCapitals() (*thirdPartyServer, string, error) {
	return startThirdPartyServer("socat", "listening on AF=2 ", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr", "EXEC:tr a-z A-Z")
}

// xinetdEcho starts xinetd serving its built-in echo over TCP and UDP on
// one free port, and returns the address. dir holds its configuration.
func xinetdEcho(dir string) (*thirdPartyServer, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "xinetd.conf")
	if err := os.WriteFile(conf, []byte(xinetd.EchoConf(port)), 0o644); err != nil {
		return nil, "", err
	}
	s, _, err := startThirdPartyServer("xinetd", "Started working", "-dontfork", "-filelog", "/dev/stderr", "-pidfile", filepath.Join(dir, "xinetd.pid"), "-f", conf)
	return s, fmt.Sprintf("127.0.0.1:%d", port), err
}

// freePort returns a loopback port that was free for TCP and UDP a moment
// ago, for servers that cannot pick their own and say which. It is below
// the kernel's ephemeral range, where no connection takes its own end and
// no listener on port 0 lands, so that nothing but another such server
// can take it before the server binds it (HAProxy once found a port from
// port 0 taken in between, by another scenario's connection).
func freePort() (int, error) {
	lo, hi := unclaimedPorts()
	var last error
	for range 50 {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			last = err
			continue
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
		last = err
	}
	return 0, fmt.Errorf("no port free for both TCP and UDP in %d-%d: %w", lo, hi-1, last)
}

// unclaimedPorts is the range freePort picks from, [lo, hi): the 10,000
// ports below the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range),
// or below Linux's default one where that cannot be read.
func unclaimedPorts() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2024 {
				hi = n
			}
		}
	}
	return max(hi-10000, 1024), hi
}

// runTool runs a client tool that is not ours with stdin and returns what
// it printed. Its deadline follows its progress: it is stopped once it
// has printed nothing new for 2*patience (a tool waiting for an echo that
// never comes), not at a fixed time, since on a loaded machine a
// megabyte echoed in 4-byte messages, each observed, may take longer;
// toolLimit bounds it whatever it prints.
func runTool(ctx context.Context, tool string, stdin []byte, args ...string) ([]byte, error) {
	path, err := lookTool(tool)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, toolLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	printed := &progress{w: &stdout}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), printed, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	stalled := make(chan struct{})
	var why string // why the tool was stopped, if it was
	go func() {
		defer close(stalled)
		for last := int64(-1); ; {
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * patience):
			}
			if now := printed.n.Load(); now != last {
				last = now
				continue
			}
			why = fmt.Sprintf(" (stopped: it printed nothing for %v)", 2*patience)
			cancel()
			return
		}
	}()
	err = cmd.Wait()
	cancel()
	<-stalled
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s failed after %v%s: %w; stderr: %s", tool, strings.Join(args, " "), time.Since(start).Round(time.Millisecond), why, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// toolLimit is the most a tool may take however it progresses.
const toolLimit = 12 * patience

// progress counts what a process has written to w, for a goroutine that
// watches whether it is still moving; w itself is read once it is done.
type progress struct {
	w io.Writer
	n atomic.Int64
}

func (p *progress) Write(b []byte) (int, error) {
	p.n.Add(int64(len(b)))
	return p.w.Write(b)
}
