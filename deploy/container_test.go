package deploy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// The image, built by make image and run by the container engine that
// runs here, with the host's network (tests send traffic only to
// loopback) and a read-only root, as the manifests ask.

// image is what make image tags last, and what the manifests run.
const image = "echospec/echo:latest"

var (
	imageOnce sync.Once
	engine    string // podman or docker; "" where neither runs
	imageErr  error
)

// jobPlaces are where the Jobs' echobench command lines run: make
// dist's binary, and the image where an engine runs.
func jobPlaces() []string {
	if runningEngine() == "" {
		return []string{"dist"}
	}
	return []string{"dist", "image"}
}

// runningEngine is the container engine that runs here, podman or
// docker, asked once; "" where neither runs.
var runningEngine = sync.OnceValue(func() string {
	for _, e := range []string{"podman", "docker"} {
		if exec.Command(e, "info").Run() == nil {
			return e
		}
	}
	return ""
})

// echobenchIn is echobench with args, run from place: dist's binary, or
// the image's on the host's network with a read-only root.
func echobenchIn(t *testing.T, place string, args ...string) *exec.Cmd {
	t.Helper()
	if place == "dist" {
		return exec.Command(filepath.Join(dist(t), "echobench"), args...)
	}
	e := containerEngine(t)
	return exec.Command(e, append([]string{"run", "--rm", "--network", "host", "--read-only", "--entrypoint", "/echobench", image}, args...)...)
}

// noEngine is what a skipped test says: how to get an engine that runs.
const noEngine = "no container engine runs here: apt-get install podman runc, with the /etc/containers/containers.conf .ci/run writes where there is none"

// containerEngine finds the engine that runs here and builds the image
// with it, once, by make image; it skips the test where no engine runs.
func containerEngine(t *testing.T) string {
	t.Helper()
	imageOnce.Do(func() {
		engine = runningEngine()
		if engine == "" {
			return
		}
		out, err := exec.Command("make", "-C", "..", "image", "ENGINE="+engine).CombinedOutput()
		if err != nil {
			imageErr = fmt.Errorf("make image: %w: %s", err, out)
		}
	})
	if engine == "" {
		t.Skip(noEngine)
	}
	require.NoError(t, imageErr)
	return engine
}

// container is a server running in the image; its engine's client,
// attached, passes on its stderr and its exit code.
type container struct {
	*server
	engine, name string
}

var containerSeq struct {
	sync.Mutex
	n int
}

// runContainer runs the image with opts (the engine's) and args (the
// entrypoint's), then "-listen 127.0.0.1:0 -admin 127.0.0.1:0", on the
// host's network and a read-only root. It returns once the server
// listens; the container is removed when the test ends.
func runContainer(t *testing.T, opts, args []string) *container {
	t.Helper()
	e := containerEngine(t)
	containerSeq.Lock()
	containerSeq.n++
	name := fmt.Sprintf("echo-test-%d-%d", os.Getpid(), containerSeq.n)
	containerSeq.Unlock()
	run := append([]string{"run", "--rm", "--name", name, "--network", "host", "--read-only"}, opts...)
	run = append(append(append(run, image), args...), "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0")
	s := start(t, exec.Command(e, run...))
	t.Cleanup(func() { exec.Command(e, "rm", "-f", name).Run() })
	s.admin = strings.TrimSuffix(s.wait(t, "admin endpoint at "), "/")
	s.addr = s.wait(t, "listening on ")
	return &container{server: s, engine: e, name: name}
}

// stop stops the container as the engine does (SIGTERM, then SIGKILL
// after limit) and returns its exit code and how long it took.
func (c *container) stop(t *testing.T, limit time.Duration) (int, time.Duration) {
	t.Helper()
	sent := time.Now()
	out, err := exec.Command(c.engine, "stop", "-t", strconv.Itoa(int(limit.Seconds())), c.name).CombinedOutput()
	require.NoError(t, err, "%s stop: %s", c.engine, out)
	select {
	case <-c.exited:
		return c.cmd.ProcessState.ExitCode(), time.Since(sent)
	case <-time.After(limit + 10*time.Second):
		t.Fatalf("%s still running %v after %s stop", c.name, limit, c.engine)
	}
	return -1, 0
}

