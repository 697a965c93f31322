"""Applications through an API server: the calls ``tether app`` makes, and following an app.

Paths and queries are Argo CD's (``/api/v1/applications``); an app outside the server's
control-plane namespace is named with ``appNamespace``. Following reads the watch stream
``/api/v1/stream/applications?name=``, reconnecting when it ends, until a condition holds.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import bootstrap
from tether.cli.commands import app_wait as waiting
from tether.model.errors import RemoteError, TetherError

APPS = "/api/v1/applications"
STREAM = "/api/v1/stream/applications"

GONE_CODES = frozenset({5, 7})
"""NotFound, and PermissionDenied: to a caller who could see the app a moment ago, the server's
existence hiding makes a deleted app look forbidden."""

POLL_S = 1.0


def app_path(name: str, *rest: str) -> str:
    """``/api/v1/applications/<name>[/<rest>...]``, the name as one segment."""
    return "/".join((APPS, urllib.parse.quote(name, safe=""), *rest))


def scope(namespace: str, project: str = "") -> dict[str, str]:
    """The ``appNamespace`` and ``project`` query of one app's calls (only those given)."""
    query = {}
    if namespace:
        query["appNamespace"] = namespace
    if project:
        query["project"] = project
    return query


def list_apps(
    api: bootstrap.ApiClient,
    *,
    namespace: str = "",
    selector: str = "",
    projects: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The apps the caller may see, as the server sorts them."""
    query: dict[str, Any] = {"selector": selector, "projects": list(projects)}
    query.update(scope(namespace))
    items = api.get(APPS, **query).get("items") or []
    return [i for i in items if isinstance(i, dict)]


def get_app(
    api: bootstrap.ApiClient, name: str, namespace: str, *, refresh: str = ""
) -> dict[str, Any]:
    """One app (after a ``normal`` or ``hard`` refresh when asked)."""
    found = api.get(app_path(name), refresh=refresh, **scope(namespace))
    if not isinstance(found, dict):
        raise RemoteError(f"application {name!r}: the server's answer is not an Application")
    return found


def names_of(
    api: bootstrap.ApiClient,
    names: Sequence[str],
    selector: str,
    namespace: str,
    projects: Sequence[str] = (),
) -> list[str]:
    """The apps a command acts on: those named, or those a label selector matches.

    Raises:
        TetherError: neither or both were given, or the selector matches nothing.
    """
    if bool(names) == bool(selector):
        raise TetherError("name the applications or give a selector (-l), not both")
    if names:
        return list(names)
    found = list_apps(api, namespace=namespace, selector=selector, projects=projects)
    if not found:
        raise TetherError(f"no application matches the selector {selector!r}")
    return [str(a.get("metadata", {}).get("name", "")) for a in found]


def follow_until(
    api: bootstrap.ApiClient,
    name: str,
    namespace: str,
    awaited: waiting.Awaited,
    timeout: float,
    show: Callable[[Mapping[str, Any]], None] | None = None,
    *,
    since: str = "",
) -> dict[str, Any] | None:
    """Follow the app's stream until ``awaited`` holds; the last version seen.

    Versions older than ``since`` (the resourceVersion a request answered with) are skipped:
    the server's stream may start from a state from before the request.

    Raises:
        WaitTimeout: ``timeout`` seconds (0: no limit) passed first; says what was missing.
    """
    if awaited.deleted:
        _until_gone(api, name, namespace, timeout)
        return None
    deadline = time.monotonic() + timeout if timeout else None
    last: dict[str, Any] | None = None
    missing = ["nothing seen yet"]
    query = {"name": name, **scope(namespace)}
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            break
        try:
            for event in api.stream(STREAM, query, idle_timeout=left):
                obj = event.get("application")
                if not isinstance(obj, dict) or obj.get("metadata", {}).get("name") != name:
                    continue
                if _older(obj, since):
                    continue
                gone = event.get("type") == "DELETED"
                last = None if gone else obj
                if last is not None and show is not None:
                    show(last)
                missing = awaited.unmet(last)
                if not missing:
                    return last
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except TimeoutError:
            break
        time.sleep(POLL_S)  # the server ended the stream (a restart): listen again shortly
    where = f"{namespace}/{name}" if namespace else name
    raise waiting.WaitTimeout(
        f"timed out after {timeout:g}s waiting for {where}: " + ", ".join(missing)
    )


def _older(obj: Mapping[str, Any], since: str) -> bool:
    """Whether ``obj`` is a version from before ``since`` (numeric resourceVersions)."""
    version = str(obj.get("metadata", {}).get("resourceVersion") or "")
    if not since or not version.isdigit() or not since.isdigit():
        return False
    return int(version) < int(since)


def version_of(obj: Mapping[str, Any]) -> str:
    """An object's resourceVersion ("" when it has none)."""
    return str(obj.get("metadata", {}).get("resourceVersion") or "")


def _until_gone(api: bootstrap.ApiClient, name: str, namespace: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout if timeout else None
    while True:
        try:
            get_app(api, name, namespace)
        except RemoteError as err:
            if err.code in GONE_CODES or err.status in (403, 404):
                return
            raise
        if deadline is not None and time.monotonic() >= deadline:
            raise waiting.WaitTimeout(
                f"timed out after {timeout:g}s waiting for {name}: the Application still exists"
            )
        time.sleep(POLL_S)


def follow_operation(
    api: bootstrap.ApiClient, requested: Mapping[str, Any], timeout: float
) -> dict[str, Any]:
    """Follow the operation just requested (``requested``: the app the request answered)."""
    meta = requested.get("metadata", {})
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
    shown = waiting.progress()
    try:
        done = follow_until(
            api,
            name,
            namespace,
            waiting.Awaited(operation=True),
            timeout,
            shown.update,
            since=version_of(requested),
        )
    finally:
        shown.close()
    assert done is not None
    return done
