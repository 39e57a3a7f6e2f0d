package promserver

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// topologyPlaceholder is what the consumer strips from labelled rules'
// expressions before injecting matchers.
var topologyPlaceholder = regexp.MustCompile(`%%juju_topology%%,?`)

// RuleFiles renders the rule files Prometheus loads for one relation,
// keyed by file name (juju_<identifier>_metrics-endpoint_<id>.rules), from
// the provider's alert_rules; relationID is the relation's id, as the
// consumer names files by it. Nothing without units, as the consumer.
func RuleFiles(app map[string]string, units map[string]map[string]string, relationID int) (map[string]map[string]any, error) {
	if len(units) == 0 {
		return nil, nil
	}
	var rules map[string]any
	if err := unmarshalField(app, "alert_rules", "{}", &rules); err != nil {
		return nil, err
	}
	if len(rules) == 0 {
		return nil, nil
	}
	groups := anySlice(rules["groups"])
	stripPlaceholders(groups)
	id, err := rulesIdentifier(groups, app)
	if err != nil || id == "" {
		return nil, err // the consumer logs "no usable group or identifier" and skips them
	}
	name := fmt.Sprintf("juju_%s_%s_%d.rules", id, EndpointName, relationID)
	return map[string]map[string]any{name: rules}, nil
}

// stripPlaceholders removes %%juju_topology%% from the expressions of rules
// that carry the topology labels (_inject_alert_expr_labels without cos-tool).
func stripPlaceholders(groups []any) {
	for _, g := range groups {
		group, _ := g.(map[string]any)
		for _, r := range anySlice(group["rules"]) {
			rule, _ := r.(map[string]any)
			labels, _ := rule["labels"].(map[string]any)
			if labels == nil || labels["juju_model_uuid"] == nil || labels["juju_model"] == nil || labels["juju_application"] == nil {
				continue
			}
			if expr, ok := rule["expr"].(string); ok {
				rule["expr"] = topologyPlaceholder.ReplaceAllString(expr, "")
			}
		}
	}
}

// rulesIdentifier is _get_identifier_by_alert_rules, then scrape_metadata:
// the topology of the first group whose first rule is labelled with it;
// else the one in scrape_metadata when it has one; else the first group's
// name.
func rulesIdentifier(groups []any, app map[string]string) (string, error) {
	for _, g := range groups {
		group, _ := g.(map[string]any)
		rules := anySlice(group["rules"])
		if len(rules) == 0 {
			continue
		}
		rule, _ := rules[0].(map[string]any)
		labels, _ := rule["labels"].(map[string]any)
		uuid, ok1 := labels["juju_model_uuid"].(string)
		model, ok2 := labels["juju_model"].(string)
		appName, ok3 := labels["juju_application"].(string)
		if ok1 && ok2 && ok3 {
			t := topology{Model: model, ModelUUID: uuid, App: appName}
			if err := t.validate(); err != nil {
				return "", err
			}
			return t.identifier(), nil
		}
	}
	id := ""
	if len(groups) > 0 {
		group, _ := groups[0].(map[string]any)
		id, _ = group["name"].(string)
	}
	raw, ok := app["scrape_metadata"]
	if !ok {
		return id, nil
	}
	var meta map[string]string
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return "", fmt.Errorf("cannot parse scrape_metadata: %w", err)
	}
	model, ok1 := meta["model"]
	uuid, ok2 := meta["model_uuid"]
	appName, ok3 := meta["application"]
	if !ok1 || !ok2 || !ok3 {
		return id, nil // the consumer logs the missing key and keeps what it had
	}
	t := topology{Model: model, ModelUUID: uuid, App: appName}
	if err := t.validate(); err != nil {
		return "", err
	}
	return t.identifier(), nil
}
