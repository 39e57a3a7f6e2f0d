package charm

import (
	"context"
	"fmt"
	"time"
)

// Keys of the peer relation's application databag: the leader's durable decisions, which every
// unit follows. Kept there, not in a unit's memory, so they survive restarts, upgrades and a
// change of leader.
const (
	keyMigration = "migration" // "started" or "stopped"
	keyChangedAt = "migration-changed-at"

	migrationStarted  = "started"
	migrationStopped  = "stopped"
	migrationComplete = "cutover-complete" // the producers phase proved the copy and stopped MM2

	keyCutoverEndpoints = "cutover-endpoints"
)

// peers is this unit's view of the peer relation.
type peers struct {
	id    string            // "" before cluster-relation-created
	app   map[string]string // the application databag
	units int               // units of the application, this one included
}

func (p peers) migrating() bool { return p.app[keyMigration] == migrationStarted }

func (c *Charm) readPeers(ctx context.Context) (peers, error) {
	p := peers{units: 1}
	id, err := c.relationID(ctx, PeerEndpoint)
	if err != nil || id == "" {
		return p, err
	}
	p.id = id
	if p.app, err = c.tools.RelationGet(ctx, id, c.hook.App, true); err != nil {
		return p, fmt.Errorf("cannot read the peer application data: %w", err)
	}
	others, err := c.tools.RelationUnits(ctx, id)
	if err != nil {
		return p, fmt.Errorf("cannot list peer units: %w", err)
	}
	p.units += len(others)
	return p, nil
}

// setMigration records the leader's decision for every unit to follow.
func (c *Charm) setMigration(ctx context.Context, p *peers, state string, now time.Time) error {
	if p.id == "" {
		return fmt.Errorf("cannot record the migration state: the peer relation does not exist yet; try again shortly")
	}
	data := map[string]string{keyMigration: state, keyChangedAt: now.UTC().Format(time.RFC3339)}
	if err := c.tools.RelationSet(ctx, p.id, true, data); err != nil {
		return fmt.Errorf("cannot record the migration state: %w", err)
	}
	if p.app == nil {
		p.app = map[string]string{}
	}
	for k, v := range data {
		p.app[k] = v
	}
	return nil
}
