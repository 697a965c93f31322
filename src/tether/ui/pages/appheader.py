"""An application page's header and actions: statuses, revision, commit, operation progress.

Also what the user may do there (sync, rollback, terminate, delete, refresh), asked of the API's
can-i concurrently, and what the sync and delete dialogs offer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from tether.model import timestamps
from tether.model.app_status import ResourceStatus
from tether.model.application import Application, parse_application
from tether.model.errors import InvalidInputError
from tether.model.revisions import RevisionMetadata
from tether.model.status import OperationPhase
from tether.ui import apicall, appview, syncchoices, waves

RESOURCE = "applications"

FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
"""A commit as the controller records it; anything else (a chart version) has no metadata."""


@dataclasses.dataclass(frozen=True)
class Permissions:
    """The buttons the user may use: ``sync`` covers rollback and terminate, as in the API."""

    sync: bool
    delete: bool


@dataclasses.dataclass(frozen=True)
class Commit:
    """The synced revision's commit, or why it is not shown (``problem``)."""

    sha: str
    metadata: RevisionMetadata | None = None
    problem: str = ""

    @property
    def short(self) -> str:
        """The SHA as Git abbreviates it; a chart version as it is."""
        return self.sha[:7] if FULL_SHA.match(self.sha) else self.sha

    @property
    def subject(self) -> str:
        """The message's first line."""
        return self.metadata.message.split("\n", 1)[0] if self.metadata else ""


@dataclasses.dataclass(frozen=True)
class Operation:
    """The current or last operation as the header shows it."""

    phase: str
    message: str
    started_at: str
    finished_at: str
    initiated_by: str
    dry_run: bool
    commit: Commit | None
    """The revision it synced (none before it resolved one)."""

    @property
    def running(self) -> bool:
        """Whether it can still be terminated."""
        return self.phase == OperationPhase.RUNNING.value


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """The API paths the page's buttons call (the browser adds nothing but JSON bodies)."""

    app: str
    query: str
    """``appNamespace=...``, for every call naming the app."""

    def path(self, suffix: str = "", **params: str) -> str:
        """``/api/v1/applications/<name><suffix>?appNamespace=...&params``."""
        extra = "&" + urlencode(params) if params else ""
        return f"{self.app}{suffix}?{self.query}{extra}"


def rbac_object(obj: Mapping[str, Any]) -> str:
    """The app as the API's RBAC names it (``tether.api.appaccess.rbac_object``).

    The control-plane namespace is the one the controller recorded in
    ``status.controllerNamespace``; an app not yet reconciled is taken to live there.
    """
    view = appview.app_view(obj)
    status = obj.get("status") or {}
    control_plane = str(status.get("controllerNamespace") or view.namespace)
    if view.namespace == control_plane:
        return f"{view.project}/{view.name}"
    return f"{view.project}/{view.namespace}/{view.name}"


def endpoints(obj: Mapping[str, Any]) -> Endpoints:
    """The API paths for ``obj``."""
    view = appview.app_view(obj)
    return Endpoints(
        app="/api/v1/applications/" + quote(view.name, safe=""),
        query=urlencode({"appNamespace": view.namespace}),
    )


async def values(api: apicall.Api, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What ``_app_header.html`` and ``_app_dialogs.html`` show for ``obj``."""
    view = appview.app_view(obj)
    target = rbac_object(obj)
    app = _parsed(obj)
    synced = _synced_revision(app)
    shas = list(dict.fromkeys(r for r in (view.revision, synced) if r))
    (may_sync, may_delete), commits = await asyncio.gather(
        asyncio.gather(api.may(RESOURCE, "sync", target), api.may(RESOURCE, "delete", target)),
        asyncio.gather(*(_commit(api, view, app, sha) for sha in shas)),
    )
    described = dict(zip(shas, commits, strict=True))
    return {
        "can": Permissions(sync=may_sync, delete=may_delete),
        "commit": described.get(view.revision) or Commit(""),
        "operation": _operation(app, described.get(synced)),
        "waves": waves.progress(app) if app is not None else [],
        "api": endpoints(obj),
        "automated": app is not None and app.spec.is_automated,
        "sync_resources": _sync_resources(app),
        "sync_choices": syncchoices,
        "options_set_by_app": syncchoices.set_by_app(app.spec.sync_options() if app else []),
        "when": when,
    }


def when(timestamp: str) -> str:
    """A Kubernetes timestamp as people read it (``2026-01-01 09:30:00 UTC``); as is otherwise."""
    parsed = timestamps.parse(timestamp)
    if parsed is None:
        return timestamp
    return parsed.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _parsed(obj: Mapping[str, Any]) -> Application | None:
    try:
        return parse_application(obj)
    except InvalidInputError:
        return None  # a header without wave progress beats no page


async def _commit(
    api: apicall.Api, view: appview.AppView, app: Application | None, sha: str
) -> Commit:
    """Commit ``sha``'s metadata, when it is a commit (a chart's version is not)."""
    if not FULL_SHA.match(sha) or not _from_git(app):
        return Commit(sha)
    path = apicall.app_path(view.name, f"/revisions/{sha}/metadata")
    try:
        found = await api.get(path, {"appNamespace": view.namespace})
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as err:
        # The page still shows everything else; the header says why the commit is missing.
        return Commit(sha, problem=err.message)
    return Commit(sha, RevisionMetadata.from_json(found if isinstance(found, dict) else {}))


def _from_git(app: Application | None) -> bool:
    """Whether the app's first source is a Git repository (a chart's revision is a version)."""
    if app is None:
        return False
    sources = app.spec.sources or ([app.spec.source] if app.spec.source else [])
    return bool(sources) and not sources[0].is_helm_chart


def _synced_revision(app: Application | None) -> str:
    """The (first source's) revision the current or last operation synced."""
    state = app.status.operation_state if app is not None and app.status is not None else None
    revisions = state.pinned_revisions() if state is not None else ()
    return revisions[0] if revisions else ""


def _operation(app: Application | None, commit: Commit | None) -> Operation | None:
    state = app.status.operation_state if app is not None and app.status is not None else None
    if state is None:
        return None
    operation = state.operation
    initiator = operation.initiated_by if operation is not None else None
    who = ""
    if initiator is not None:
        who = "automated sync" if initiator.automated else initiator.username or ""
    sync = operation.sync if operation is not None else None
    return Operation(
        phase=state.phase or "",
        message=state.message or "",
        started_at=state.started_at or "",
        finished_at=state.finished_at or "",
        initiated_by=who,
        dry_run=bool(sync and sync.dry_run),
        commit=commit,
    )


def _sync_resources(app: Application | None) -> Sequence[ResourceStatus]:
    """The resources a sync may select: ``status.resources`` without hooks."""
    listed = app.status.resources if app is not None and app.status is not None else None
    return [r for r in listed or () if not r.hook]
