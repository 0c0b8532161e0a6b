package steps

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"
)

// balancerConfig is how a scenario sets up HAProxy in front of its
// servers, before it starts.
type balancerConfig struct {
	sendProxy string // "", "send-proxy" or "send-proxy-v2"
	check     []byte // set: HAProxy's health check sends this and expects it back
	tlsPEM    string // set: HAProxy terminates TLS with this certificate and key
	readyz    bool   // HAProxy checks each server's /readyz on its admin endpoint
	connect   bool   // HAProxy checks that each server accepts connections
}

// haproxyServer is one server in HAProxy's backend: where it echoes and,
// for a readiness check, its admin endpoint.
type haproxyServer struct {
	Addr, Admin string
}

// AdminPort is the port HAProxy's readiness check connects to.
func (s haproxyServer) AdminPort() string {
	_, port, _ := net.SplitHostPort(s.Admin)
	return port
}

// haproxy is HAProxy, run for a scenario in master-worker mode, on free
// loopback ports, with a configuration the scenario wrote.
type haproxy struct {
	cmd    *exec.Cmd
	done   chan struct{}
	addr   string // the frontend, where clients connect
	socket string // the stats socket, for asking what it thinks of the servers
	conf   string // the configuration it runs
}

// haproxyConf is HAProxy's configuration: one TCP frontend, one backend
// balancing round robin. Timeouts are generous: the scenarios bound
// their waits themselves. A check may take a second: without "timeout
// check" it may take only its interval, 100 ms, which a machine busy with
// every scenario at once can make a healthy server's check take; HAProxy
// would then take that server out beside one draining and have none for
// the clients. (CI once saw three clients get nothing while a server
// drained; what HAProxy saw was not recorded then, and is now, in the
// failure's message.)
var haproxyConf = template.Must(template.New("haproxy.cfg").Parse(`global
	stats socket {{.Socket}} mode 600 level admin
	maxconn 1000
	nbthread 1
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
	timeout check 1s
frontend echo
	bind {{.Addr}}{{if .TLSPEM}} ssl crt {{.TLSPEM}}{{end}}
	default_backend servers
backend servers
	balance roundrobin
{{- if .Readyz}}
	option httpchk GET /readyz
	http-check expect status 200
{{- end}}
{{- if .Check}}
	option tcp-check
	tcp-check connect{{if .SendProxy}} send-proxy{{end}}
	tcp-check send-binary {{.Check}}
	tcp-check expect binary {{.Check}}
{{- end}}
{{- range $i, $s := .Servers}}
	server s{{$i}} {{$s.Addr}}{{if or $.Check $.Connect}} check inter 100ms fall 1 rise 1{{end}}{{if $.Readyz}} check port {{$s.AdminPort}} inter 100ms fall 1 rise 1{{end}}{{if $.SendProxy}} {{$.SendProxy}}{{end}}
{{- end}}
`))

// startHAProxy starts HAProxy in front of servers and returns once it
// says it is ready (systemd's notify protocol, which HAProxy speaks with
// -Ws), or an error wrapping errMissingTool where it is not installed.
func startHAProxy(dir string, cfg balancerConfig, servers []haproxyServer) (*haproxy, error) {
	path, err := lookTool("haproxy")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	h := &haproxy{addr: fmt.Sprintf("127.0.0.1:%d", port), socket: filepath.Join(dir, "haproxy.sock"), done: make(chan struct{})}
	var conf bytes.Buffer
	err = haproxyConf.Execute(&conf, map[string]any{
		"Socket": h.socket, "Addr": h.addr, "TLSPEM": cfg.tlsPEM, "SendProxy": cfg.sendProxy,
		"Check": fmt.Sprintf("%x", cfg.check), "Readyz": cfg.readyz, "Connect": cfg.connect && !cfg.readyz && cfg.check == nil, "Servers": servers,
	})
	if err != nil {
		return nil, err
	}
	h.conf = conf.String()
	confFile := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(confFile, conf.Bytes(), 0o600); err != nil {
		return nil, err
	}
	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify.sock"), Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("notify socket for haproxy: %w", err)
	}
	defer notify.Close()
	var stderr bytes.Buffer
	h.cmd = exec.Command(path, "-Ws", "-f", confFile)
	h.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify.LocalAddr().String())
	h.cmd.Stderr = &stderr
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- h.cmd.Wait()
		close(h.done)
	}()
	ready := make(chan error, 1)
	go func() {
		notify.SetReadDeadline(time.Now().Add(patience))
		buf := make([]byte, 4096)
		for {
			n, err := notify.Read(buf)
			if err != nil {
				ready <- err
				return
			}
			if bytes.Contains(buf[:n], []byte("READY=1")) {
				ready <- nil
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			h.stop()
			return nil, fmt.Errorf("haproxy did not say it was ready within %v: %w; it said: %s", patience, err, stderr.String())
		}
		return h, nil
	case err := <-exited:
		return nil, fmt.Errorf("haproxy exited at once (%w): %s", err, stderr.String())
	}
}

