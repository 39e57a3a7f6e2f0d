#!/usr/bin/env python3
"""A minimal ops 2.x charm that reads what mirrormaker-k8s reads in a hook.

BenchmarkDispatchUpdateStatus runs it beside the Go charm, against the same stub hook tools
and a real Pebble, to compare what one hook costs each. On every event it reads what a
holistic ops charm reads to render MirrorMaker 2's files: leadership, config, both
kafka_client relations (remote application, its data, the credentials secret), the peer
relation (application data, units), this unit's address; over Pebble it checks the container,
reads the plan, lists /etc/kafka and the services; then it sets the status. It renders and
pushes nothing: the files are already in place, as in the Go charm's steady state.
"""

import ops


class MinimalCharm(ops.CharmBase):
    def __init__(self, framework: ops.Framework):
        super().__init__(framework)
        framework.observe(self.on.update_status, self._reconcile)
        framework.observe(self.on.config_changed, self._reconcile)

    def _reconcile(self, _event: ops.EventBase):
        leader = self.unit.is_leader()
        config = dict(self.config)
        clusters = {}
        for endpoint in ('source', 'target'):
            relation = self.model.get_relation(endpoint)
            if relation is None or relation.app is None:
                continue
            data = relation.data[relation.app]
            content = {}
            if 'secret-user' in data:
                content = self.model.get_secret(id=data['secret-user']).get_content()
            clusters[endpoint] = (data.get('endpoints'), content.get('username'))
        peers = self.model.get_relation('cluster')
        migration = peers.data[self.app].get('migration', '') if peers else ''
        units = 1 + (len(peers.units) if peers else 0)
        address = self.model.get_binding('cluster').network.bind_address
        container = self.unit.get_container('mirrormaker')
        running = False
        if container.can_connect():
            container.get_plan()
            container.list_files('/etc/kafka')
            running = any(s.is_running() for s in container.get_services('mirrormaker').values())
        ready = len(clusters) == 2 and bool(config)
        message = f'ops: {migration or "ready"} on {units} units at {address}, running={running}, leader={leader}'
        self.unit.status = ops.ActiveStatus(message) if ready else ops.BlockedStatus(message)


if __name__ == '__main__':
    ops.main(MinimalCharm)
