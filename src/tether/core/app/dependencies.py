"""Dependencies between Applications: the annotation, the readiness rule, cycles.

An Application names the Applications it depends on in ``tether.dev/depends-on``; its syncs
(automated and manual) wait until each of them is ready (see :func:`waiting_reason`), and a
dependency cycle refuses them. Everything here is pure: the caller reads the apps from its cache.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Sequence

from tether.model.application import Application
from tether.model.errors import InvalidInputError
from tether.model.status import HealthStatus, OperationPhase, SyncStatus

ANNOTATION = "tether.dev/depends-on"
"""Comma-separated ``name`` (same namespace) or ``namespace/name`` entries."""

DEPENDENCY_WARNING = "DependencyWarning"
"""The condition saying which dependencies an operation waits for; gone once it goes on."""

RECHECK_S = 30.0
"""Look again at a waiting operation this often (fixed, like Flux's ``--requeue-dependency``);
a dependency's own status change wakes it sooner."""

MAX_ENTRIES = 50
"""More dependencies than this on one app is a mistake, not a design (and bounds the reads)."""

MAX_GRAPH = 2000
"""Apps a cycle search visits at most: a graph larger than this is searched no further."""

AppRef = tuple[str, str]
"""(namespace, name) of an Application."""

_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # a DNS label, at most 63
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

_BUSY_PHASES = frozenset({OperationPhase.RUNNING.value, OperationPhase.TERMINATING.value})
"""An operation in one of these phases is still changing the dependency's objects."""


def label(ref: AppRef, relative_to: str) -> str:
    """How a dependency is named in messages: ``name`` in the same namespace, else ``ns/name``."""
    return ref[1] if ref[0] == relative_to else f"{ref[0]}/{ref[1]}"


def parse(value: str, *, namespace: str, app: str) -> tuple[AppRef, ...]:
    """The dependencies an annotation value names, in order, without repeats.

    Raises:
        InvalidInputError: an entry is no Application name; the message names the app, the
            annotation and the entry.
    """
    refs: list[AppRef] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue  # "a, b," and an empty value: nothing named there
        dep_namespace, sep, name = entry.rpartition("/")
        if not sep:
            dep_namespace = namespace
        if not (0 < len(dep_namespace) <= 63 and _NAMESPACE.match(dep_namespace)) or not (
            0 < len(name) <= 253 and _NAME.match(name)
        ):
            raise InvalidInputError(
                f"Application {namespace}/{app}: annotation {ANNOTATION}: {entry!r} is not an "
                "Application name (name or namespace/name, lower-case DNS names)"
            )
        ref = (dep_namespace, name)
        if ref not in refs:
            refs.append(ref)
    if len(refs) > MAX_ENTRIES:
        raise InvalidInputError(
            f"Application {namespace}/{app}: annotation {ANNOTATION} names {len(refs)} "
            f"Applications, more than {MAX_ENTRIES}"
        )
    return tuple(refs)


def of(app: Application) -> tuple[AppRef, ...]:
    """The dependencies ``app``'s annotation names (raises ``InvalidInputError`` as ``parse``)."""
    value = (app.metadata.annotations or {}).get(ANNOTATION, "")
    return parse(value, namespace=app.namespace, app=app.name)


def find_cycle(
    start: AppRef, edges: Callable[[AppRef], Sequence[AppRef]]
) -> tuple[AppRef, ...] | None:
    """A dependency cycle reachable from ``start``, as a path whose first and last are one app.

    ``edges`` gives an app's dependencies (none for an app that does not exist). Any cycle on
    the way counts: an app behind one would wait for it forever. Depth-first, iterative, at most
    ``MAX_GRAPH`` apps.
    """
    on_path: list[AppRef] = []
    index: dict[AppRef, int] = {}
    done: set[AppRef] = set()
    stack: list[tuple[AppRef, list[AppRef]]] = []

    def enter(node: AppRef) -> None:
        index[node] = len(on_path)
        on_path.append(node)
        stack.append((node, list(reversed(edges(node)))))

    enter(start)
    while stack:
        node, pending = stack[-1]
        if not pending:
            stack.pop()
            on_path.pop()
            del index[node]
            done.add(node)
            continue
        nxt = pending.pop()
        if nxt in index:
            return (*on_path[index[nxt] :], nxt)
        if nxt in done or len(done) + len(on_path) >= MAX_GRAPH:
            continue
        enter(nxt)
    return None


def describe_cycle(cycle: Sequence[AppRef], relative_to: str) -> str:
    """``dependency cycle: a -> b -> a``, each app named as :func:`label` does."""
    return "dependency cycle: " + " -> ".join(label(ref, relative_to) for ref in cycle)


def waiting_reason(dependency: Application | None, *, project: str) -> str:
    """Why a dependency is not ready yet, or ``""`` when it is.

    Ready (Flux's rule, in Argo CD's terms): the Application exists in the dependent's
    ``project`` and is not being deleted; no operation of it is requested or running; its last
    comparison was made against its current spec (the counterpart of Flux's observed
    generation), found it ``Synced`` (live state matches the revision its target resolves to
    now) and ``Healthy``. An app of another project reads as missing: its status is not the
    dependent's tenant's to see.
    """
    if dependency is None or dependency.spec.project != project:
        return "not found"
    if dependency.is_being_deleted:
        return "being deleted"
    status = dependency.status
    state = status.operation_state if status else None
    if dependency.operation is not None or (state is not None and state.phase in _BUSY_PHASES):
        return "syncing"
    sync = status.sync if status else None
    compared = sync.compared_to if sync else None
    if compared is None or not _current(dependency, compared.source, compared.sources):
        return "not compared with its current spec yet"
    if compared.destination != dependency.spec.destination:
        return "not compared with its current spec yet"
    shown = (sync.status if sync else None) or SyncStatus.UNKNOWN.value
    health = (status.health.status if status and status.health else None) or "Unknown"
    if shown != SyncStatus.SYNCED.value or health != HealthStatus.HEALTHY.value:
        return f"{shown}, {health}"
    return ""


def _current(app: Application, source: object, sources: object) -> bool:
    if app.has_multiple_sources:
        return sources == app.spec.sources
    return source == app.spec.source


def waiting_message(waiting: Sequence[tuple[AppRef, str]], relative_to: str) -> str:
    """``Waiting for a (OutOfSync, Progressing), other/b (not found)``; ``""`` for none."""
    if not waiting:
        return ""
    return "Waiting for " + ", ".join(
        f"{label(ref, relative_to)} ({reason})" for ref, reason in waiting
    )


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether an app's operation may go on: refused, waiting, or neither (it goes on)."""

    refused: str = ""
    """Why it can never go on as the annotations stand (a cycle, a bad annotation)."""

    waiting: str = ""
    """``Waiting for ...``: some dependency is not ready yet."""

    @property
    def goes_on(self) -> bool:
        """Whether nothing holds the operation."""
        return not self.refused and not self.waiting


def check(app: Application, read: Callable[[AppRef], Application | None]) -> Verdict:
    """Whether ``app``'s operation may go on, its dependencies read with ``read``.

    A dependency whose own annotation is invalid counts as having none here: its own syncs
    report that.
    """
    try:
        direct = of(app)
    except InvalidInputError as err:
        return Verdict(refused=str(err))
    if not direct:
        return Verdict()
    me: AppRef = (app.namespace, app.name)
    seen: dict[AppRef, Application | None] = {}

    def read_once(ref: AppRef) -> Application | None:
        if ref not in seen:
            seen[ref] = read(ref)
        return seen[ref]

    def edges(ref: AppRef) -> tuple[AppRef, ...]:
        if ref == me:
            return direct
        found = read_once(ref)
        if found is None or found.spec.project != app.spec.project:
            return ()
        try:
            return of(found)
        except InvalidInputError:
            return ()

    cycle = find_cycle(me, edges)
    if cycle is not None:
        return Verdict(refused=describe_cycle(cycle, app.namespace))
    waiting = [
        (ref, reason)
        for ref in direct
        if (reason := waiting_reason(read_once(ref), project=app.spec.project))
    ]
    return Verdict(waiting=waiting_message(waiting, app.namespace))


@dataclasses.dataclass(frozen=True)
class Neighbour:
    """One app next to another in the dependency graph, with how it stands."""

    ref: AppRef
    app: Application | None
    """``None``: named but not found (or in another project)."""

    waiting: str
    """Why it is not ready (``""``: ready); meaningful for a dependency."""


def neighbours(
    app: Application, apps: Iterable[Application]
) -> tuple[tuple[Neighbour, ...], tuple[Neighbour, ...]]:
    """What ``app`` waits for and what waits for it, among ``apps`` (its project's only).

    A bad annotation on ``app`` shows no dependency (its operations say why); one on another
    app leaves that app out of the dependents.
    """
    mine = [a for a in apps if a.spec.project == app.spec.project]
    by_ref = {(a.namespace, a.name): a for a in mine}
    me = (app.namespace, app.name)
    try:
        direct = of(app)
    except InvalidInputError:
        direct = ()
    waits_for = tuple(
        Neighbour(ref, by_ref.get(ref), waiting_reason(by_ref.get(ref), project=app.spec.project))
        for ref in direct
    )
    needed_by = []
    for other in mine:
        try:
            named = of(other)
        except InvalidInputError:
            continue
        if me in named:
            ref = (other.namespace, other.name)
            needed_by.append(Neighbour(ref, other, waiting_reason(other, project=app.spec.project)))
    return waits_for, tuple(sorted(needed_by, key=lambda n: n.ref))