// stop ends HAProxy: SIGTERM to its master stops the workers at once.
func (h *haproxy) stop() { endProcess(h.cmd.Process, os.Interrupt, h.done) }

// serverStats asks HAProxy what it knows of each backend server: its
// "show stat" columns by name, by server.
func (h *haproxy) serverStats() (map[string]map[string]string, error) {
	c, err := net.DialTimeout("unix", h.socket, patience)
	if err != nil {
		return nil, fmt.Errorf("haproxy's stats socket: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(patience))
	if _, err := c.Write([]byte("show stat\n")); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(c); err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out.String(), "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("haproxy's stats: %w: %q", err, out.String())
	}
	header := rows[0]
	stats := map[string]map[string]string{}
	for _, row := range rows[1:] {
		fields := map[string]string{}
		for i, name := range header {
			if i < len(row) {
				fields[name] = row[i]
			}
		}
		if fields["pxname"] == "servers" && fields["svname"] != "BACKEND" {
			stats[fields["svname"]] = fields
		}
	}
	return stats, nil
}

// serverStates asks HAProxy how it sees each backend server: UP, DOWN, ...
func (h *haproxy) serverStates() (map[string]string, error) {
	stats, err := h.serverStats()
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	for name, fields := range stats {
		states[name] = fields["status"]
	}
	return states, nil
}

// account says how HAProxy saw each server, for a failure's message: its
// state, how often its checks failed and took it down, how long it was
// down, and the connections it failed to take.
func (h *haproxy) account() string {
	stats, err := h.serverStats()
	if err != nil {
		return err.Error()
	}
	names := slices.Sorted(maps.Keys(stats))
	var b strings.Builder
	for _, name := range names {
		f := stats[name]
		fmt.Fprintf(&b, "%s %s (checks failed %s, taken down %s times, down %s s in all; last check %s in %s ms; connections failed %s, retried %s)\n",
			name, f["status"], f["chkfail"], f["chkdown"], f["downtime"], f["check_status"], f["check_duration"], f["econ"], f["wretr"])
	}
	return b.String()
}

// waitForStates waits until HAProxy sees up servers up and down down.
func (h *haproxy) waitForStates(ctx context.Context, up, down int) error {
	ctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	var last map[string]string
	for {
		states, err := h.serverStates()
		if err != nil {
			return err
		}
		last = states
		u, d := 0, 0
		for _, s := range states {
			switch {
			case strings.HasPrefix(s, "UP"):
				u++
			case strings.HasPrefix(s, "DOWN"):
				d++
			}
		}
		if u == up && d == down {
			return nil
		}
		// HAProxy has no event to wait on for a check's result: ask again
		// after its check interval.
		select {
		case <-ctx.Done():
			return fmt.Errorf("haproxy did not see %d servers up and %d down within %v; it saw %v", up, down, patience, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// errNoBalancer says a step needs HAProxy in front before it started.
var errNoBalancer = errors.New("no HAProxy in front of the servers yet")
