"""What a requested sync operation asks for, read off the Application and its operation.

The sync runner's pure half: the app at the operation's revision, the plan's ``Request``, which
resources a partial sync selects, the retry strategy, and the records an operation leaves
(its result, the state of a retry, the history entry of a success).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from tether.core.sync import options as sync_options, plan, results as sync_results
from tether.model import revisions, timestamps
from tether.model.app_spec import RetryStrategy
from tether.model.app_status import RevisionHistory, append_history, next_history_id
from tether.model.application import Application
from tether.model.operation import (
    Operation,
    OperationState,
    ResourceResult,
    SyncOperation,
    SyncOperationResult,
)
from tether.model.resources import ResourceKey

AUTOMATED_RETRIES = 5
"""Argo CD retries an automated sync five times when its policy names no retry strategy."""


def at_operation_revision(app: Application, operation: Operation) -> Application:
    """The app as the operation wants it synced: its revision or source override the spec's."""
    sync = operation.sync
    if sync is None:
        return app
    spec = app.spec
    if sync.source is not None:
        spec = spec.model_copy(update={"source": sync.source})
    if sync.sources:
        spec = spec.model_copy(update={"sources": sync.sources})
    if sync.revision and spec.source is not None and not spec.sources:
        spec = spec.model_copy(
            update={"source": spec.source.model_copy(update={"target_revision": sync.revision})}
        )
    if sync.revisions and spec.sources:
        sources = [
            s.model_copy(update={"target_revision": r})
            for s, r in zip(spec.sources, sync.revisions, strict=False)
        ]
        spec = spec.model_copy(update={"sources": sources})
    return app.model_copy(update={"spec": spec})


def without_pinned_revisions(operation: Operation) -> Operation:
    """The operation with no revision of its own: a retry with ``refresh`` syncs the newest."""
    if operation.sync is None:
        return operation
    sync = operation.sync.model_copy(update={"revision": None, "revisions": None})
    return operation.model_copy(update={"sync": sync})


def options_of(app: Application, sync: SyncOperation) -> sync_options.SyncOptions | str:
    """The operation's sync options (the app's, then the request's), or why they are invalid."""
    parsed = sync_options.parse([*app.spec.sync_options(), *(sync.sync_options or [])])
    if isinstance(parsed, sync_options.OptionError):
        return f"invalid sync option: {parsed.message}"
    return parsed


def build(
    app: Application,
    sync: SyncOperation,
    state: OperationState,
    *,
    options: sync_options.SyncOptions,
    known: Iterable[ResourceKey],
    now: datetime.datetime,
    timeout: datetime.timedelta | None,
    instance: str = "",
) -> plan.Request:
    """The plan's request for this operation; ``known`` are the keys the comparison found."""
    pinned = state.pinned_revisions()
    policy = app.spec.sync_policy
    automated = policy.automated if policy else None
    return plan.Request(
        revision=pinned[0] if pinned else "",
        started_at=timestamps.parse(state.started_at) or now,
        destination_namespace=app.spec.destination.namespace or "",
        prune=bool(sync.prune),
        dry_run=bool(sync.dry_run),
        resources=selected(sync, known),
        options=options,
        strategy=plan.Strategy.APPLY if sync.uses_apply_strategy else plan.Strategy.HOOK,
        force=sync.forced,
        allow_empty=bool(automated and automated.allow_empty),
        timeout=timeout,
        app_instance=instance,
        migration_manager=app.migration_manager,
        namespace_metadata=policy.managed_namespace_metadata if policy else None,
    )


def selected(sync: SyncOperation, known: Iterable[ResourceKey]) -> frozenset[ResourceKey] | None:
    """The keys a partial sync names, ``None`` when it syncs everything.

    A selection without a namespace matches the resource in every namespace, as in Argo CD
    (``argocd app sync --resource :ConfigMap:a`` writes no namespace).
    """
    if not sync.resources:
        return None
    wanted = sync.resources
    exact = {ResourceKey(w.group or "", w.kind, w.namespace or "", w.name) for w in wanted}
    return frozenset(exact | {k for k in known if any(w.selects(k) for w in wanted)})


def retry_strategy(app: Application, operation: Operation) -> RetryStrategy:
    """The operation's retry strategy, else the app's, else Argo CD's default for its initiator."""
    retry = operation.retry
    if retry is None and app.spec.sync_policy is not None:
        retry = app.spec.sync_policy.retry
    if retry is not None:
        return retry
    automated = bool(operation.initiated_by and operation.initiated_by.automated)
    return RetryStrategy(limit=AUTOMATED_RETRIES if automated else 0)


def result(
    app: Application, pinned: Sequence[str], resources: Sequence[ResourceResult] = ()
) -> SyncOperationResult:
    """A ``syncResult`` with the revision(s) the operation pinned and the results so far.

    It records the ``managedNamespaceMetadata`` it applies, as Argo CD does: a later change of
    the spec's makes the app OutOfSync (``Application.namespace_metadata_changed``).
    """
    multiple = app.has_multiple_sources
    pair = revisions.fields(pinned, multiple_sources=multiple)
    policy = app.spec.sync_policy
    metadata = policy.managed_namespace_metadata if policy else None
    # Named only when set: a null in the status patch would read as "removed".
    applied: dict[str, Any] = {} if metadata is None else {"managed_namespace_metadata": metadata}
    if multiple:
        return SyncOperationResult(
            **pair, sources=app.spec.sources, resources=list(resources), **applied
        )
    return SyncOperationResult(**pair, source=app.spec.source, resources=list(resources), **applied)


TOO_MANY_RESULTS = (
    "the sync of {count} resources cannot record its progress within the Application's size "
    "limit (etcd's 1.5 MiB); split the app"
)
"""Why an operation ends when even its compacted results do not fit (``results.fit``)."""


def with_results(state: OperationState, results: Sequence[ResourceResult]) -> OperationState | None:
    """``state`` with its ``syncResult.resources`` replaced by ``results``, as persisted.

    ``None`` when the results cannot be persisted at all (``TOO_MANY_RESULTS``).
    """
    fitted = sync_results.fit(tuple(results))
    if fitted is None:
        return None
    sync_result = state.sync_result or SyncOperationResult()
    return state.model_copy(
        update={"sync_result": sync_result.model_copy(update={"resources": list(fitted)})}
    )


def history(
    app: Application,
    operation: Operation,
    state: OperationState,
    now: datetime.datetime,
) -> list[RevisionHistory] | None:
    """``status.history`` after this operation succeeded; ``None`` when it records no entry.

    Dry runs and partial syncs leave no history, as in Argo CD.
    """
    sync = operation.sync or SyncOperation()
    if sync.dry_run or sync.is_partial:
        return None
    sync_result = state.sync_result or SyncOperationResult()
    multiple = app.has_multiple_sources
    existing = list((app.status.history if app.status else None) or [])
    entry = RevisionHistory(
        id=next_history_id(existing),
        **revisions.fields(sync_result.all_revisions(), multiple_sources=multiple),
        deployed_at=timestamps.format_time(now),
        deploy_started_at=state.started_at,
        initiated_by=operation.initiated_by,
    )
    source = sync.source or (None if multiple else app.spec.source)
    if source is not None:
        entry = entry.model_copy(update={"source": source})
    if multiple:
        entry = entry.model_copy(update={"sources": app.spec.sources})
    return append_history(existing, entry, app.spec.revision_history_limit)
