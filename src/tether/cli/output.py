"""How the CLI shows Applications: aligned tables, summaries, diffs and live sync progress.

Table builders are pure (objects in, strings out) so they are tested without a cluster; the
progress displays print plain lines when stdout is not a terminal and a rich Live table when it is.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import pydantic
import yaml
from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from tether.model.app_spec import SyncPolicy
from tether.services.apps import Windows
from tether.services.compare import ResourceState

Row = Sequence[str]

_SHA = re.compile(r"^[0-9a-f]{40}$")

RESOURCE_HEADERS = ("GROUP", "KIND", "NAMESPACE", "NAME", "STATUS", "HEALTH", "HOOK", "MESSAGE")
LIST_HEADERS = ("NAME", "PROJECT", "SYNC", "HEALTH", "OPERATION", "REVISION")
WIDE_HEADERS = (
    # Argo CD's `argocd app list` columns, plus the last operation and the synced revision.
    "NAME",
    "CLUSTER",
    "NAMESPACE",
    "PROJECT",
    "STATUS",
    "HEALTH",
    "SYNCPOLICY",
    "CONDITIONS",
    "REPO",
    "PATH",
    "TARGET",
    "OPERATION",
    "REVISION",
)
HISTORY_HEADERS = ("ID", "DATE", "REVISION", "REPO", "PATH", "INITIATED BY")


def table(headers: Row, rows: Sequence[Row]) -> str:
    """Left-aligned columns two spaces apart (as ``kubectl`` and ``argocd`` print them)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def dump(obj: Any, fmt: str) -> str:
    """An object as JSON or YAML, unchanged (``-o json|yaml``)."""
    if fmt == "json":
        return json.dumps(obj, indent=2)
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False).rstrip("\n")


def short(revision: str | None) -> str:
    """A commit SHA cut to 7 characters; other revisions (tags, chart versions) as they are."""
    text = revision or ""
    return text[:7] if _SHA.match(text) else text


