package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// manifests are deploy/kubernetes's objects, decoded strictly.
type manifests struct {
	deployments []*appsv1.Deployment
	daemonSets  []*appsv1.DaemonSet
	jobs        []*batchv1.Job
	services    []*corev1.Service
}

// readManifests decodes every document of every file in kubernetes/ into
// its Kubernetes API type, strictly: a field the type does not have, a
// duplicate field or a kind this test does not know is an error, as a
// typo in a manifest would be to the API server (kubectl --validate=strict).
func readManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var m manifests
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		docs := utilyaml.NewYAMLReader(bufio.NewReader(f))
		for {
			doc, err := docs.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, file)
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta metav1.TypeMeta
			require.NoError(t, yaml.Unmarshal(doc, &meta), file)
			var obj any
			switch meta.APIVersion + " " + meta.Kind {
			case "apps/v1 Deployment":
				d := &appsv1.Deployment{}
				m.deployments, obj = append(m.deployments, d), d
			case "apps/v1 DaemonSet":
				d := &appsv1.DaemonSet{}
				m.daemonSets, obj = append(m.daemonSets, d), d
			case "batch/v1 Job":
				j := &batchv1.Job{}
				m.jobs, obj = append(m.jobs, j), j
			case "v1 Service":
				s := &corev1.Service{}
				m.services, obj = append(m.services, s), s
			default:
				t.Fatalf("%s: a %s %s, which this test does not check", file, meta.APIVersion, meta.Kind)
			}
			require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s: %s", file, meta.Kind)
		}
		f.Close()
	}
	return m
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := readManifests(t)
	assert.Len(t, m.deployments, 1)
	assert.Len(t, m.services, 1)
	assert.Len(t, m.daemonSets, 1)
	assert.Len(t, m.jobs, 3, "the benchmark, the watch and the probe")
}

// A strict decode would catch a misspelt field: the check can fail.
func TestStrictDecodingRefusesAnUnknownField(t *testing.T) {
	err := yaml.UnmarshalStrict([]byte("apiVersion: v1\nkind: Service\nspec:\n  prots: []\n"), &corev1.Service{})
	assert.ErrorContains(t, err, `unknown field "prots"`)
}

// flagValue is the value args give flag (the last, as Go's flag package
// takes it), or "".
func flagValue(args []string, flag string) string {
	v := ""
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			v = args[i+1]
		}
		if rest, ok := strings.CutPrefix(a, flag+"="); ok {
			v = rest
		}
	}
	return v
}

// portOf is the port of a host:port flag value.
func portOf(t *testing.T, hostport string) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(hostport)
	require.NoError(t, err, hostport)
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return int32(n)
}

func seconds(t *testing.T, args []string, flag string) float64 {
	t.Helper()
	v := flagValue(args, flag)
	if v == "" {
		return 5 // the servers' default -shutdown-timeout, and no drain
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err)
	return d.Seconds()
}

// checkServerPod checks a pod of echo servers against the servers'
// flags: each container runs one of the binaries; its -listen port is
// its echo port, with the binary's protocol; its probes ask /readyz and
// /healthz on the port -admin names; it runs unprivileged; and the
// termination grace period covers -drain-delay and -shutdown-timeout.
func checkServerPod(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	require.NotEmpty(t, spec.Containers, what)
	require.NotNil(t, spec.TerminationGracePeriodSeconds, "%s: the default 30s is not a choice", what)
	sc := spec.SecurityContext
	require.NotNil(t, sc, what)
	assert.True(t, sc.RunAsNonRoot != nil && *sc.RunAsNonRoot, "%s runs as non-root", what)
	for _, c := range spec.Containers {
		require.Len(t, c.Command, 1, "%s/%s", what, c.Name)
		binary := strings.TrimPrefix(c.Command[0], "/")
		require.Contains(t, []string{"tcpserver", "udpserver"}, binary, "%s/%s", what, c.Name)
		proto := corev1.ProtocolTCP
		if binary == "udpserver" {
			proto = corev1.ProtocolUDP
		}
		ports := map[string]corev1.ContainerPort{}
		for _, p := range c.Ports {
			ports[p.Name] = p
		}
		echoPort := ports["echo-"+strings.ToLower(string(proto))]
		assert.Equal(t, portOf(t, flagValue(c.Args, "-listen")), echoPort.ContainerPort, "%s/%s: -listen is the echo port", what, c.Name)
		assert.Equal(t, proto, echoPort.Protocol, "%s/%s", what, c.Name)
		admin := portOf(t, flagValue(c.Args, "-admin"))
		for path, probe := range map[string]*corev1.Probe{"/readyz": c.ReadinessProbe, "/healthz": c.LivenessProbe} {
			require.NotNil(t, probe, "%s/%s: a probe of %s", what, c.Name, path)
			require.NotNil(t, probe.HTTPGet, "%s/%s", what, c.Name)
			assert.Equal(t, path, probe.HTTPGet.Path, "%s/%s", what, c.Name)
			assert.Equal(t, admin, ports[probe.HTTPGet.Port.StrVal].ContainerPort, "%s/%s: %s's port is -admin's", what, c.Name, path)
		}
		assert.Equal(t, "$(POD_NAME)", flagValue(c.Args, "-identity"), "%s/%s: the identity probe names the pod", what, c.Name)
		stop := seconds(t, c.Args, "-drain-delay") + seconds(t, c.Args, "-shutdown-timeout")
		assert.Less(t, stop, float64(*spec.TerminationGracePeriodSeconds), "%s/%s: drain and shutdown within the grace period", what, c.Name)
		csc := c.SecurityContext
		require.NotNil(t, csc, "%s/%s", what, c.Name)
		assert.False(t, csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation, "%s/%s", what, c.Name)
		assert.True(t, csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem, "%s/%s", what, c.Name)
	}
}

