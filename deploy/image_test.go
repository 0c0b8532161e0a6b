package deploy

import (
	"os"
	"path"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// instruction is one line of the Dockerfile: its keyword and arguments.
type instruction struct {
	keyword string
	args    []string
	json    bool
}

// readDockerfile parses ../Dockerfile with BuildKit's own parser.
func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	res, err := parser.Parse(f)
	require.NoError(t, err)
	assert.Empty(t, res.Warnings)
	var all []instruction
	for _, n := range res.AST.Children {
		in := instruction{keyword: strings.ToLower(n.Value), json: n.Attributes["json"]}
		for a := n.Next; a != nil; a = a.Next {
			in.args = append(in.args, a.Value)
		}
		all = append(all, in)
	}
	return all
}

// The image is the five static binaries FROM scratch, run by a user
// that is not root, starting tcpserver on the port the manifests use.
func TestDockerfileBuildsFromScratchWithDistsBinaries(t *testing.T) {
	var copied []string
	var user, entrypoint string
	var cmd []string
	froms := 0
	for _, in := range readDockerfile(t) {
		switch in.keyword {
		case "from":
			froms++
			assert.Equal(t, []string{"scratch"}, in.args, "nothing but the binaries")
		case "copy":
			require.GreaterOrEqual(t, len(in.args), 2)
			dest := in.args[len(in.args)-1]
			assert.Equal(t, "/", dest)
			for _, src := range in.args[:len(in.args)-1] {
				assert.Equal(t, "dist", path.Dir(src), "make dist's binaries: %s", src)
				copied = append(copied, path.Base(src))
			}
		case "user":
			user = in.args[0]
		case "entrypoint":
			assert.True(t, in.json, "exec form: no shell in scratch")
			entrypoint = in.args[0]
		case "cmd":
			assert.True(t, in.json, "exec form: no shell in scratch")
			cmd = in.args
		}
	}
	assert.Equal(t, 1, froms)
	assert.ElementsMatch(t, binaries, copied, "every binary make dist builds, and only those")
	uid, _, _ := strings.Cut(user, ":")
	assert.NotContains(t, []string{"", "0", "root"}, uid, "USER is not root")
	assert.Equal(t, "/tcpserver", entrypoint)
	assert.Equal(t, ":7007", flagValue(cmd, "-listen"), "the port the manifests' containers use")

	// And the command the image runs by default runs.
	s := runServer(t, "tcpserver", cmd)
	status, _ := s.get(t, "/readyz")
	assert.Equal(t, 200, status)
}
