package promserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The rendering below follows the Prometheus charm's consumer of
// prometheus_scrape, canonical/prometheus-k8s-operator
// lib/charms/prometheus_k8s/v0/prometheus_scrape.py (LIBAPI 0, LIBPATCH 61):
// MetricsEndpointConsumer._static_scrape_config, jobs() and alerts, with
// PrometheusConfig.prefix_job_names, sanitize_scrape_config and
// expand_wildcard_targets_into_individual_jobs, and cosl's JujuTopology for
// the identifier and labels; then src/charm.py's _generate_prometheus_config,
// which sets honor_labels on every job and loads rules/juju_*.rules. Two
// things differ, both on the consumer's own "cos-tool is missing" path:
// expressions keep their selectors as written (cos-tool would add the
// topology matchers; here only our application is scraped, so they select
// the same series) and nothing is validated before Prometheus loads it (a
// rule or job Prometheus refuses fails Configure instead).

// EndpointName is the relation both sides name the prometheus_scrape
// relation by default; the consumer puts it in rule file names.
const EndpointName = "metrics-endpoint"

// allowedKeys are the job keys the consumer keeps (ALLOWED_KEYS); anything
// else a provider sends is dropped.
var allowedKeys = []string{
	"job_name", "metrics_path", "static_configs", "scrape_interval", "scrape_timeout", "proxy_url",
	"relabel_configs", "metric_relabel_configs", "sample_limit", "label_limit", "label_name_length_limit",
	"label_value_length_limit", "scheme", "basic_auth", "tls_config", "authorization", "params",
}

// wildcard is the consumer's test for a "*" target (re.match: a prefix).
var wildcard = regexp.MustCompile(`^\*(?::\d+)?`)

// uuidV4 is what cosl's JujuTopology accepts as a model UUID: the canonical
// lowercase form of a version 4 UUID.
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// topology is cosl's JujuTopology, built from scrape_metadata.
type topology struct {
	Model     string `json:"model"`
	ModelUUID string `json:"model_uuid"`
	App       string `json:"application"`
	Unit      string `json:"unit"`
	Charm     string `json:"charm_name"`
}

func (t topology) validate() error {
	if !uuidV4.MatchString(t.ModelUUID) {
		return fmt.Errorf("cannot use topology: %q is not a valid UUID", t.ModelUUID)
	}
	return nil
}

// identifier is model_<first 8 of uuid>_application, "/" made "_".
func (t topology) identifier() string {
	return strings.ReplaceAll(t.Model+"_"+t.ModelUUID[:min(8, len(t.ModelUUID))]+"_"+t.App, "/", "_")
}