func TestServerPodsMatchTheServersFlags(t *testing.T) {
	m := readManifests(t)
	for _, d := range m.deployments {
		checkServerPod(t, "deployment "+d.Name, d.Spec.Template.Spec)
	}
	for _, d := range m.daemonSets {
		checkServerPod(t, "daemonset "+d.Name, d.Spec.Template.Spec)
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				if strings.HasPrefix(p.Name, "echo-") {
					assert.Equal(t, p.ContainerPort, p.HostPort, "daemonset %s/%s: the node's own port", d.Name, c.Name)
				}
			}
		}
	}
}

// The Service offers TCP and UDP on one port, each on the container port
// of that name and protocol, in the pods it selects.
func TestServiceReachesTheEchoPorts(t *testing.T) {
	m := readManifests(t)
	svc, deploy := m.services[0], m.deployments[0]
	assert.Equal(t, deploy.Spec.Template.Labels, svc.Spec.Selector, "the Service selects the Deployment's pods")
	protos := map[corev1.Protocol]int32{}
	for _, p := range svc.Spec.Ports {
		protos[p.Protocol] = p.Port
		found := false
		for _, c := range deploy.Spec.Template.Spec.Containers {
			for _, cp := range c.Ports {
				found = found || (cp.Name == p.TargetPort.StrVal && cp.Protocol == p.Protocol)
			}
		}
		assert.True(t, found, "service port %s: no %s container port named %q", p.Name, p.Protocol, p.TargetPort.StrVal)
	}
	assert.Equal(t, map[corev1.Protocol]int32{corev1.ProtocolTCP: 7, corev1.ProtocolUDP: 7}, protos, "TCP and UDP on port 7")
}

// The benchmark Job runs N indexed pods of echobench against the
// Service, each printing its JSON report alone.
func TestBenchmarkJobTargetsTheService(t *testing.T) {
	m := readManifests(t)
	job, svc := m.job(t, "echobench"), m.services[0]
	require.NotNil(t, job.Spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode)
	require.NotNil(t, job.Spec.Completions)
	assert.Equal(t, job.Spec.Completions, job.Spec.Parallelism, "all pods at once")
	c := job.Spec.Template.Spec.Containers[0]
	assert.Equal(t, []string{"/echobench"}, c.Command)
	host, port, err := net.SplitHostPort(flagValue(c.Args, "-addr"))
	require.NoError(t, err)
	assert.Equal(t, svc.Name, host)
	assert.Equal(t, strconv.Itoa(int(svc.Spec.Ports[0].Port)), port)
	assert.Equal(t, "-", flagValue(c.Args, "-json"))
	assert.Contains(t, c.Args, "-q", "the log holds the JSON alone")
}

// job is the Job named name.
func (m manifests) job(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	for _, j := range m.jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no Job named %s in kubernetes/", name)
	return nil
}

// podName is the name the scenario's kubelet gives a pod.
const podName = "echo-6b7f9c5d4-x2x9q"

