package charm

import (
	"fmt"
	"strings"

	"mirrormaker-k8s/hooks"
)

// status is one status the charm sets on its unit and, on the leader, its application. Every
// status the charm can set is built by a constructor in this file, so the list in README.md
// ("Statuses you will see") can be checked against one place, and a wording changes here once.
// The zero status means "none decided yet".
type status struct {
	kind    string // hooks.StatusActive, StatusBlocked, StatusWaiting or StatusMaintenance
	message string
}

// hooks is the status as status-set takes it.
func (s status) hooks() hooks.Status { return hooks.Status{Name: s.kind, Message: s.message} }

// decided reports whether a status was chosen; the zero status leaves the choice to the caller.
func (s status) decided() bool { return s.kind != "" }

// pausedSuffix ends a problem's status while a migration is under way: MM2 was stopped for it,
// and starts again once the problem is fixed.
const pausedSuffix = " (mirroring paused until this is fixed)"

// paused is s while a migration waits for its problem to be fixed.
func (s status) paused() status { return status{s.kind, s.message + pausedSuffix} }

// withWarnings appends what the user may want to fix although MM2 can run, in parentheses.
func (s status) withWarnings(warnings []string) status {
	if len(warnings) == 0 {
		return s
	}
	return status{s.kind, s.message + " (" + strings.Join(warnings, "; ") + ")"}
}

// Warnings: what an active status adds in parentheses (withWarnings) when MM2 can run but
// something deserves a look.

// warnRelationCA is a relation whose provider gave no CA the charm can use (Charmed Kafka 3
// publishes the word "enabled"); problem is kafkaclient's account of it.
func warnRelationCA(side Side, problem string) string {
	return fmt.Sprintf("%s %s; a private CA goes in the %s option", side, problem, side.Option("tls-ca"))
}

// warnCAWithoutTLS is a <side>-tls-ca option on a cluster that does not use TLS: it does nothing.
func warnCAWithoutTLS(side Side) string {
	return fmt.Sprintf("%s is set but the %s cluster does not use TLS", side.Option("tls-ca"), side)
}

// warnExternalCAWithoutTLS is a source-credentials secret with a CA for a plaintext source.
func warnExternalCAWithoutTLS() string {
	return "source-credentials has a tls-ca but source-security-protocol is SASL_PLAINTEXT"
}

func blockedf(format string, args ...any) status {
	return status{hooks.StatusBlocked, fmt.Sprintf(format, args...)}
}

func waitingf(format string, args ...any) status {
	return status{hooks.StatusWaiting, fmt.Sprintf(format, args...)}
}

func activef(format string, args ...any) status {
	return status{hooks.StatusActive, fmt.Sprintf(format, args...)}
}

// Blocked: MM2 cannot run until the user acts.

// statusBlockedConfig is an option that is wrong, or a secret an option names that cannot be
// used. The reason never holds the secret's content.
func statusBlockedConfig(option, reason string) status {
	return blockedf("invalid config: %s: %s", option, reason)
}

// statusBlockedTwoSources is a source given twice: by relation and by the source-* options.
func statusBlockedTwoSources() status {
	return blockedf("both a source relation and source-* config are set: remove one " +
		"(juju remove-relation mirrormaker-k8s:source, or juju config mirrormaker-k8s --reset " +
		"source-bootstrap-servers,source-credentials)")
}

func statusBlockedNoSource() status { return blockedf("missing source relation or source-* config") }

func statusBlockedNoTarget() status { return blockedf("missing target relation") }

// statusBlockedRelationData is a provider's kafka_client data the charm cannot use.
func statusBlockedRelationData(side Side, problem error) status {
	return blockedf("%s relation: %s", side, problem)
}

// statusBlockedRender is a combination of inputs the renderer refuses; its error
// (mm2.InputError) names the field and says "cannot render MirrorMaker 2 config: ...".
func statusBlockedRender(err error) status { return blockedf("%s", err) }

// Waiting: something outside the user's hands, or already being retried.

func statusWaitingForPebble() status { return waitingf("waiting for Pebble") }

// statusWaitingForCredentials is a related cluster that has not answered our request yet.
func statusWaitingForCredentials(side Side) status {
	return waitingf("waiting for %s credentials", side)
}

// statusWaitingForSecret is a provider that has not yet granted (or has revoked) the secret
// its relation data names.
func statusWaitingForSecret(side Side) status {
	return waitingf("waiting for %s credentials (secret not readable yet)", side)
}

// statusWaitingMM2Failed is MM2 exiting: Pebble restarts it, and its logs say why.
func statusWaitingMM2Failed() status {
	return waitingf("MirrorMaker 2 failed and is being restarted " +
		"(juju ssh --container mirrormaker <unit> pebble logs mirrormaker)")
}