// labels are label_matcher_dict: the non-empty topology labels but the unit.
func (t topology) labels() map[string]any {
	out := map[string]any{}
	for k, v := range map[string]string{"juju_model": t.Model, "juju_model_uuid": t.ModelUUID,
		"juju_application": t.App, "juju_charm": t.Charm} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// host is one unit of the relation as _relation_hosts reads its databag.
type host struct{ unit, address, path, fqdn string }

// relationHosts reads the units' databags: prometheus_scrape_unit_address
// (or the older prometheus_scrape_host), _path, _name (or the unit's own
// name) and _fqdn; units without a name and address are skipped.
func relationHosts(units map[string]map[string]string) []host {
	var out []host
	for _, name := range slices.Sorted(maps.Keys(units)) {
		bag := units[name]
		h := host{unit: bag["prometheus_scrape_unit_name"], address: bag["prometheus_scrape_unit_address"],
			path: bag["prometheus_scrape_unit_path"], fqdn: bag["prometheus_scrape_unit_fqdn"]}
		if h.unit == "" {
			h.unit = name
		}
		if h.address == "" {
			h.address = bag["prometheus_scrape_host"]
		}
		if h.address != "" {
			out = append(out, h)
		}
	}
	return out
}

// ScrapeConfigs renders the scrape_configs Prometheus gets for one
// metrics-endpoint relation, from the provider's app databag (scrape_jobs,
// scrape_metadata) and its units' databags, keyed by unit name.
func ScrapeConfigs(app map[string]string, units map[string]map[string]string) ([]map[string]any, error) {
	if len(units) == 0 {
		return nil, nil
	}
	var jobs []map[string]any
	if err := unmarshalField(app, "scrape_jobs", "[]", &jobs); err != nil {
		return nil, err
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	var meta map[string]string
	if err := unmarshalField(app, "scrape_metadata", "{}", &meta); err != nil {
		return nil, err
	}
	if len(meta) == 0 {
		return honorLabels(dedupe(jobs)), nil // taken as sent: no prefix, no sanitizing
	}
	topo := topology{Model: meta["model"], ModelUUID: meta["model_uuid"], App: meta["application"],
		Unit: meta["unit"], Charm: meta["charm_name"]}
	if err := topo.validate(); err != nil {
		return nil, err
	}
	prefix := "juju_" + topo.identifier() + "_prometheus_scrape"
	for i, job := range jobs {
		jobs[i] = sanitize(job)
		if name, _ := job["job_name"].(string); name != "" {
			jobs[i]["job_name"] = prefix + "_" + name
		} else {
			jobs[i]["job_name"] = prefix
		}
	}
	return honorLabels(dedupe(expand(jobs, relationHosts(units), topo))), nil
}

// sanitize is sanitize_scrape_config: DEFAULT_JOB overlaid with the job's
// allowed keys.
func sanitize(job map[string]any) map[string]any {
	out := map[string]any{
		"metrics_path":   "/metrics",
		"static_configs": []any{map[string]any{"targets": []any{"*:80"}}},
	}
	for _, k := range allowedKeys {
		if v, ok := job[k]; ok {
			out[k] = v
		}
	}
	return out
}

// expand is expand_wildcard_targets_into_individual_jobs: a job per unit
// for "*" targets and for targets naming a unit's address or FQDN, named
// <job>-<unit number>, with the topology labels and juju_unit on its
// targets and the instance relabelled from the topology; targets of no
// unit stay in one job with the topology labels but no juju_unit.
func expand(jobs []map[string]any, hosts []host, topo topology) []map[string]any {
	byHost := map[string]string{}
	for _, h := range hosts {
		for _, id := range []string{h.address, h.fqdn} {
			if id != "" {
				byHost[id] = h.unit
			}
		}
	}
	var out []map[string]any
	for _, job := range jobs {
		statics, _ := job["static_configs"].([]any)
		var unmatched []any
		for _, sc := range statics {
			static, _ := sc.(map[string]any)
			targets := strings1(static["targets"])
			if len(targets) == 0 {
				continue
			}
			var wild, others []string
			for _, t := range targets {
				if wildcard.MatchString(t) {
					wild = append(wild, t)
				} else {
					others = append(others, t)
				}
			}
			matched := map[string][]string{}
			var order, rest []string
			for _, t := range others {
				hostname := t
				if u, err := url.Parse("//" + t); err == nil && u.Hostname() != "" {
					hostname = u.Hostname()
				} else {
					hostname, _, _ = strings.Cut(t, ":")
				}
				if unit, ok := byHost[hostname]; ok {
					if _, seen := matched[unit]; !seen {
						order = append(order, unit)
					}
					matched[unit] = append(matched[unit], t)
				} else {
					rest = append(rest, t)
				}
			}
			if len(rest) > 0 {
				c := maps.Clone(static)
				c["targets"] = anys(rest)
				c["labels"] = withLabels(topo.labels(), static["labels"])
				unmatched = append(unmatched, c)
			}
			for _, unit := range order {
				out = append(out, unitJob(job, static, matched[unit], unit, pathOf(hosts, unit), topo))
			}
			for _, h := range hosts {
				resolved := make([]string, len(wild))
				for i, t := range wild {
					resolved[i] = strings.ReplaceAll(t, "*", h.address)
				}
				if len(resolved) > 0 {
					out = append(out, unitJob(job, static, resolved, h.unit, h.path, topo))
				}
			}
		}
		if len(unmatched) > 0 {
			j := maps.Clone(job)
			j["static_configs"] = unmatched
			if p, _ := j["metrics_path"].(string); p == "" {
				j["metrics_path"] = "/metrics"
			}
			j["relabel_configs"] = append(anySlice(j["relabel_configs"]), relabelInstance(false))
			out = append(out, j)
		}
	}
	return out
}

// unitJob is _build_per_unit_job.
func unitJob(job, static map[string]any, targets []string, unit, path string, topo topology) map[string]any {
	_, num, _ := strings.Cut(unit, "/")
	s := maps.Clone(static)
	s["targets"] = anys(targets)
	labels := topo.labels()
	labels["juju_unit"] = unit
	s["labels"] = withLabels(labels, static["labels"])
	j := maps.Clone(job)
	name, _ := job["job_name"].(string)
	if name == "" {
		name = "unnamed-job"
	}
	j["job_name"] = name + "-" + num
	mp, _ := job["metrics_path"].(string)
	if mp == "" {
		mp = "/metrics"
	}
	j["metrics_path"] = path + mp
	j["relabel_configs"] = append(anySlice(job["relabel_configs"]), relabelInstance(true))
	j["static_configs"] = []any{s}
	return j
}

// relabelInstance makes the instance label the topology, with the unit for
// per-unit jobs, so it is stable when a pod is recreated.
func relabelInstance(withUnit bool) map[string]any {
	src := []any{"juju_model", "juju_model_uuid", "juju_application"}
	if withUnit {
		src = append(src, "juju_unit")
	}
	return map[string]any{"source_labels": src, "separator": "_", "target_label": "instance", "regex": "(.*)"}
}

func pathOf(hosts []host, unit string) string {
	for _, h := range hosts {
		if h.unit == unit {
			return h.path
		}
	}
	return ""
}

// withLabels lays the target's own labels over base: the provider's win.
func withLabels(base map[string]any, own any) map[string]any {
	if m, ok := own.(map[string]any); ok {
		maps.Copy(base, m)
	}
	return base
}

// dedupe is _dedupe_job_names: jobs sharing a name get "_<sha256 of the
// job>" appended, and identical jobs are kept once. (The consumer hashes
// Python's JSON of the job; the suffix differs, its purpose does not.)
func dedupe(jobs []map[string]any) []map[string]any {
	count := map[string]int{}
	for _, j := range jobs {
		count[fmt.Sprint(j["job_name"])]++
	}
	var out []map[string]any
	seen := map[string]bool{}
	for _, j := range jobs {
		if count[fmt.Sprint(j["job_name"])] > 1 {
			j["job_name"] = fmt.Sprintf("%v_%s", j["job_name"], hashJSON(j))
		}
		if h := hashJSON(j); !seen[h] {
			seen[h] = true
			out = append(out, j)
		}
	}
	return out
}

func hashJSON(v any) string {
	data, _ := json.Marshal(v) // maps of JSON values always encode
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// honorLabels is what the Prometheus charm sets on every related job: the
// targets' juju_* labels win over any the exporter exposes.
func honorLabels(jobs []map[string]any) []map[string]any {
	for _, j := range jobs {
		j["honor_labels"] = true
	}
	return jobs
}

func unmarshalField(app map[string]string, key, empty string, out any) error {
	raw := app[key]
	if raw == "" {
		raw = empty
	}
	if err := json.Unmarshal([]byte(raw), out); err != nil {
		return fmt.Errorf("cannot parse %s: %w", key, err)
	}
	return nil
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return append([]any{}, s...)
}

func strings1(v any) []string {
	var out []string
	for _, x := range anySlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