// uid is the user the container's process runs as, from /proc.
func (c *container) uid(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(c.engine, "inspect", "--format", "{{.State.Pid}}", c.name).Output()
	require.NoError(t, err)
	status, err := os.ReadFile("/proc/" + strings.TrimSpace(string(out)) + "/status")
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0] // the real user; the others follow
		}
	}
	t.Fatalf("no Uid line in %s", status)
	return ""
}

// The image's binaries say the revision they were built from.
func TestImageVersionNamesTheRevision(t *testing.T) {
	e := containerEngine(t)
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	for _, binary := range binaries {
		out, err := exec.Command(e, "run", "--rm", "--network", "host", "--read-only", "--entrypoint", "/"+binary, image, "-version").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Regexp(t, regexp.MustCompile(`^`+binary+` github.com/echospec/echo \S+ revision `+strings.TrimSpace(string(head))+`( \(modified\))? go\S+\n$`), string(out))
		assert.NotContains(t, string(out), "(devel)")
	}
}

// The image's tcpserver runs as 65532, answers /readyz, echoes, and on
// the engine's stop drains: the echo of what a connected client sent
// arrives, then the end of the connection, and the container exits 0
// no sooner than its drain delay.
func TestImageServesAndDrainsOnStop(t *testing.T) {
	c := runContainer(t, nil, []string{"-drain-delay", "1s"})
	assert.Equal(t, "65532", c.uid(t), "not root")
	status, body := c.get(t, "/readyz")
	assert.Equal(t, 200, status, body)
	echo(t, "tcp", c.addr, "hello")

	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write([]byte("sent before the stop\n"))
	require.NoError(t, err)
	type stopped struct {
		code int
		took time.Duration
	}
	done := make(chan stopped, 1)
	go func() {
		code, took := c.stop(t, 30*time.Second)
		done <- stopped{code, took}
	}()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "sent before the stop\n", line)
	_, err = r.ReadByte()
	assert.True(t, errors.Is(err, io.EOF), "then the server closes the connection: %v", err)
	s := <-done
	assert.Equal(t, 0, s.code, "its log:\n%s", c.stderr)
	assert.GreaterOrEqual(t, s.took, time.Second, "it drained first")
}

// The image's udpserver echoes.
func TestImageUDPServerEchoes(t *testing.T) {
	c := runContainer(t, []string{"--entrypoint", "/udpserver"}, nil)
	echo(t, "udp", c.addr, "hello")
	status, body := c.get(t, "/readyz")
	assert.Equal(t, 200, status, body)
}

// Each server container of the manifests runs in the image as written
// (its entrypoint, its arguments with the pod's name, as its user, with
// a read-only root and no capabilities; only its ports are free ones),
// answers its probes, echoes and names the pod.
func TestManifestServerContainersRunInTheImage(t *testing.T) {
	m := readManifests(t)
	var pods []corev1.PodSpec
	for _, d := range m.deployments {
		pods = append(pods, d.Spec.Template.Spec)
	}
	for _, d := range m.daemonSets {
		pods = append(pods, d.Spec.Template.Spec)
	}
	for i, pod := range pods {
		for _, c := range pod.Containers {
			t.Run(strconv.Itoa(i)+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				require.Equal(t, image, c.Image)
				opts := []string{"--entrypoint", c.Command[0], "--cap-drop", "ALL", "--security-opt", "no-new-privileges"}
				if sc := pod.SecurityContext; sc != nil && sc.RunAsUser != nil && sc.RunAsGroup != nil {
					opts = append(opts, "--user", fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup))
				}
				s := runContainer(t, opts, expandArgs(t, c))
				for _, path := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path} {
					status, body := s.get(t, path)
					assert.Equal(t, 200, status, "%s: %s", path, body)
				}
				network := strings.TrimSuffix(strings.TrimPrefix(c.Command[0], "/"), "server")
				echo(t, network, s.addr, "hello")
				assert.Equal(t, podName, identify(t, network, s.addr), "the identity probe names the pod")
			})
		}
	}
}
