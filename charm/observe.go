package charm

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"mirrormaker-k8s/internal/kafkaclient"
)

// observe is what this dispatch knows of the model: on update-status the cache's reads when they
// hold (see CacheFile), otherwise the model read afresh, which the cache then keeps.
func (c *Charm) observe(ctx context.Context) (view, error) {
	leader, err := c.tools.IsLeader(ctx)
	if err != nil {
		return view{}, fmt.Errorf("cannot tell leadership: %w", err)
	}
	if r := c.cache.rec; r != nil && r.Leader == leader { // Run loads it only for update-status
		if v := r.view(); c.readPasswords(ctx, &v) {
			c.cache.hit = true
			return v, nil
		}
	}
	v, raw, err := c.readModel(ctx, leader)
	if err != nil {
		return v, err
	}
	c.cache.rec, c.cache.hit = newRecord(c.hook.Unit, v, raw), false
	return v, nil
}

// readPasswords reads each cached cluster's password where it was read before. false when one
// cannot be read there (a provider that moved or revoked its credentials announces it with an
// event on its way): the dispatch then reads the whole model, which says what is wrong.
func (c *Charm) readPasswords(ctx context.Context, v *view) bool {
	for _, a := range []*access{&v.source, &v.target} {
		if a.cluster == nil {
			continue
		}
		password, err := c.readPassword(ctx, a.password)
		if err != nil || password == "" {
			return false
		}
		a.cluster.Password = password
	}
	return true
}

// readModel reads config, relations, secrets and peers. The leader also makes sure each
// kafka_client relation carries our request, which covers a leader change and an upgrade as
// well as relation-created. It returns config-get's answer too, for the cache.
func (c *Charm) readModel(ctx context.Context, leader bool) (view, map[string]any, error) {
	v := view{leader: leader}
	raw, err := c.tools.ConfigGet(ctx)
	if err != nil {
		return v, nil, fmt.Errorf("cannot read config: %w", err)
	}
	// A config problem is the user's to fix: it blocks, it does not fail the hook.
	if v.cfg, err = parseConfig(raw); err != nil && !errors.As(err, &v.cfgErr) {
		return v, nil, err
	}
	if v.peers, err = c.readPeers(ctx); err != nil {
		return v, nil, err
	}
	if v.cfgErr == nil {
		v.cfgErr = v.peers.flowChange(v.cfg)
	}
	sourceID, err := c.relationID(ctx, Source.Endpoint())
	if err != nil {
		return v, nil, err
	}
	targetID, err := c.relationID(ctx, Target.Endpoint())
	if err != nil {
		return v, nil, err
	}
	if v.leader {
		for _, id := range []string{sourceID, targetID} {
			if err := c.ensureRequest(ctx, id); err != nil {
				return v, nil, err
			}
		}
		if err := c.dropOldSyncKeys(ctx, &v.peers); err != nil {
			return v, nil, err
		}
	}
	if v.cfgErr != nil {
		return v, raw, nil
	}
	if v.source, err = c.sourceAccess(ctx, v.cfg, sourceID); err != nil {
		return v, nil, err
	}
	if v.target, err = c.targetAccess(ctx, v.cfg, targetID); err != nil {
		return v, nil, err
	}
	return v, raw, nil
}

// ensureRequest writes our kafka_client request unless the databag already holds it.
func (c *Charm) ensureRequest(ctx context.Context, relID string) error {
	if relID == "" {
		return nil
	}
	ours, err := c.tools.RelationGet(ctx, relID, c.hook.App, true)
	if err != nil {
		return fmt.Errorf("cannot read our request on %s: %w", relID, err)
	}
	if kafkaclient.RequestCurrent(ours) {
		return nil
	}
	if err := c.tools.RelationSet(ctx, relID, true, kafkaclient.Request()); err != nil {
		return fmt.Errorf("cannot write our request on %s: %w", relID, err)
	}
	return nil
}

// secretGet reads a secret's content. Only secret-changed moves the unit to the latest
// revision (--refresh): it is the event Juju delivers to a secret's observers when a revision
// is added, and every other read gets the revision the unit tracks, so what a unit reads
// changes only in secret-changed, which the hook cache relies on. Every secret read in
// secret-changed is refreshed, not only the one the event names: a refresh of an unchanged
// secret changes nothing, and the event's URI need not be matched against each form a
// provider may write.
func (c *Charm) secretGet(ctx context.Context, uri string) (map[string]string, error) {
	return c.tools.SecretGet(ctx, uri, c.hook.Hook == hookSecretChanged)
}

// Hooks the charm treats apart.
const (
	hookUpdateStatus  = "update-status"
	hookSecretChanged = "secret-changed"
)

// memo is the leader's own unit state (state-get): its last sync line and lag sample, read once
// per dispatch and only by a dispatch that shows or takes a measurement. Only the charm writes
// it, so the cache keeps it.
func (c *Charm) memo(ctx context.Context) (syncMemo, error) {
	r := c.cache.rec
	if r != nil && r.Memo != nil {
		return r.Memo, nil
	}
	m, err := c.tools.StateGet(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the leader's state: %w", err)
	}
	if r != nil {
		r.Memo = m
		c.cache.learned()
	}
	return m, nil
}

// rememberMemo keeps what state-set just wrote over the memo it was read as: state-set
// replaces the keys it names and leaves the others.
func (c *Charm) rememberMemo(was, written syncMemo) {
	if r := c.cache.rec; r != nil {
		m := maps.Clone(was)
		if m == nil {
			m = syncMemo{}
		}
		maps.Copy(m, written)
		r.Memo = m
		c.cache.learned()
	}
}

// address is this unit's address on the peer binding, read once (see CacheFile).
func (c *Charm) address(ctx context.Context) (string, error) {
	if r := c.cache.rec; r != nil && r.Address != nil {
		return *r.Address, nil
	}
	a, err := c.tools.BindAddress(ctx, PeerEndpoint)
	if err != nil {
		return "", fmt.Errorf("cannot read this unit's address: %w", err)
	}
	if r := c.cache.rec; r != nil {
		r.Address = &a
		c.cache.learned()
	}
	return a, nil
}

// kafkaVersion is the workload's Kafka version, listed once: the image changes only with a new
// pod, which starts with no cache.
func (c *Charm) kafkaVersion() (string, error) {
	if r := c.cache.rec; r != nil && r.KafkaVersion != nil {
		return *r.KafkaVersion, nil
	}
	v, err := c.workload.KafkaVersion()
	if err != nil {
		return "", err
	}
	if r := c.cache.rec; r != nil {
		r.KafkaVersion = &v
		c.cache.learned()
	}
	return v, nil
}
