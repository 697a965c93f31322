"""Leader election decisions over a ``coordination.k8s.io/v1`` Lease, with time passed in.

``tether.adapters.kube.lease`` reads the clock and the Lease and writes what ``decide`` returns.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum


@dataclasses.dataclass(frozen=True)
class LeaseState:
    """The fields of a Lease's spec that election reads.

    Attributes:
        holder: ``holderIdentity``; "" when released.
        duration_s: ``leaseDurationSeconds``.
        acquired: ``acquireTime``.
        renewed: ``renewTime``.
        transitions: ``leaseTransitions``.
    """

    holder: str = ""
    duration_s: int = 0
    acquired: datetime.datetime | None = None
    renewed: datetime.datetime | None = None
    transitions: int = 0


class Verdict(enum.Enum):
    """What a candidate does with the Lease it read."""

    CREATE = "create"
    """No Lease exists: create it holding it."""
    TAKE = "take"
    """Released or expired: update it to hold it (optimistic lock on resourceVersion)."""
    RENEW = "renew"
    """We hold it: update renewTime."""
    WAIT = "wait"
    """Someone else holds a live Lease."""


def expired(lease: LeaseState, now: datetime.datetime) -> bool:
    """Whether a Lease is free: released, never renewed, or ``renewTime + duration < now``."""
    if not lease.holder or lease.renewed is None:
        return True
    return lease.renewed + datetime.timedelta(seconds=lease.duration_s) < now


def decide(lease: LeaseState | None, identity: str, now: datetime.datetime) -> Verdict:
    """Decide what ``identity`` does, given the Lease as read (``None`` when absent)."""
    if lease is None:
        return Verdict.CREATE
    if lease.holder == identity:
        return Verdict.RENEW
    if expired(lease, now):
        return Verdict.TAKE
    return Verdict.WAIT


def next_state(
    lease: LeaseState | None,
    verdict: Verdict,
    identity: str,
    duration_s: int,
    now: datetime.datetime,
) -> LeaseState:
    """The Lease spec to write for a CREATE, TAKE or RENEW verdict.

    A holder renewing a Lease that has expired acquires it anew (``acquireTime`` now): others
    may have acted on the expiry meanwhile (sharded replicas took its apps), and a sharded
    replica's grace before taking apps counts from its acquireTime.
    """
    if verdict is Verdict.RENEW and lease is not None:
        if expired(lease, now):
            return dataclasses.replace(lease, duration_s=duration_s, acquired=now, renewed=now)
        return dataclasses.replace(lease, duration_s=duration_s, renewed=now)
    transitions = 0 if lease is None else lease.transitions + (1 if lease.holder != identity else 0)
    return LeaseState(identity, duration_s, now, now, transitions)


def released(lease: LeaseState, now: datetime.datetime) -> LeaseState:
    """The Lease spec a leader writes on shutdown, so a successor need not wait for expiry.

    client-go clears the holder and sets a 1 s duration; we do the same.
    """
    return dataclasses.replace(lease, holder="", duration_s=1, renewed=now)


def attempt_timeout(
    last_renewed: datetime.datetime | None,
    now: datetime.datetime,
    renew_deadline_s: float,
    least_s: float,
) -> float:
    """Seconds one attempt to read and write the Lease may take.

    A leader's attempt may use what is left of its renew deadline (as client-go's renew loop
    does), at least ``least_s``: on a loaded API server one slow read must not cost the lease
    while the deadline still has seconds to give. A candidate's attempts take ``least_s``.
    Safety does not rest on this bound: the fence stops writes at the deadline either way.
    """
    if last_renewed is None:
        return least_s
    left = renew_deadline_s - (now - last_renewed).total_seconds()
    return max(least_s, left)


MICROTIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""Kubernetes ``MicroTime``: RFC 3339 with microseconds, always UTC."""


def format_microtime(moment: datetime.datetime) -> str:
    """Render a UTC datetime as Kubernetes MicroTime."""
    return moment.astimezone(datetime.UTC).strftime(MICROTIME_FORMAT)


def parse_microtime(text: str | None) -> datetime.datetime | None:
    """Parse Kubernetes MicroTime (or a plain RFC 3339 time); ``None`` for empty or malformed."""
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
