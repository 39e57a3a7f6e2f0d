package cos

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// RulesFile is the checked-in rule file, with the %%juju_topology%% placeholders cos-lib expects.
//
//go:embed alert_rules/mirrormaker.rules.yaml
var RulesFile []byte

// topologyPlaceholder is what cos-lib strips from an expression before it injects the topology
// (re.sub(r"%%juju_topology%%,?", "", expr)).
var topologyPlaceholder = regexp.MustCompile(`%%juju_topology%%,?`)

// alertRules is the alert_rules value of the prometheus_scrape app data: the rule file's groups
// as cos-lib's AlertRules(query_type="promql", topology) makes them (group names prefixed with
// the topology's identifier and ending in _rules, juju_* labels on every rule, the topology's
// matchers in every selector). injectExprs false stops before the last step, as cos-lib does
// when the charm ships no cos-tool binary; Prometheus injects the matchers itself on receipt.
func alertRules(t Topology, injectExprs bool) (pyObject, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(RulesFile, &doc); err != nil {
		return nil, fmt.Errorf("cannot parse the alert rules: %w", err)
	}
	v, err := yamlToPy(&doc)
	if err != nil {
		return nil, fmt.Errorf("cannot read the alert rules: %w", err)
	}
	file, ok := v.(pyObject)
	if !ok {
		return nil, fmt.Errorf("cannot read the alert rules: not a mapping")
	}
	groupsV, _ := file.get("groups")
	groups, ok := groupsV.([]any)
	if !ok || len(groups) == 0 {
		return nil, fmt.Errorf("cannot read the alert rules: no groups")
	}
	for gi, g := range groups {
		group, ok := g.(pyObject)
		if !ok {
			return nil, fmt.Errorf("cannot read the alert rules: a group is not a mapping")
		}
		if err := renderGroup(&group, t, injectExprs); err != nil {
			return nil, err
		}
		groups[gi] = group
	}
	return pyObject{{"groups", groups}}, nil
}

// groupNameAlreadyModified is cos-lib's test for a name that already carries a topology.
var groupNameAlreadyModified = regexp.MustCompile(`^.*?_[\da-f]{8}_.*?rules$`)

func renderGroup(group *pyObject, t Topology, injectExprs bool) error {
	nameV, _ := group.get("name")
	name, ok := nameV.(string)
	if !ok || name == "" {
		return fmt.Errorf("cannot read the alert rules: a group has no name")
	}
	if !groupNameAlreadyModified.MatchString(name) {
		name = t.identifier() + "_" + name
		if !strings.HasSuffix(name, "_rules") {
			name += "_rules"
		}
	}
	group.set("name", sanitizeMetricName(name))
	rulesV, _ := group.get("rules")
	rules, ok := rulesV.([]any)
	if !ok {
		return fmt.Errorf("cannot read the alert rules: group %s has no rules", name)
	}
	for i, r := range rules {
		rule, ok := r.(pyObject)
		if !ok {
			return fmt.Errorf("cannot read the alert rules: rule %d of %s is not a mapping", i, name)
		}
		labelsV, ok := rule.get("labels")
		labels, _ := labelsV.(pyObject)
		if !ok {
			labels = pyObject{}
		}
		for _, kv := range t.ruleLabels() {
			if _, there := labels.get(kv.K); !there {
				labels = append(labels, kv)
			}
		}
		rule.set("labels", labels)
		exprV, _ := rule.get("expr")
		expr, ok := exprV.(string)
		if !ok {
			return fmt.Errorf("cannot read the alert rules: rule %d of %s has no expr", i, name)
		}
		expr = topologyPlaceholder.ReplaceAllString(expr, "")
		if injectExprs {
			var err error
			if expr, err = injectMatchers(expr, t.exprMatchers()); err != nil {
				return fmt.Errorf("cannot inject the topology into rule %d of %s: %w", i, name, err)
			}
		}
		rule.set("expr", expr)
		rules[i] = rule
	}
	group.set("rules", rules)
	return nil
}

// sanitizeMetricName replaces what Prometheus does not allow in a name with "_", as cos-lib does
// to group names (a model or application name may hold "-").
func sanitizeMetricName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == ':' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

// yamlToPy converts a YAML document to the values yaml.safe_load gives Python, keys in order.
func yamlToPy(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, fmt.Errorf("empty document")
		}
		return yamlToPy(n.Content[0])
	case yaml.MappingNode:
		o := pyObject{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := yamlToPy(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			o.set(n.Content[i].Value, v)
		}
		return o, nil
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			v, err := yamlToPy(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return n.Value, nil
		case "!!int":
			i, err := strconv.Atoi(n.Value)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return i, nil
		case "!!bool":
			return n.Value == "true", nil
		case "!!null":
			return nil, nil
		}
		return nil, fmt.Errorf("line %d: unsupported scalar %s", n.Line, n.Tag)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML (aliases?)", n.Line)
}