// expandArgs is c's arguments as the kubelet runs them: $(VAR) replaced
// by the container's environment, the downward API's metadata.name being
// podName.
func expandArgs(t *testing.T, c corev1.Container) []string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = podName
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.hostIP":
			env[e.Name] = "127.0.0.1"
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		default:
			t.Fatalf("%s: env %s comes from somewhere this test does not know", c.Name, e.Name)
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = os.Expand(strings.NewReplacer("$(", "${", ")", "}").Replace(a), func(name string) string {
			v, ok := env[name]
			if !ok {
				t.Fatalf("%s: $(%s) is not in its environment", c.Name, name)
			}
			return v
		})
	}
	return args
}

// containers lists every container of the manifests' pods.
func (m manifests) containers() []corev1.Container {
	var all []corev1.Container
	for _, d := range m.deployments {
		all = append(all, d.Spec.Template.Spec.Containers...)
	}
	for _, d := range m.daemonSets {
		all = append(all, d.Spec.Template.Spec.Containers...)
	}
	return all
}

// Each server container's command line runs: the binary takes its flags,
// serves, answers the probes' paths, echoes, and stops on SIGTERM with
// exit 0 once its drain is over, inside the pod's grace period.
func TestServerContainersRunAsTheManifestsSay(t *testing.T) {
	m := readManifests(t)
	for i, c := range m.containers() {
		t.Run(strconv.Itoa(i)+"/"+c.Name, func(t *testing.T) {
			t.Parallel()
			binary := strings.TrimPrefix(c.Command[0], "/")
			s := runServer(t, binary, expandArgs(t, c))
			for _, path := range []string{c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path} {
				status, body := s.get(t, path)
				assert.Equal(t, 200, status, "%s: %s", path, body)
			}
			network := strings.TrimSuffix(binary, "server")
			echo(t, network, s.addr, "hello")
			assert.Equal(t, podName, identify(t, network, s.addr), "the identity probe names the pod")
			code, took := s.stop(t, time.Duration(seconds(t, c.Args, "-drain-delay")+seconds(t, c.Args, "-shutdown-timeout")+5)*time.Second)
			assert.Equal(t, 0, code, "its log:\n%s", s.stderr)
			assert.GreaterOrEqual(t, took.Seconds(), seconds(t, c.Args, "-drain-delay"), "it drained first")
		})
	}
}

