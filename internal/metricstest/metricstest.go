// Package metricstest reads what an admin endpoint serves, for tests: the
// metrics, checked as Prometheus's text parser does, and any page. No
// binary links it.
package metricstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are what one scrape of /metrics read: each counter's and
// gauge's value by its name and labels, as Prometheus writes a series:
// `echo_tcp_connections_closed_total{reason="client_closed"}`.
type Samples map[string]float64

// maxScrape bounds what Scrape reads.
const maxScrape = 4 << 20

// client fetches without keeping connections open: a check leaves nothing
// running behind it.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Scrape reads the metrics the admin endpoint at base (http://HOST:PORT)
// serves, checking them as Prometheus's text parser does.
func Scrape(ctx context.Context, base string) (Samples, error) {
	body, err := Get(ctx, base+"/metrics")
	if err != nil {
		return nil, err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", base, err)
	}
	samples := Samples{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			samples[series(name, m.GetLabel())] = value(m)
		}
	}
	return samples, nil
}

func series(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	pairs := make([]string, len(labels))
	for i, l := range labels {
		pairs[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	sort.Strings(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// Get fetches url and returns its body; a status other than 200 is an
// error naming it, with the body.
func Get(ctx context.Context, url string) (string, error) {
	status, body, err := Fetch(ctx, url)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", url, status, strings.TrimSpace(body))
	}
	return body, err
}

// Fetch fetches url and returns its status and body.
func Fetch(ctx context.Context, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxScrape))
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	return resp.StatusCode, string(body), nil
}
