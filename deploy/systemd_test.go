package deploy

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readUnit parses a unit file of systemd/ with go-systemd's parser and
// returns its options by section and name (the last value of each).
func readUnit(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("systemd", name))
	require.NoError(t, err)
	defer f.Close()
	opts, err := unit.DeserializeOptions(f)
	require.NoError(t, err, name)
	m := map[string]string{}
	for _, o := range opts {
		m[o.Section+"."+o.Name] = o.Value
	}
	return m
}

// Each service is started by its socket, on port 7, and runs
// unprivileged and sandboxed.
func TestSystemdUnitsAreSocketActivatedAndSandboxed(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		socket, service := readUnit(t, "echo-"+proto+".socket"), readUnit(t, "echo-"+proto+".service")
		listen := map[string]string{"tcp": "Socket.ListenStream", "udp": "Socket.ListenDatagram"}[proto]
		assert.Equal(t, "7", socket[listen], "echo-%s.socket: port 7", proto)
		if proto == "tcp" {
			assert.Equal(t, "no", socket["Socket.Accept"], "one server takes the listening socket")
		}
		assert.Equal(t, "echo-"+proto+".socket", service["Unit.Requires"])
		execStart := strings.Fields(service["Service.ExecStart"])
		require.NotEmpty(t, execStart)
		assert.Equal(t, "/usr/local/bin/"+proto+"server", execStart[0])
		assert.Empty(t, flagValue(execStart, "-listen"), "the socket comes from systemd, not -listen")
		for name, want := range map[string]string{
			"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
			"PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictNamespaces": "yes",
		} {
			got, ok := service["Service."+name]
			assert.True(t, ok, "echo-%s.service sets %s", proto, name)
			assert.Equal(t, want, got, "echo-%s.service: %s", proto, name)
		}
	}
}

// systemd's own checker finds nothing to say of the units, with the
// binaries where ExecStart names them (here: dist's, in a copy of the
// units that says where they are).
func TestSystemdAnalyzeVerifiesTheUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd)")
	}
	dir := t.TempDir()
	var units []string
	for _, name := range []string{"echo-tcp.socket", "echo-tcp.service", "echo-udp.socket", "echo-udp.service"} {
		text, err := os.ReadFile(filepath.Join("systemd", name))
		require.NoError(t, err)
		text = []byte(strings.ReplaceAll(string(text), "/usr/local/bin/", dist(t)+"/"))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), text, 0o644))
		units = append(units, filepath.Join(dir, name))
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, units...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, string(out), "no warning either")
}

// Each service's ExecStart, given its socket as systemd gives it (by
// systemd-socket-activate, as the units' socket would), serves it.
func TestServicesServeTheSocketSystemdPasses(t *testing.T) {
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate is not installed (apt-get install systemd)")
	}
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			service := readUnit(t, "echo-"+proto+".service")
			execStart := strings.Fields(service["Service.ExecStart"])
			addr := freeAddr(t)
			args := []string{"-l", addr}
			if proto == "udp" {
				args = append(args, "--datagram")
			}
			// ExecStart's flags, but an admin endpoint on a free port.
			args = append(append(args, filepath.Join(dist(t), filepath.Base(execStart[0]))), execStart[1:]...)
			args = append(args, "-admin", "127.0.0.1:0")
			s := start(t, exec.Command(activate, args...))
			s.wait(t, "Listening on "+addr)
			echo(t, proto, addr, "hello") // the first client starts the server
			assert.Equal(t, addr, s.wait(t, "listening on "), "it serves the socket it was passed")
			code, _ := s.stop(t, 10*time.Second)
			assert.Equal(t, 0, code, "%s", s.stderr)
		})
	}
}

// freeAddr is a loopback address free for TCP and UDP alike, just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			pc.Close()
			return addr
		}
	}
	require.NoError(t, errors.New("no port free for both TCP and UDP"))
	return ""
}
