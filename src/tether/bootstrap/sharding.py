"""Wires a replica's Lease: the leader's, or a sharded replica's membership and write fence.

Either is renewed on a thread of its own with a client of its own; a sharded replica also names
itself in its User-Agent and writes for an app only while it owns it.
"""

from __future__ import annotations

from collections.abc import Callable

from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.lease import LeaderElector
from tether.adapters.kube.membership import Membership
from tether.bootstrap import telemetry
from tether.settings import Settings

SHARD_LEASE_SUFFIX = "-shard"
"""Membership Leases are ``<lease_name>-shard-<replica>``, beside the leader's Lease."""


def user_agent(replica: str) -> str:
    """What a replica's requests say they come from (audit logs tell the writers apart)."""
    return f"tether-controller/{replica}"


def identify(client: KubeClient, settings: Settings) -> None:
    """Name a sharded replica in the User-Agent of every request ``client`` sends."""
    if settings.sharding:
        client.transport.identify(user_agent(settings.replica_name))


def leader_elector(client: KubeClient, settings: Settings, identity: str) -> LeaderElector:
    """A candidate for the controller's Lease, renewing from its own thread and client.

    A main loop busy with CPU-bound reconciles resumes its renewals too late (S9: the Lease was
    lost with renewals the API had accepted); ``client``'s twin keeps them off that loop.
    """
    return LeaderElector(
        client,
        settings.lease_name,
        settings.control_plane_namespace,
        identity,
        connect=client.twin,
    )


def membership(
    client: KubeClient, settings: Settings, identity: str, owns: Callable[[str, str], bool]
) -> tuple[Membership, Callable[[], bool]]:
    """This replica's membership, and the fence for every write it makes.

    A write made for an app (``telemetry.acting_for``) needs this replica to own the app now;
    any other write only a held Lease and a fresh view.
    """
    member = Membership(
        client,
        settings.control_plane_namespace,
        settings.lease_name + SHARD_LEASE_SUFFIX,
        settings.replica_name,
        identity,
        connect=client.twin,  # after ``identify``: the twin names the replica too
    )

    def may_write() -> bool:
        if not member.may_write():
            return False
        acting = telemetry.acting_app()
        return acting is None or owns(*acting)

    return member, may_write