// statusWaitingCluster is the leader's line when the source cannot be measured: "source
// cluster unreachable: ..." or "source cluster TLS certificate not trusted (...): ...".
func statusWaitingCluster(ce *ClusterError) status {
	return waitingf("%s", shorten(ce.Error(), 200))
}

// statusWaitingMeasure is a measurement that failed for another reason than a cluster.
func statusWaitingMeasure(err error) status {
	return waitingf("%s", shorten("cannot measure the migration: "+err.Error(), 200))
}

// statusWaitingTarget is the leader's sync line while the target cannot be reached: the
// source's figures still tell the user something, after the reason they may be stale.
func statusWaitingTarget(ce *ClusterError, line status) status {
	return waitingf("%s; %s", shorten(ce.Error(), 120), line.message)
}

// Maintenance: on its way.

func statusStarting() status { return status{hooks.StatusMaintenance, "starting MirrorMaker 2"} }

// Active: MM2 runs or is meant to be stopped, and nothing needs fixing.

func statusReady() status { return activef("ready: run start-migration") }

func statusMigrationStopped() status {
	return activef("migration stopped: run start-migration to resume")
}

// statusCutoverComplete is the end state: MM2 stopped for good, and where clients go now.
func statusCutoverComplete(endpoints string) status {
	return activef("cutover complete: clients may use %s", endpoints)
}

// statusMirroring is a unit whose MM2 runs, before (or, off the leader, without) a sync line.
func statusMirroring() status { return activef("mirroring") }

// syncPhase is where the copy stands, as the first words of the sync line say it.
type syncPhase int

const (
	phaseLagUnknown syncPhase = iota // no partition could be measured
	phaseInSync                      // nothing left to copy
	phaseStarting                    // MM2 has not committed a position yet
	phaseBehind                      // copying, with a known lag
)

// syncLine is what the leader's sync line says of one measurement.
type syncLine struct {
	topics, partitions int
	phase              syncPhase
	behind             int64
	eta                string // "ETA 3m", "not catching up" or ""
	groupsSynced       int
	groupsCounted      int
	groupsCutoverOnly  int // groups MM2 will never sync: only the cutover can move them
	// consumersMoved, once a consumers phase wrote exact offsets, replaces the groups MM2
	// synced: the target groups then hold the cutover's offsets, not MM2's.
	consumersMoved *consumersMoved
	unmeasured     int    // partitions or groups that could not be measured
	firstError     string // the first reason one could not
	down           []string
}

// statusSync is the leader's line in `juju status` while mirroring:
//
//	mirroring 12 topics/72 partitions: 1,204,332 records behind, ETA 3m; groups 3/5 synced
//	in sync 12 topics/72 partitions: 0 records behind; groups 5/5 synced
//	in sync 12 topics/72 partitions: 0 records behind; groups 3/5 synced, 2 only by the cutover
//
// It waits, not active, while part of the view is missing or MM2 is down on some unit.
func statusSync(l syncLine) status {
	head := fmt.Sprintf("%d topics/%d partitions", l.topics, l.partitions)
	var b strings.Builder
	switch l.phase {
	case phaseLagUnknown:
		fmt.Fprintf(&b, "mirroring %s: lag unknown", head)
	case phaseInSync:
		fmt.Fprintf(&b, "in sync %s: 0 records behind", head)
	case phaseStarting:
		fmt.Fprintf(&b, "mirroring %s: starting, %s records to copy", head, thousands(l.behind))
	default:
		fmt.Fprintf(&b, "mirroring %s: %s records behind", head, thousands(l.behind))
		if l.eta != "" {
			b.WriteString(", " + l.eta)
		}
	}
	switch {
	case l.consumersMoved != nil:
		fmt.Fprintf(&b, "; consumers moved: %d/%d groups at exact offsets", l.consumersMoved.moved, l.consumersMoved.judged)
	case l.groupsCounted > 0:
		fmt.Fprintf(&b, "; groups %d/%d synced", l.groupsSynced, l.groupsCounted)
		if l.groupsCutoverOnly > 0 {
			fmt.Fprintf(&b, ", %d only by the cutover", l.groupsCutoverOnly)
		}
	default:
		b.WriteString("; no groups to sync")
	}
	kind := hooks.StatusActive
	if l.unmeasured > 0 {
		fmt.Fprintf(&b, "; %d unmeasured (%s)", l.unmeasured, shorten(l.firstError, 80))
		kind = hooks.StatusWaiting
	}
	if len(l.down) > 0 {
		fmt.Fprintf(&b, "; MM2 down on %s", strings.Join(l.down, ", "))
		kind = hooks.StatusWaiting
	}
	return status{kind, b.String()}
}
