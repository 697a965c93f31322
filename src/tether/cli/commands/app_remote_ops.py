"""``tether app sync|wait|rollback|terminate-op|refresh|delete`` through an API server.

Same messages, progress and exit codes as core mode: an operation's outcome exits 0 or 1, a
wait that times out exits 1, an error 2.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from tether import bootstrap
from tether.cli import output
from tether.cli.commands import app_bodies as bodies, app_remote as remote, app_wait as waiting
from tether.model.operation import SyncOperation

T = TypeVar("T")


def _timing_out(call: Callable[[], T]) -> T:
    """``call()``; a wait that timed out exits 1 (the state was not reached), not 2."""
    try:
        return call()
    except waiting.WaitTimeout as err:
        click.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


def _followed(
    api: bootstrap.ApiClient, requested: dict[str, Any], timeout: float
) -> dict[str, Any]:
    """The app once the operation just requested has ended (progress shown meanwhile)."""
    return _timing_out(lambda: remote.follow_operation(api, requested, timeout))


def sync(
    api: bootstrap.ApiClient,
    names: Sequence[str],
    namespace: str,
    operation: SyncOperation,
    *,
    no_wait: bool,
    timeout: float,
) -> None:
    """Request a sync of each app; follow each to its end unless ``no_wait``.

    Exits 1 when any sync failed (after following them all).
    """
    body = bodies.sync_request(operation)
    failed = False
    for name in names:
        requested = api.call(
            "POST", remote.app_path(name, "sync"), params=remote.scope(namespace), body=body
        )
        if no_wait:
            click.echo(f"sync of {output.qualified(requested)} requested")
            continue
        done = _followed(api, requested, timeout)
        click.echo("")
        click.echo(output.operation_summary(done))
        failed = failed or not waiting.succeeded(done)
    if failed:
        raise SystemExit(1)


def wait(
    api: bootstrap.ApiClient, name: str, namespace: str, awaited: waiting.Awaited, timeout: float
) -> None:
    """Follow an app until ``awaited`` holds, then show it."""
    remote.get_app(api, name, namespace)  # a missing or forbidden app fails now, not at timeout
    shown = waiting.progress()

    def follow() -> dict[str, Any] | None:
        try:
            return remote.follow_until(api, name, namespace, awaited, timeout, shown.update)
        finally:
            shown.close()

    done = _timing_out(follow)
    assert done is not None
    click.echo("")
    click.echo(output.summary(done))


def rollback(
    api: bootstrap.ApiClient,
    name: str,
    namespace: str,
    history_id: int,
    *,
    prune: bool,
    dry_run: bool,
    no_wait: bool,
    timeout: float,
) -> None:
    """Roll back to a history entry; follow the operation unless ``no_wait``."""
    body = {"id": history_id, "prune": prune, "dryRun": dry_run}
    requested = api.call(
        "POST", remote.app_path(name, "rollback"), params=remote.scope(namespace), body=body
    )
    if no_wait:
        click.echo(f"rollback of {output.qualified(requested)} to {history_id} requested")
        return
    done = _followed(api, requested, timeout)
    waiting.report(done)


def terminate(api: bootstrap.ApiClient, name: str, namespace: str) -> None:
    """Stop the running operation."""
    obj = remote.get_app(api, name, namespace)
    api.call("DELETE", remote.app_path(name, "operation"), params=remote.scope(namespace))
    click.echo(f"operation of {output.qualified(obj)} terminating")


def delete(
    api: bootstrap.ApiClient,
    name: str,
    namespace: str,
    *,
    cascade: bool,
    propagation: str,
    wait_gone: bool,
    timeout: float,
) -> None:
    """Delete an app (its resources too unless ``cascade`` is off); maybe wait until it is gone."""
    obj = remote.get_app(api, name, namespace)
    query: dict[str, Any] = {"cascade": cascade, **remote.scope(namespace)}
    if cascade:
        query["propagationPolicy"] = propagation
    api.call("DELETE", remote.app_path(name), params=query)
    if wait_gone:
        _timing_out(
            lambda: remote.follow_until(
                api, name, namespace, waiting.Awaited(deleted=True), timeout
            )
        )
    state = "deleted" if wait_gone else "deletion requested"
    click.echo(f"application {output.qualified(obj)} {state}")
