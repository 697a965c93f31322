"""``tether demo``: the main job on a real local control plane, start to finish.

It starts the full-tier dev cluster, installs the CRDs, serves the sample app of apps from a local
Git server, runs the controller, applies one root Application, and shows every app converge.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import pathlib
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import click
import yaml

from tether import bootstrap
from tether.api import main as api_main
from tether.cli import shell
from tether.cli.commands import server
from tether.cli.commands.devcluster import default_dir
from tether.controller import main as controller_main
from tether.model import application
from tether.model.resources import ResourceKey
from tether.model.secretdata import fields_of
from tether.settings import Settings

EXAMPLE = pathlib.Path(__file__).resolve().parents[4] / "examples" / "demo"
APPS = ("demo-root", "demo-plain", "demo-kustomize", "demo-helm")
DEMO_NAMESPACES = ("demo-plain", "demo-kustomize", "demo-helm")
"""Where the children deploy (``examples/demo/apps``)."""
CONVERGE_TIMEOUT_S = 300.0
INITIAL_ADMIN_SECRET = "argocd-initial-admin-secret"


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=lambda: default_dir().parent / "demo",
    show_default="~/.local/state/tether/demo",
)
@click.option(
    "--keep/--no-keep",
    default=True,
    show_default=True,
    help="Leave the cluster running afterwards, to look around.",
)
@click.option(
    "--serve/--no-serve",
    default=False,
    show_default=True,
    help="Once converged, keep the controller and the web UI running until Ctrl-C.",
)
def demo(directory: pathlib.Path, keep: bool, serve: bool) -> None:
    """Deploy a sample app of apps from Git to a local cluster and watch it converge."""
    if not EXAMPLE.is_dir():
        raise click.ClickException(f"the demo repository is missing: {EXAMPLE}")
    with contextlib.suppress(Exception):
        bootstrap.dev_cluster_down(directory)
    say("starting a real control plane (etcd, kube-apiserver, controllers, kwok nodes)")
    cluster = bootstrap.dev_cluster_up(directory, "full", progress=lambda m: say(f"  {m}"))
    try:
        served = bootstrap.serve_git_folder(
            EXAMPLE, directory, "demo", replace={"REPO_URL": "{url}"}
        )
        say(f"serving the demo repository at {served.url}")
        converged = asyncio.run(_run(cluster, served.working_copy, serve))
    except BaseException:
        if not keep:
            bootstrap.dev_cluster_down(directory)
        raise
    _summary(cluster, served.working_copy, converged, keep)
    if not keep:
        bootstrap.dev_cluster_down(directory)
    if not converged:
        sys.exit(1)


async def _run(cluster: bootstrap.DevCluster, work: pathlib.Path, serve: bool) -> bool:
    settings = Settings(
        app_namespaces=("tether",),
        metrics_address="127.0.0.1:0",
        leader_election=False,
        resync_period=datetime.timedelta(seconds=30),
        cache_dir=str(cluster.directory / "cache"),
    )
    async with await bootstrap.runtime(
        settings, kubeconfig=cluster.kubeconfig, start_cache=False
    ) as rt:
        for line in await rt.installer.install():
            say(f"  {line}")
    ready = asyncio.Event()
    listening: list[str] = []
    api = api_main.ApiOptions(address="127.0.0.1:0")
    controller = asyncio.create_task(
        controller_main.run(
            settings,
            kubeconfig=str(cluster.kubeconfig),
            ready=ready,
            beside=[server.beside_controller(api, listening=_api_listening(listening))],
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 120)
        say("the controller is running; applying the root Application")
        async with await bootstrap.runtime(settings, kubeconfig=cluster.kubeconfig) as rt:
            password = await _admin_password(rt)
            say(f"  admin password: {password}")
            root = yaml.safe_load((work / "root.yaml").read_text())
            await rt.cluster.apply(root, field_manager="tether-demo")
            await rt.live.wait_synced(60)
            converged = await _watch(rt)
        if serve and listening:
            say(f"\nThe web UI is at {listening[0]}/ (user admin, password {password}).")
            say("tether keeps reconciling until Ctrl-C; the cluster stays afterwards.")
            await controller  # the controller ends on SIGINT or SIGTERM (its own handlers)
        return converged
    finally:
        controller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await controller


def _api_listening(urls: list[str]) -> Callable[[str], None]:
    def listening(url: str) -> None:
        urls.append(url)
        say(f"  the web UI and the API answer at {url}/ (log in as admin)")

    return listening


async def _admin_password(rt: bootstrap.Runtime) -> str:
    """The generated admin password the API server stored (Argo CD's initial admin Secret)."""
    for _ in range(100):
        secret = await rt.cluster.get(
            "v1", "Secret", INITIAL_ADMIN_SECRET, rt.settings.control_plane_namespace
        )
        if secret is not None:
            return fields_of(secret, "initial admin").get("password", "")
        await asyncio.sleep(0.1)
    return "(not created: see the logs)"


async def _watch(rt: bootstrap.Runtime) -> bool:
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        rows = [
            _row(rt.live.manifest(ResourceKey(application.GROUP, application.KIND, "tether", n)), n)
            for n in APPS
        ]
        table = "\n".join(
            f"  {name:<16} {sync:<10} {health:<12} {revision}"
            for name, sync, health, revision in rows
        )
        if table != last:
            say(f"  {'APPLICATION':<16} {'SYNC':<10} {'HEALTH':<12} REVISION\n{table}")
            last = table
        if all(r[1] == "Synced" and r[2] == "Healthy" for r in rows):
            return True
        await asyncio.sleep(1.0)
    return False


def _row(obj: Mapping[str, Any] | None, name: str) -> tuple[str, str, str, str]:
    status = (obj or {}).get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    return (
        name,
        sync.get("status", "-"),
        health.get("status", "-"),
        str(sync.get("revision", ""))[:7],
    )


def next_steps(
    kubeconfig: pathlib.Path, directory: pathlib.Path, work: pathlib.Path, tether: str
) -> list[tuple[str, str]]:
    """The commands the demo ends with, each with what it shows.

    Each one works pasted alone into a fresh shell: absolute paths, the kubeconfig named on
    every command, one namespace per ``kubectl`` (a second ``-n`` replaces the first).
    """
    kube = f"kubectl --kubeconfig {shell.path(kubeconfig)}"
    git = f"git -C {shell.path(work)}"
    config = f"--kubeconfig {shell.path(kubeconfig)}"
    return [
        (f"{kube} get applications -n tether", "the root app and its three children"),
        *((f"{kube} get all -n {ns}", f"what {ns} deployed") for ns in DEMO_NAMESPACES),
        (f"{kube} get application demo-plain -n tether -o yaml", "Argo CD-shaped status"),
        (
            f"{tether} run {config} --allow-local-repos",
            "keep reconciling, API and web UI on 127.0.0.1:8080",
        ),
        (
            f"{tether} login 127.0.0.1:8080 --plaintext --username admin",
            "the password printed above",
        ),
        (
            f"{kube} -n tether get secret {INITIAL_ADMIN_SECRET} "
            "-o jsonpath='{.data.password}' | base64 -d",
            "that password again",
        ),
        (f"{tether} app list --core {config} -n tether", "the apps, as tether lists them"),
        (
            f'{git} commit -am "change" && {git} push served main',
            f"after editing {work}/plain/web.yaml: with `tether run` going, see it applied",
        ),
        (f"{tether} dev-cluster down --dir {shell.path(directory)}", "stop everything"),
    ]


def _summary(
    cluster: bootstrap.DevCluster, work: pathlib.Path, converged: bool, keep: bool
) -> None:
    verdict = (
        "Every application is Synced and Healthy."
        if converged
        else ("Not every application converged in time; see the table above and the logs below.")
    )
    say("")
    say(verdict)
    if not keep:
        return
    say("\nWhat to look at now (each line pastes into a new shell as it is):")
    for command, what in next_steps(
        cluster.kubeconfig, cluster.directory, work, shell.tether_command()
    ):
        say(f"  # {what}\n  {command}")
    say(f"\nLogs: {cluster.directory}/*.log")


def say(message: str) -> None:
    """Print a line of progress."""
    click.echo(message)