// The Job's echobench command line runs, and its output, as kubectl logs
// would gather it from two pods, merges.
func TestBenchmarkJobOutputMerges(t *testing.T) {
	m := readManifests(t)
	c := m.job(t, "echobench").Spec.Template.Spec.Containers[0]
	target := runServer(t, "tcpserver", nil)
	dir := t.TempDir()
	var reports []string
	for i, place := range append(jobPlaces(), "dist") { // two reports at least
		// The manifest's flags, but a local target and a short run.
		args := append(append([]string{}, c.Args...), "-addr", target.addr, "-d", "300ms", "-warmup", "0s")
		cmd := echobenchIn(t, place, args...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log // kubectl logs joins the two
		require.NoError(t, cmd.Run(), "%s", log.String())
		var report struct {
			Schema string `json:"schema"`
		}
		require.NoError(t, json.Unmarshal(log.Bytes(), &report), "the log is one JSON report: %.300q", log.String())
		assert.Equal(t, "echobench/1", report.Schema)
		file := filepath.Join(dir, "echobench-"+strconv.Itoa(i)+".json")
		require.NoError(t, os.WriteFile(file, log.Bytes(), 0o600))
		reports = append(reports, file)
	}
	out, err := exec.Command(filepath.Join(dist(t), "echobench"), append([]string{"merge"}, reports...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), strconv.Itoa(len(reports))+" reports merged")
	assert.True(t, slices.Contains(c.Args, "-json"))
}

// deploymentServers runs the Deployment's servers as the kubelet would,
// by protocol: "tcp", "udp".
func deploymentServers(t *testing.T, m manifests) map[string]*server {
	t.Helper()
	servers := map[string]*server{}
	for _, c := range m.deployments[0].Spec.Template.Spec.Containers {
		binary := strings.TrimPrefix(c.Command[0], "/")
		servers[strings.TrimSuffix(binary, "server")] = runServer(t, binary, expandArgs(t, c))
	}
	return servers
}

// The watch Job watches the Service over TCP and over UDP, with a gate,
// each container's log its JSON alone.
func TestWatchJobWatchesTheServiceWithAGate(t *testing.T) {
	m := readManifests(t)
	job, svc := m.job(t, "echo-watch"), m.services[0]
	protos := map[string]bool{}
	for _, c := range job.Spec.Template.Spec.Containers {
		assert.Equal(t, []string{"/echobench"}, c.Command)
		assert.Equal(t, "watch", flagValue(c.Args, "-mode"), c.Name)
		protos[flagValue(c.Args, "-proto")] = true
		host, port, err := net.SplitHostPort(flagValue(c.Args, "-addr"))
		require.NoError(t, err)
		assert.Equal(t, svc.Name, host, c.Name)
		assert.Equal(t, strconv.Itoa(int(svc.Spec.Ports[0].Port)), port, c.Name)
		assert.NotEmpty(t, flagValue(c.Args, "-max-gap"), "%s: the gate", c.Name)
		assert.Equal(t, "-", flagValue(c.Args, "-json"), c.Name)
		assert.Contains(t, c.Args, "-q", "%s: the log holds the JSON alone", c.Name)
	}
	assert.Equal(t, map[string]bool{"tcp": true, "udp": true}, protos)
}

// Each watch container's command line runs against servers named as the
// manifests name them, and its log is a report that names the pod.
func TestWatchJobRunsAsTheManifestSays(t *testing.T) {
	m := readManifests(t)
	servers := deploymentServers(t, m)
	for _, c := range m.job(t, "echo-watch").Spec.Template.Spec.Containers {
		for _, place := range jobPlaces() {
			t.Run(c.Name+"/"+place, func(t *testing.T) {
				// The manifest's flags, but a local target and a short run.
				args := append(append([]string{}, c.Args...), "-addr", servers[flagValue(c.Args, "-proto")].addr, "-d", "1s")
				cmd := echobenchIn(t, place, args...)
				var log bytes.Buffer
				cmd.Stdout, cmd.Stderr = &log, &log // kubectl logs joins the two
				require.NoError(t, cmd.Run(), "%s", log.String())
				var report struct {
					Watch struct {
						Lost     int64            `json:"lost"`
						Backends map[string]int64 `json:"backends"`
					} `json:"watch"`
				}
				require.NoError(t, json.Unmarshal(log.Bytes(), &report), "the log is one JSON report: %.300q", log.String())
				assert.Zero(t, report.Watch.Lost)
				assert.Equal(t, []string{podName}, slices.Collect(maps.Keys(report.Watch.Backends)), "the pod that answered")
			})
		}
	}
}

// The probe Job's command line runs: its targets, the Service's name and
// the node's port put on local servers and a closed port, give the
// verdicts it expects, exit 0, and its log is the JSON list alone.
func TestProbeJobRunsAsTheManifestSays(t *testing.T) {
	m := readManifests(t)
	servers := deploymentServers(t, m)
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.LocalAddr().(*net.UDPAddr).Port
	closed.Close() // nothing listens there now: the node's port, denied
	c := m.job(t, "echo-probe").Spec.Template.Spec.Containers[0]
	assert.Equal(t, []string{"/echobench"}, c.Command)
	args := expandArgs(t, c)
	require.Equal(t, "probe", args[0])
	for i, a := range args {
		a = strings.Replace(a, "tcp://echo:7", "tcp://"+servers["tcp"].addr, 1)
		a = strings.Replace(a, "udp://echo:7", "udp://"+servers["udp"].addr, 1)
		args[i] = strings.Replace(a, "127.0.0.1:7007", "127.0.0.1:"+strconv.Itoa(closedPort), 1)
	}
	for _, place := range jobPlaces() {
		t.Run(place, func(t *testing.T) { checkProbeJob(t, echobenchIn(t, place, args...)) })
	}
}

// checkProbeJob runs the probe Job's command line, cmd, and checks its
// verdicts.
func checkProbeJob(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log // kubectl logs joins the two
	require.NoError(t, cmd.Run(), "%s", log.String())
	var verdicts []struct {
		Target  string `json:"target"`
		Verdict string `json:"verdict"`
		Expect  string `json:"expect"`
	}
	require.NoError(t, json.Unmarshal(log.Bytes(), &verdicts), "the log is the JSON list alone: %.300q", log.String())
	require.Len(t, verdicts, 3)
	assert.Equal(t, "echoed", verdicts[0].Verdict)
	assert.Equal(t, "echoed", verdicts[1].Verdict)
	assert.Equal(t, "refused", verdicts[2].Verdict)
	assert.Equal(t, "deny", verdicts[2].Expect)
}
