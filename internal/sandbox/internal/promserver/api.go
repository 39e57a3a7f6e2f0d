package promserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Sample is one series of an instant query's result.
type Sample struct {
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// Vector is an instant query's result.
type Vector []Sample

// Alert is one alert Prometheus holds: pending until its rule's "for" has
// passed, then firing.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	ActiveAt    time.Time         `json:"activeAt"`
	Value       string            `json:"value"`
}

// Target is one scrape target and how its last scrape went.
type Target struct {
	Job        string            `json:"scrapePool"`
	URL        string            `json:"scrapeUrl"`
	Labels     map[string]string `json:"labels"`
	Health     string            `json:"health"` // "up", "down" or "unknown" before the first scrape
	LastError  string            `json:"lastError"`
	LastScrape time.Time         `json:"lastScrape"`
}

// get calls a /api/v1 endpoint and decodes its data field.
func (s *Server) get(ctx context.Context, path string, query url.Values, data any) error {
	u := s.URL() + "/api/v1/" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("cannot ask prometheus for %s: %w", path, err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot ask prometheus for %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("cannot read prometheus' %s: %w", path, err)
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("cannot parse prometheus' %s (%s): %w", path, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("cannot ask prometheus for %s: %s", path, env.Error)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("cannot parse prometheus' %s: %w", path, err)
	}
	return nil
}

// Query runs an instant PromQL query now; a result that is not a vector
// (a scalar, say) is an error.
func (s *Server) Query(ctx context.Context, promql string) (Vector, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := s.get(ctx, "query", url.Values{"query": {promql}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("cannot query %q: result is a %s, not a vector", promql, data.ResultType)
	}
	out := make(Vector, 0, len(data.Result))
	for _, r := range data.Result {
		ts, _ := r.Value[0].(float64)
		str, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("cannot parse the value of %v: %w", r.Metric, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v, Time: time.UnixMilli(int64(ts * 1000))})
	}
	return out, nil
}

// Alerts lists the pending and firing alerts.
func (s *Server) Alerts(ctx context.Context) ([]Alert, error) {
	var data struct {
		Alerts []Alert `json:"alerts"`
	}
	if err := s.get(ctx, "alerts", nil, &data); err != nil {
		return nil, err
	}
	return data.Alerts, nil
}

// MetricNames lists every metric name Prometheus holds series of.
func (s *Server) MetricNames(ctx context.Context) ([]string, error) {
	var names []string
	if err := s.get(ctx, "label/__name__/values", nil, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// Targets lists the active scrape targets with their health.
func (s *Server) Targets(ctx context.Context) ([]Target, error) {
	var data struct {
		Active []Target `json:"activeTargets"`
	}
	if err := s.get(ctx, "targets", url.Values{"state": {"active"}}, &data); err != nil {
		return nil, err
	}
	return data.Active, nil
}
