"""The reflector's decisions as a pure state machine: list, resume a watch, back off or stop.

The adapter (``tether.adapters.kube.reflector``) does the I/O and feeds what happened here as
``Input`` values; ``step`` answers with the next ``Action``. Also: what a re-list changes.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Hashable, Mapping
from typing import Generic, TypeVar

WATCH_TIMEOUT_RANGE_S = (300, 600)
"""client-go picks a random watch timeout in [5, 10) min so that watches do not all end together."""

LIST_PAGE_SIZE = 500
"""Argo CD's and client-go's pager size: bounded memory per page, few round trips."""

BACKOFF_BASE_S = 1.0
"""Argo CD re-lists 1 s after a watch fails; the delay doubles with consecutive failures."""

BACKOFF_MAX_S = 30.0
"""An API server that is down for minutes is retried twice a minute, not hammered."""

GONE_CODE = 410
"""HTTP 410 Gone (reason ``Expired`` or ``Gone``): the resourceVersion is compacted away."""

TERMINAL_CODES: dict[int, str] = {
    # Errors that end a reflector instead of retrying it: retrying cannot help.
    404: "the resource type is gone from the API (CRD or APIService removed)",
    403: "forbidden: the controller may not list or watch this type (respect RBAC, drop the API)",
    401: "unauthorised: the credentials are refused",
    405: "the type does not support list or watch",
}


class Phase(enum.Enum):
    """Where the reflector is."""

    LISTING = "Listing"
    WATCHING = "Watching"
    BACKING_OFF = "BackingOff"
    STOPPED = "Stopped"


@dataclasses.dataclass(frozen=True)
class State:
    """The reflector's memory between inputs.

    Attributes:
        phase: What the reflector does now.
        resource_version: The last resourceVersion seen (list, event or bookmark); "" = none yet.
        failures: Consecutive failures, for the backoff.
        synced: Whether one list has completed (the cache may report itself synced).
    """

    phase: Phase = Phase.LISTING
    resource_version: str = ""
    failures: int = 0
    synced: bool = False


# Inputs: what the adapter observed.


@dataclasses.dataclass(frozen=True)
class Listed:
    """A paginated LIST completed at ``resource_version``."""

    resource_version: str


@dataclasses.dataclass(frozen=True)
class Event:
    """A complete watch event (ADDED, MODIFIED, DELETED or BOOKMARK) at ``resource_version``."""

    type: str
    resource_version: str


@dataclasses.dataclass(frozen=True)
class Failed:
    """A LIST, a watch request or a watch ERROR event failed.

    Attributes:
        code: The HTTP status (or ``Status.code`` of an ERROR event); 0 for a broken connection,
            a timeout or a line cut mid-event.
        reason: The API's reason (``Expired``, ``Gone``, ...) when known.
    """

    code: int = 0
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Closed:
    """The server ended the watch cleanly (its ``timeoutSeconds`` elapsed)."""


@dataclasses.dataclass(frozen=True)
class Waited:
    """The backoff delay elapsed."""


Input = Listed | Event | Failed | Closed | Waited


# Actions: what the adapter should do next.


@dataclasses.dataclass(frozen=True)
class List:
    """LIST from scratch (pages of ``LIST_PAGE_SIZE``), then report ``Listed``."""


@dataclasses.dataclass(frozen=True)
class Watch:
    """WATCH from ``resource_version`` with bookmarks."""

    resource_version: str


@dataclasses.dataclass(frozen=True)
class Apply:
    """Apply the event to the cache and keep reading the stream."""


@dataclasses.dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (the adapter adds jitter), then report ``Waited``."""

    seconds: float


@dataclasses.dataclass(frozen=True)
class Stop:
    """Stop this reflector for good; the cache drops the type's objects."""

    reason: str


Action = List | Watch | Apply | Sleep | Stop


def start() -> tuple[State, Action]:
    """The first state and action: every reflector begins with a LIST."""
    return State(), List()


def resume(resource_version: str) -> tuple[State, Action]:
    """Start by watching from a known version (a restart that kept its cache)."""
    return State(Phase.WATCHING, resource_version, 0, True), Watch(resource_version)


