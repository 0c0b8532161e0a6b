// Package report holds the check of make report's page: the features'
// results, rendered by multiple-cucumber-html-reporter (render.js), looked
// at in headless Chromium.
package report

import (
	"bufio"
	"flag"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var page = flag.String("report", "", "the index.html make report wrote; empty: make report runs this test itself")

// The page, opened in headless Chromium, names every feature, and the
// screenshot of it (beside the page) shows them with their scenarios
// passed and failed.
func TestReportInChromium(t *testing.T) {
	if *page == "" {
		t.Skip("make report builds the page and runs this test on it")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium: apt-get install chromium")
	}
	abs, err := filepath.Abs(*page)
	require.NoError(t, err)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000", "--window-size=1400,2000"}
	dom, err := exec.Command(chromium, append(args, "--dump-dom", "file://"+abs)...).Output()
	require.NoError(t, err)
	names := featureNames(t)
	require.NotEmpty(t, names)
	for _, name := range names {
		assert.Contains(t, html.UnescapeString(string(dom)), name, "the page names every feature")
	}
	shot := filepath.Join(filepath.Dir(abs), "screenshot.png")
	require.NoError(t, exec.Command(chromium, append(args, "--screenshot="+shot, "file://"+abs)...).Run())
	info, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, info.Size(), int64(10_000), "a screenshot with something on it")
}

// featureNames are the names of the features in features/.
func featureNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../features/*.feature")
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		r, err := os.Open(f)
		require.NoError(t, err)
		s := bufio.NewScanner(r)
		for s.Scan() {
			if name, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "Feature: "); ok {
				names = append(names, name)
				break
			}
		}
		r.Close()
	}
	return names
}
