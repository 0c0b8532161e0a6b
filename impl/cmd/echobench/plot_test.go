package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/testpeer"
)

// A browser renders the SVG that -plot writes: headless Chromium takes a
// screenshot of it, and the screenshot has the chart's ink on it. Where
// Chromium is not installed the test is skipped and says how to get it;
// .ci/run installs it.
func TestPlotRendersInABrowser(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	dir := t.TempDir()
	svg := filepath.Join(dir, "latency.svg")
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-rate", "500", "-d", "300ms", "-plot", svg}, nil, io.Discard, io.Discard))

	shot := filepath.Join(dir, "latency.png")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--window-size=900,500", "--screenshot="+shot, "file://"+svg)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	f, err := os.Open(shot)
	require.NoError(t, err, "%s", out)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 900, 500), img.Bounds())
	// The two curves are drawn in blue and red; a page that failed to
	// render is white.
	colored := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if max(r, g, b)-min(r, g, b) > 0x4000 {
				colored++
			}
		}
	}
	assert.Greater(t, colored, 200, "the chart's colored curves are on the screenshot")
}

// -hgrm writes HdrHistogram's percentile distribution as its readers take
// it (HdrHistogram's plotter among them): a header, then rows of value,
// percentile, total count and 1/(1-percentile), the percentiles and
// counts never going down and ending at the whole count, then the
// footer.
func TestHgrmIsHdrHistogramsFormat(t *testing.T) {
	addr := testpeer.Serve(t, &tcpecho.Server{Logger: slog.New(slog.DiscardHandler)})
	file := filepath.Join(t.TempDir(), "latency.hgrm")
	var stdout bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-addr", addr, "-rate", "500", "-d", "300ms", "-hgrm", file}, nil, &stdout, io.Discard))
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(text))
	require.True(t, sc.Scan())
	assert.Equal(t, " Value\tPercentile\tTotalCount\t1/(1-Percentile)", sc.Text())
	var lastP float64
	var lastCount, rows int64
	var footer []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "#["):
			footer = append(footer, line)
		default:
			f := strings.Fields(line)
			require.Len(t, f, 4, line)
			for _, v := range f[:3] {
				_, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err, line)
			}
			p, _ := strconv.ParseFloat(f[1], 64)
			count, _ := strconv.ParseInt(f[2], 10, 64)
			assert.GreaterOrEqual(t, p, lastP, line)
			assert.GreaterOrEqual(t, count, lastCount, line)
			lastP, lastCount = p, count
			rows++
		}
	}
	assert.Positive(t, rows)
	assert.Equal(t, 1.0, lastP, "the last row is the 100th percentile")
	require.Len(t, footer, 3)
	assert.Regexp(t, `Total count    = +`+strconv.FormatInt(lastCount, 10)+`\]`, footer[1])
}
