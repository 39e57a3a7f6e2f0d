package charm

import (
	"context"
	"fmt"
	"strconv"

	"mirrormaker-k8s/internal/migration"
)

// syncStatus answers the sync-status action: the whole view as structured results, for scripts.
// Juju nests dotted keys, so lists become maps keyed by index (topics.0.name, ...). Topic and
// group names are values, never keys, since action keys only allow [a-z0-9-.]. Per-partition
// figures of a group come with group=NAME, which keeps the results bounded on large clusters.
func (c *Charm) syncStatus(ctx context.Context, v view, params map[string]any) (map[string]string, error) {
	if st, ok := v.problem(); ok {
		return nil, fmt.Errorf("cannot measure the migration: %s", st.message)
	}
	view, err := c.measure(ctx, v)
	if ce, ok := isClusterError(err); err != nil && !(ok && ce.Side == Target) {
		return nil, fmt.Errorf("cannot measure the migration: %w", err)
	}
	detail, _ := params["group"].(string)
	r := syncResults(view, detail)
	r["migration"] = string(v.peers.migration())
	if err != nil {
		r["errors.target"] = err.Error()
	}
	return r, nil
}

func syncResults(view migration.SyncView, detailGroup string) map[string]string {
	r := map[string]string{
		"summary.taken":                view.Taken.UTC().Format("2006-01-02T15:04:05Z"),
		"summary.records-behind":       i64(view.RecordsBehind),
		"summary.topics":               strconv.Itoa(len(view.Topics)),
		"summary.partitions":           strconv.Itoa(len(view.Partitions)),
		"summary.partitions-caught-up": strconv.Itoa(view.PartitionsCaughtUp),
		"summary.partitions-unknown":   strconv.Itoa(view.PartitionsUnknown),
		"summary.groups-counted":       strconv.Itoa(view.GroupsCounted),
		"summary.groups-synced":        strconv.Itoa(view.GroupsSynced),
		"summary.groups-cutover-only":  strconv.Itoa(view.GroupsCutoverOnly),
		"summary.complete":             strconv.FormatBool(view.Complete()),
		"summary.in-sync":              strconv.FormatBool(view.CaughtUp()),
		"summary.mirror-started":       strconv.FormatBool(view.MirrorStarted),
	}
	for i, t := range view.Topics {
		k := "topics." + strconv.Itoa(i) + "."
		r[k+"name"] = t.Topic
		r[k+"target"] = t.TargetTopic
		r[k+"partitions"] = strconv.Itoa(t.Partitions)
		r[k+"records-behind"] = i64(t.Lag)
		r[k+"partitions-unknown"] = strconv.Itoa(t.Unknown)
	}
	for i, g := range view.Groups {
		k := "groups." + strconv.Itoa(i) + "."
		r[k+"name"] = g.Group
		r[k+"source-state"] = g.SourceState
		r[k+"target-state"] = g.TargetState
		r[k+"source-members"] = strconv.Itoa(g.SourceMembers)
		r[k+"target-members"] = strconv.Itoa(g.TargetMembers)
		r[k+"partitions"] = strconv.Itoa(len(g.Partitions))
		r[k+"counted"] = strconv.FormatBool(g.Counted)
		r[k+"synced"] = strconv.FormatBool(g.Synced)
		r[k+"cutover-only"] = strconv.FormatBool(g.CutoverOnly)
		if why := g.Unsynced(); why != "" {
			r[k+"unsynced"] = why
		}
		if g.Err != nil {
			r[k+"error"] = g.Err.Error()
		}
		if g.Group != detailGroup {
			continue
		}
		for j, p := range g.Partitions {
			pk := k + "offsets." + strconv.Itoa(j) + "."
			r[pk+"topic"] = p.Topic
			r[pk+"partition"] = strconv.Itoa(int(p.Partition))
			r[pk+"source-committed"] = i64(p.SourceCommitted)
			r[pk+"target-committed"] = i64(p.TargetCommitted)
			r[pk+"synced"] = strconv.FormatBool(p.Synced)
			if p.Unsynced != "" {
				r[pk+"unsynced"] = p.Unsynced
			}
			if p.Checkpoint != nil {
				r[pk+"checkpoint-upstream"] = i64(p.Checkpoint.UpstreamOffset)
				r[pk+"checkpoint-downstream"] = i64(p.Checkpoint.DownstreamOffset)
			}
		}
	}
	for i, e := range view.Errors {
		r["errors."+strconv.Itoa(i)] = e.Error()
	}
	return r
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }
