"""Which controller replica reconciles which Application: membership, pins, rendezvous hashing.

Each replica holds a Lease of its own (``tether.adapters.kube.membership``); this module decides,
from those Leases as read and the time passed in, which replicas count and who owns an app.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping

from tether.core.cluster import leasing

REPLICA_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A replica's name is a label value and ends a Lease's name: an RFC 1123 label (a host name)."""


def replica_name_problem(name: str) -> str:
    """Why ``name`` cannot name a replica; empty when it can."""
    if REPLICA_NAME.fullmatch(name):
        return ""
    return f"replica name {name!r} is not an RFC 1123 label (lowercase letters, digits, '-')"


@dataclasses.dataclass(frozen=True)
class View:
    """The replicas one replica counts, at one moment.

    Attributes:
        seen: Replicas whose Lease is held and unexpired: an app one of them would win is
            given up at once, so an old owner stops before a newcomer starts.
        settled: Those of ``seen`` whose holder has held its Lease for the grace period: only
            they take apps (a newcomer waits until every old owner has seen it and stopped).
        me: This replica's name; it owns nothing unless it is in ``settled``.
    """

    seen: frozenset[str]
    settled: frozenset[str]
    me: str

    @property
    def active(self) -> bool:
        """Whether this replica may own apps at all."""
        return self.me in self.settled


def view(
    leases: Mapping[str, leasing.LeaseState],
    me: str,
    identity: str,
    now: datetime.datetime,
    grace: datetime.timedelta,
) -> View:
    """The replicas that count, from every membership Lease (by replica name) as read at ``now``.

    A replica's own Lease counts only while ``identity`` (this process) holds it: a restarted
    replica waits for its predecessor's Lease to expire, then holds it with a new acquireTime,
    so it too waits the grace period before taking apps.
    """
    seen = frozenset(name for name, lease in leases.items() if not leasing.expired(lease, now))
    settled = frozenset(
        name
        for name in seen
        if (acquired := leases[name].acquired) is not None
        and acquired + grace <= now
        and (name != me or leases[name].holder == identity)
    )
    return View(seen, settled, me)


def next_change(
    leases: Mapping[str, leasing.LeaseState], now: datetime.datetime, grace: datetime.timedelta
) -> datetime.datetime | None:
    """When ``view`` would next differ with no Lease written: an expiry or a grace ending.

    A member that dies writes nothing more, so its departure is seen only by waking up then.
    """
    moments: list[datetime.datetime] = []
    for lease in leases.values():
        if leasing.expired(lease, now) or lease.renewed is None:
            continue
        moments.append(lease.renewed + datetime.timedelta(seconds=lease.duration_s))
        if lease.acquired is not None and lease.acquired + grace > now:
            moments.append(lease.acquired + grace)
    later = [moment for moment in moments if moment > now]
    return min(later) if later else None


def score(app: str, replica: str) -> int:
    """The rendezvous weight of ``replica`` for ``app``: a stable 64-bit hash of both."""
    digest = hashlib.blake2b(f"{app}\x00{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def pinned_member(pin: str, members: Iterable[str]) -> str | None:
    """The member a pin names: by name, or a number N names the member ``...-N``.

    N is a StatefulSet ordinal, as Argo CD's cluster ``shard`` numbers are (0-based).
    """
    names = sorted(members)
    if pin in names:
        return pin
    if pin.isdigit():
        for name in names:
            if name.rpartition("-")[2] == str(int(pin)):
                return name
    return None


def owner(app: str, members: frozenset[str], pin: str = "") -> str | None:
    """Who owns ``app`` among ``members``: its pinned member if present, else the HRW winner.

    Rendezvous hashing: a member joining takes from each other member only the apps it wins,
    and a member leaving hands over only its own; ties (never in practice) go by name.
    """
    if not members:
        return None
    if pin and (pinned := pinned_member(pin, members)) is not None:
        return pinned
    return max(sorted(members), key=lambda replica: score(app, replica))


def owns(app: str, current: View, pin: str = "") -> bool:
    """Whether this replica reconciles ``app`` now.

    Only when it has settled and wins over every replica seen, settled or not: of two settled
    replicas that each see the other, at most one wins, so no app ever has two owners.
    """
    return current.active and owner(app, current.seen, pin) == current.me


def app_id(namespace: str, name: str) -> str:
    """The string an app hashes as (namespaces matter: apps in any namespace)."""
    return f"{namespace}/{name}"
