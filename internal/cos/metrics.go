package cos

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MetricNames lists every metric the dashboard and the alert rules read, sorted: the sandbox
// checks each against what a real Prometheus scraped from the charm, so a renamed JMX bean or
// exporter metric fails a test instead of leaving an empty panel or a silent alert.
func MetricNames() ([]string, error) {
	exprs, err := allExprs()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var names []string
	for _, e := range exprs {
		ns, err := metricNames(e.expr)
		if err != nil {
			return nil, fmt.Errorf("cannot read the metrics of %s: %w", e.where, err)
		}
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// sourcedExpr is a PromQL expression and where it comes from, for error messages and tests.
type sourcedExpr struct {
	where string
	expr  string
}

func allExprs() ([]sourcedExpr, error) {
	rules, err := ruleExprs()
	if err != nil {
		return nil, err
	}
	dash, err := dashboardExprs()
	if err != nil {
		return nil, err
	}
	return append(rules, dash...), nil
}

// ruleExprs are the checked-in rules' expressions, placeholders stripped as cos-lib does.
func ruleExprs() ([]sourcedExpr, error) {
	rules, err := alertRules(Topology{}, false)
	if err != nil {
		return nil, err
	}
	var out []sourcedExpr
	groups, _ := rules.get("groups")
	for _, g := range groups.([]any) {
		rs, _ := g.(pyObject).get("rules")
		for _, r := range rs.([]any) {
			rule := r.(pyObject)
			name, _ := rule.get("alert")
			expr, _ := rule.get("expr")
			out = append(out, sourcedExpr{fmt.Sprintf("alert %v", name), expr.(string)})
		}
	}
	return out, nil
}

// labelValues matches Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)

// dashboardExprs are the dashboard's PromQL expressions: every panel target's (rows' nested
// panels included) and the selector of every label_values variable query.
func dashboardExprs() ([]sourcedExpr, error) {
	dash, err := loadDashboard()
	if err != nil {
		return nil, err
	}
	var out []sourcedExpr
	for _, p := range dashboardPanels(dash) {
		title, _ := p.get("title")
		targets, _ := p.get("targets")
		list, _ := targets.([]any)
		for _, tgt := range list {
			o, _ := tgt.(pyObject)
			if expr, ok := o.get("expr"); ok {
				out = append(out, sourcedExpr{fmt.Sprintf("panel %q", title), expr.(string)})
			}
		}
	}
	for _, v := range dashboardVariables(dash) {
		q, _ := v.get("query")
		if o, ok := q.(pyObject); ok {
			q, _ = o.get("query")
		}
		s, _ := q.(string)
		if m := labelValues.FindStringSubmatch(strings.TrimSpace(s)); m != nil {
			name, _ := v.get("name")
			out = append(out, sourcedExpr{fmt.Sprintf("variable %v", name), m[1]})
		}
	}
	return out, nil
}

func loadDashboard() (pyObject, error) {
	v, err := pyLoads(DashboardFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the dashboard: %w", err)
	}
	dash, ok := v.(pyObject)
	if !ok {
		return nil, fmt.Errorf("cannot read the dashboard: not a JSON object")
	}
	return dash, nil
}

// dashboardPanels lists the panels, rows' nested panels included, rows themselves left out.
func dashboardPanels(dash pyObject) []pyObject {
	var out []pyObject
	var walk func(any)
	walk = func(v any) {
		list, _ := v.([]any)
		for _, p := range list {
			o, ok := p.(pyObject)
			if !ok {
				continue
			}
			if typ, _ := o.get("type"); typ != "row" {
				out = append(out, o)
			}
			nested, _ := o.get("panels")
			walk(nested)
		}
	}
	panels, _ := dash.get("panels")
	walk(panels)
	return out
}

// dashboardVariables lists the templating variables.
func dashboardVariables(dash pyObject) []pyObject {
	templating, _ := dash.get("templating")
	t, _ := templating.(pyObject)
	list, _ := t.get("list")
	var out []pyObject
	for _, v := range list.([]any) {
		if o, ok := v.(pyObject); ok {
			out = append(out, o)
		}
	}
	return out
}
