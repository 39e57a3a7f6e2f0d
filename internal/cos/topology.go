package cos

import (
	"fmt"
	"regexp"
	"strings"
)

// Topology is where the charm runs, as Juju names it. COS tells applications apart by these
// values: Prometheus labels every scraped series with them, the alert rules and the dashboard
// filter on them.
type Topology struct {
	Model       string // the model's name
	ModelUUID   string // the model's UUID (a version 4 UUID, as cos-lib requires)
	Application string
	Unit        string // the unit writing the relation data, e.g. mirrormaker-k8s/0
	CharmName   string // the charm's name in metadata.yaml
}

// uuid4 is the shape cos-lib's JujuTopology accepts (Python's str(UUID(u, version=4)) == u):
// lowercase, hyphenated, version 4, RFC 4122 variant.
var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// validate refuses what cos-lib's consumers would refuse: a topology they cannot parse makes
// Prometheus drop the relation's jobs and rules, better to fail the hook and say why.
func (t Topology) validate() error {
	if t.Model == "" || t.Application == "" {
		return fmt.Errorf("cannot use topology %+v: model and application are required", t)
	}
	if !uuid4.MatchString(t.ModelUUID) {
		return fmt.Errorf("cannot use topology: model UUID %q is not a version 4 UUID", t.ModelUUID)
	}
	return nil
}

// identifier is cos-lib's JujuTopology.identifier, "<model>_<uuid[:8]>_<application>": COS names
// rule groups, rule files and scrape jobs with it.
func (t Topology) identifier() string {
	short := t.ModelUUID
	if len(short) > 8 {
		short = short[:8]
	}
	return strings.ReplaceAll(t.Model+"_"+short+"_"+t.Application, "/", "_")
}

// ruleLabels is cos-lib's label_matcher_dict: the labels every alert rule carries, in the order
// cos-lib adds them, empty values left out. It has no juju_unit: the rules come from the leader
// but speak for every unit.
func (t Topology) ruleLabels() pyObject {
	var o pyObject
	for _, kv := range []pyKV{
		{"juju_model", t.Model}, {"juju_model_uuid", t.ModelUUID},
		{"juju_application", t.Application}, {"juju_charm", t.CharmName},
	} {
		if kv.V != "" {
			o = append(o, kv)
		}
	}
	return o
}

// exprMatchers are the labels cos-lib injects into every selector of a rule's expression: not
// the charm (a subordinate's series carry its principal's), not the unit.
func (t Topology) exprMatchers() map[string]string {
	return map[string]string{
		"juju_model": t.Model, "juju_model_uuid": t.ModelUUID, "juju_application": t.Application,
	}
}

// metadata is cos-lib's JujuTopology.as_dict(), the scrape_metadata value's shape.
func (t Topology) metadata() pyObject {
	return pyObject{
		{"model", t.Model}, {"model_uuid", t.ModelUUID}, {"application", t.Application},
		{"unit", t.Unit}, {"charm_name", t.CharmName},
	}
}