def _get(obj: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _sources(app: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    many = _get(app, "spec", "sources")
    if many:
        return [s for s in many if isinstance(s, Mapping)]
    one = _get(app, "spec", "source")
    return [one] if isinstance(one, Mapping) else []


def qualified(app: Mapping[str, Any]) -> str:
    """``namespace/name`` of an Application."""
    return f"{_text(_get(app, 'metadata', 'namespace'))}/{_text(_get(app, 'metadata', 'name'))}"


def project_of(app: Mapping[str, Any]) -> str:
    """An Application's project (``default`` when unset, as Argo CD reads it)."""
    return _text(_get(app, "spec", "project")) or "default"


def sync_policy(app: Mapping[str, Any]) -> str:
    """``Auto``, ``Auto-Prune`` or ``Manual`` (Argo CD's SYNCPOLICY column)."""
    raw = _get(app, "spec", "syncPolicy")
    try:
        policy = SyncPolicy.model_validate(raw) if isinstance(raw, Mapping) else None
    except pydantic.ValidationError:
        policy = None  # shown as the controller treats it: an invalid spec syncs nothing
    if policy is None or policy.automated is None or not policy.is_automated:
        return "Manual"
    return "Auto-Prune" if policy.automated.prune else "Auto"


def _revision(app: Mapping[str, Any]) -> str:
    revisions = _get(app, "status", "sync", "revisions")
    if revisions:
        return ",".join(short(r) for r in revisions)
    return short(_get(app, "status", "sync", "revision"))


def _operation(app: Mapping[str, Any]) -> str:
    if app.get("operation") and not _get(app, "status", "operationState"):
        return "Requested"
    return _text(_get(app, "status", "operationState", "phase"))


def list_rows(apps: Sequence[Mapping[str, Any]], *, wide: bool, qualify: bool) -> list[Row]:
    """Rows of ``tether app list`` for ``LIST_HEADERS`` (or ``WIDE_HEADERS`` when ``wide``)."""
    rows: list[Row] = []
    for app in apps:
        name = qualified(app) if qualify else _text(_get(app, "metadata", "name"))
        sync = _text(_get(app, "status", "sync", "status"))
        health = _text(_get(app, "status", "health", "status"))
        project = _text(_get(app, "spec", "project"))
        if not wide:
            rows.append((name, project, sync, health, _operation(app), _revision(app)))
            continue
        destination = _get(app, "spec", "destination") or {}
        sources = _sources(app)
        first = sources[0] if sources else {}
        conditions = _get(app, "status", "conditions") or []
        rows.append(
            (
                name,
                _text(destination.get("server") or destination.get("name")),
                _text(destination.get("namespace")),
                project,
                sync,
                health,
                sync_policy(app),
                ",".join(sorted({_text(c.get("type")) for c in conditions})) or "<none>",
                _text(first.get("repoURL")),
                _text(first.get("path") or first.get("chart")),
                _text(first.get("targetRevision")) or "HEAD",
                _operation(app),
                _revision(app),
            )
        )
    return rows


def _key(entry: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        _text(entry.get("group")),
        _text(entry.get("kind")),
        _text(entry.get("namespace")),
        _text(entry.get("name")),
    )


def resource_rows(app: Mapping[str, Any]) -> list[Row]:
    """Rows for ``RESOURCE_HEADERS``: ``status.resources`` with the last sync's results.

    Hooks appear only in the sync result; a resource's message is its last sync result's.
    """
    results = _get(app, "status", "operationState", "syncResult", "resources") or []
    by_key = {_key(r): r for r in results}
    rows: list[Row] = []
    seen = set()
    for entry in _get(app, "status", "resources") or []:
        key = _key(entry)
        seen.add(key)
        result = by_key.get(key, {})
        rows.append(
            (
                *key,
                _text(entry.get("status")),
                _text(_get(entry, "health", "status")),
                "",
                _text(result.get("message")),
            )
        )
    for result in results:
        key = _key(result)
        if key in seen or not result.get("hookType"):
            continue
        rows.append(
            (
                *key,
                _text(result.get("hookPhase") or result.get("status")),
                "",
                _text(result.get("hookType")),
                _text(result.get("message")),
            )
        )
    return rows


def progress_rows(app: Mapping[str, Any]) -> list[Row]:
    """Rows for ``RESOURCE_HEADERS`` from ``operationState.syncResult`` as it is written."""
    health = {
        _key(e): _text(_get(e, "health", "status")) for e in _get(app, "status", "resources") or []
    }
    rows: list[Row] = []
    for result in _get(app, "status", "operationState", "syncResult", "resources") or []:
        key = _key(result)
        hook = _text(result.get("hookType"))
        status = _text(result.get("hookPhase") if hook else result.get("status"))
        rows.append((*key, status, health.get(key, ""), hook, _text(result.get("message"))))
    return rows


def summary(app: Mapping[str, Any], windows: Windows | None = None) -> str:
    """The header of ``tether app get``: what the app deploys, where, and how it stands.

    With ``windows``, whether its sync windows let it sync now, as ``argocd app get`` says
    it, and each window that applies with when it opens or closes.
    """
    sources = _sources(app)
    destination = _get(app, "spec", "destination") or {}
    lines = [
        ("Name", qualified(app)),
        ("Project", _text(_get(app, "spec", "project"))),
        ("Server", _text(destination.get("server") or destination.get("name"))),
        ("Namespace", _text(destination.get("namespace"))),
    ]
    for index, source in enumerate(sources):
        prefix = f"Source {index + 1} " if len(sources) > 1 else ""
        lines.append((f"{prefix}Repo", _text(source.get("repoURL"))))
        lines.append((f"{prefix}Target", _text(source.get("targetRevision")) or "HEAD"))
        where = source.get("chart") or source.get("path")
        lines.append((f"{prefix}{'Chart' if source.get('chart') else 'Path'}", _text(where)))
    if windows is not None:
        lines.append(("Sync Window", window_label(windows)))
    lines.append(("Sync Policy", sync_policy(app)))
    sync = _text(_get(app, "status", "sync", "status")) or "Unknown"
    revision = _revision(app)
    lines.append(("Sync Status", f"{sync} ({revision})" if revision else sync))
    health = _text(_get(app, "status", "health", "status")) or "Unknown"
    reason = _text(_get(app, "status", "health", "message"))
    lines.append(("Health Status", f"{health} ({reason})" if reason else health))
    text = _align(lines)
    conditions = _get(app, "status", "conditions") or []
    if conditions:
        text += "\n\nCONDITIONS:\n" + "\n".join(
            f"  {_text(c.get('type'))}: {_text(c.get('message'))}" for c in conditions
        )
    listed = window_lines(windows) if windows is not None else []
    if listed:
        text += "\n\nSYNC WINDOWS:\n" + "\n".join(f"  {line}" for line in listed)
    operation = operation_summary(app)
    if operation:
        text += "\n\n" + operation
    return text


def window_label(windows: Windows) -> str:
    """``Sync Allowed``, ``Manual Allowed`` or ``Sync Denied`` (``argocd app get``'s words)."""
    if windows.automated.allowed:
        return "Sync Allowed"
    return "Manual Allowed" if windows.manual.allowed else "Sync Denied"


def window_lines(windows: Windows) -> list[str]:
    """One line per window that applies: when it opens or closes, and what it refuses now."""
    if windows.automated.problem:
        return [f"invalid: {windows.automated.problem}"]
    manual = {s.window.index for s in windows.manual.blocking}
    lines = []
    for state in windows.automated.windows:
        text = state.describe(times=True)
        if state.window.index in manual:
            text += ": refuses every sync"
        elif state in windows.automated.blocking:
            text += ": refuses automated syncs (manualSync lets manual ones through)"
        lines.append(text)
    return lines


def operation_summary(app: Mapping[str, Any]) -> str:
    """The current or last operation: phase, revision, times and message ("" when none)."""
    state = _get(app, "status", "operationState")
    if not isinstance(state, Mapping):
        return "Operation:          Sync (requested)" if app.get("operation") else ""
    result = state.get("syncResult") or {}
    revision = result.get("revision") or ",".join(result.get("revisions") or [])
    lines = [
        ("Operation", "Sync"),
        ("Sync Revision", _text(revision)),
        ("Phase", _text(state.get("phase"))),
        ("Start", _text(state.get("startedAt"))),
        ("Finished", _text(state.get("finishedAt"))),
        ("Duration", _duration(state.get("startedAt"), state.get("finishedAt"))),
        ("Message", _text(state.get("message"))),
    ]
    return _align(lines)


def _align(lines: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in lines) + 2
    return "\n".join(f"{label + ':':<{width}}{value}".rstrip() for label, value in lines)


def _duration(started: Any, finished: Any) -> str:
    try:
        begin = datetime.datetime.fromisoformat(str(started).replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(str(finished).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return f"{int((end - begin).total_seconds())}s"


def history_rows(app: Mapping[str, Any]) -> list[Row]:
    """Rows for ``HISTORY_HEADERS``, oldest first."""
    rows: list[Row] = []
    for entry in _get(app, "status", "history") or []:
        sources = entry.get("sources") or ([entry["source"]] if entry.get("source") else [])
        revision = entry.get("revision") or ",".join(entry.get("revisions") or [])
        who = entry.get("initiatedBy") or {}
        rows.append(
            (
                _text(entry.get("id")),
                _text(entry.get("deployedAt")),
                _text(revision),
                ",".join(_text(s.get("repoURL")) for s in sources),
                ",".join(_text(s.get("path") or s.get("chart")) for s in sources),
                "automated" if who.get("automated") else _text(who.get("username")),
            )
        )
    return rows


def _title(state: ResourceState) -> str:
    key = state.key
    group_kind = f"{key.group}/{key.kind}" if key.group else key.kind
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return f"===== {group_kind} {where} ======"


def differs(state: ResourceState) -> bool:
    """Whether ``tether app diff`` shows a resource: it differs, or exists on one side only."""
    if state.status.hook:
        return False
    one_sided = (state.desired is None) != (state.live is None)
    return state.difference.modified or (one_sided and state.status.status is not None)


def diff_report(states: Sequence[ResourceState]) -> tuple[str, int]:
    """The unified diffs of every differing resource (Secret values masked) and their count."""
    shown = [s for s in states if differs(s)]
    parts = []
    for state in shown:
        body = state.difference.text.rstrip("\n")
        if not body:
            body = "(missing from the cluster)" if state.live is None else "(not in Git)"
        parts.append(f"{_title(state)}\n{body}")
    return ("\n\n".join(parts) + "\n" if parts else ""), len(shown)


# ---- live progress ------------------------------------------------------------------------------


class Progress(Protocol):
    """Shows an Application's operation as it advances."""

    def update(self, app: Mapping[str, Any]) -> None:
        """Show the latest state of the Application."""
        ...

    def close(self) -> None:
        """Stop showing (leaves the last state on screen)."""
        ...


class PlainProgress:
    """One line per resource whenever its status, health or message changes (logs, pipes)."""

    def __init__(self, echo: Callable[[str], None], clock: Callable[[], datetime.datetime]) -> None:
        self._echo = echo
        self._clock = clock
        self._shown: dict[tuple[str, ...], Row] = {}
        self._phase = ""
        self._header = False

    def update(self, app: Mapping[str, Any]) -> None:
        """Print what changed since the last update."""
        phase = _operation(app)
        message = _text(_get(app, "status", "operationState", "message"))
        line = f"{phase}: {message}" if message else phase
        if line and line != self._phase:
            self._echo(line)
            self._phase = line
        stamp = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        for row in progress_rows(app):
            key = tuple(row[:4])
            if self._shown.get(key) == row:
                continue
            if not self._header:
                self._echo(table(("TIMESTAMP", *RESOURCE_HEADERS), []))
                self._header = True
            self._shown[key] = row
            self._echo("  ".join((stamp, *row)).rstrip())

    def close(self) -> None:
        """Nothing to tear down."""


class LiveProgress:
    """A rich table redrawn in place (terminals)."""

    def __init__(self, console: Console) -> None:
        self._live = Live(Text("waiting for the controller ..."), console=console, transient=False)
        self._live.start()

    def update(self, app: Mapping[str, Any]) -> None:
        """Redraw with the latest state."""
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for header in RESOURCE_HEADERS:
            # Names stay whole so they can be copied; long messages wrap instead.
            grid.add_column(header, no_wrap=header != "MESSAGE", overflow="fold")
        for row in progress_rows(app):
            grid.add_row(*row)
        phase = _operation(app) or "Waiting"
        message = _text(_get(app, "status", "operationState", "message"))
        headline = Text(f"{qualified(app)}  {phase}" + (f": {message}" if message else ""))
        self._live.update(Group(headline, grid))

    def close(self) -> None:
        """Leave the last table on screen."""
        self._live.stop()


def progress_for(
    console: Console, echo: Callable[[str], None], clock: Callable[[], datetime.datetime]
) -> Progress:
    """A live table on a terminal, plain lines otherwise."""
    if console.is_terminal:
        return LiveProgress(console)
    return PlainProgress(echo, clock)


def app_list(found: Sequence[Mapping[str, Any]], fmt: str, *, qualify: bool) -> str:
    """``tether app list`` in ``fmt`` (table, wide, json, yaml or name), core or remote alike."""
    if fmt in ("json", "yaml"):
        return dump(found, fmt)
    if fmt == "name":
        return "\n".join(
            qualified(obj) if qualify else str(obj["metadata"]["name"]) for obj in found
        )
    headers = WIDE_HEADERS if fmt == "wide" else LIST_HEADERS
    return table(headers, list_rows(found, wide=fmt == "wide", qualify=qualify))