def is_gone(code: int, reason: str = "") -> bool:
    """Whether a failure means the resourceVersion is too old (re-list needed)."""
    return code == GONE_CODE or reason in ("Expired", "Gone")


def backoff_seconds(failures: int) -> float:
    """The delay before retry number ``failures`` (1-based): 1 s, 2 s, 4 s, ... capped at 30 s."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * float(2 ** max(0, failures - 1)))


def step(state: State, observed: Input) -> tuple[State, Action]:
    """Decide the next action from the current state and one observation.

    Args:
        state: The reflector's state before the observation.
        observed: What the adapter saw.

    Returns:
        The new state and the action to take.
    """
    if state.phase is Phase.STOPPED:
        return state, Stop("stopped")
    match observed:
        case Listed(resource_version=rv):
            return State(Phase.WATCHING, rv, 0, True), Watch(rv)
        case Event(resource_version=rv):
            # Any complete event proves the watch healthy; a bookmark only moves the version.
            new_rv = rv or state.resource_version
            return dataclasses.replace(state, resource_version=new_rv, failures=0), Apply()
        case Closed():
            # The server's timeout: resume where we were, without a re-list (client-go does).
            return dataclasses.replace(state, phase=Phase.WATCHING), Watch(state.resource_version)
        case Failed(code=code, reason=reason):
            return _on_failure(state, code, reason)
        case Waited():
            if state.resource_version and state.synced:
                return dataclasses.replace(state, phase=Phase.WATCHING), Watch(
                    state.resource_version
                )
            return dataclasses.replace(state, phase=Phase.LISTING), List()
    raise AssertionError(f"unknown input {observed!r}")  # pragma: no cover


def _on_failure(state: State, code: int, reason: str) -> tuple[State, Action]:
    if code in TERMINAL_CODES:
        return dataclasses.replace(state, phase=Phase.STOPPED), Stop(TERMINAL_CODES[code])
    if is_gone(code, reason):
        # The version is compacted: only a fresh list can restore a consistent view. The first
        # 410 re-lists at once; repeated ones (a list whose continue token also expired) back off.
        forgotten = dataclasses.replace(state, resource_version="", failures=state.failures + 1)
        if state.failures == 0:
            return dataclasses.replace(forgotten, phase=Phase.LISTING), List()
        return dataclasses.replace(forgotten, phase=Phase.BACKING_OFF), Sleep(
            backoff_seconds(forgotten.failures)
        )
    # A broken connection, a line cut mid-event, a 5xx or 429: the partial event was not
    # applied, so resuming from the last complete event's version loses nothing.
    failures = state.failures + 1
    return dataclasses.replace(state, phase=Phase.BACKING_OFF, failures=failures), Sleep(
        backoff_seconds(failures)
    )


K = TypeVar("K", bound=Hashable)


@dataclasses.dataclass(frozen=True)
class ReplacePlan(Generic[K]):
    """What a re-list changes in the cache for one type (Argo CD's ``replaceResourceCache``).

    Attributes:
        added: Keys listed now and not cached before.
        modified: Keys cached before whose resourceVersion changed.
        deleted: Keys cached before and absent from the list.
    """

    added: frozenset[K]
    modified: frozenset[K]
    deleted: frozenset[K]


def plan_replace(cached: Mapping[K, str], listed: Mapping[K, str]) -> ReplacePlan[K]:
    """Compare the cached and the freshly listed objects of one type by key and resourceVersion.

    Args:
        cached: key -> resourceVersion of what the cache holds for the type.
        listed: key -> resourceVersion of what the list returned.

    Returns:
        The keys to add, update and delete; unchanged keys appear nowhere, so no duplicate
        notifications follow a re-list.
    """
    added = frozenset(k for k in listed if k not in cached)
    modified = frozenset(k for k, rv in listed.items() if k in cached and cached[k] != rv)
    deleted = frozenset(k for k in cached if k not in listed)
    return ReplacePlan(added, modified, deleted)
