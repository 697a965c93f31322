"""The web UI as a user meets it: the demo apps under ``tether run``, and Debian's Chromium.

``demo_site`` serves ``examples/demo`` (its namespaces renamed after the test's own) from a real
``git daemon``, starts ``tether run`` with its API and UI, applies the root app and waits for
the children to be Synced and Healthy. ``chromium`` drives ``/usr/bin/chromium`` through
Playwright; Playwright never downloads a browser here.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import yaml
from lightkube import Client
from lightkube.resources.core_v1 import Secret
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from tests.support import gitservers, tetherenv

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core from npm (``web/package-lock.json``), installed by ``make ui``."""

CHROMIUM = os.environ.get("TETHER_CHROMIUM", "/usr/bin/chromium")
"""Debian's Chromium (``make system-deps``)."""

CHROMIUM_ARGS = [
    # Nothing may leave loopback: these stop Chromium's own calls home (updates, sync, QUIC).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
]

DEMO_CHILDREN = ("demo-plain", "demo-kustomize", "demo-helm")
CONVERGE_TIMEOUT_S = 100.0
LAPTOP: ViewportSize = {"width": 1366, "height": 800}


@dataclasses.dataclass
class Site:
    """A running ``tether run`` serving the demo apps, and what a test needs to drive it."""

    url: str
    namespace: str
    """Where the Applications live (and the admin password, and the API's settings)."""
    admin_password: str
    kube: Client
    repo: tetherenv.ServedRepo
    controller: tetherenv.ControllerProcess

    def destination(self, child: str) -> str:
        """The namespace a demo child deploys into (``demo-plain`` → ``<ns>-plain``)."""
        return f"{self.namespace}-{child.removeprefix('demo-')}"


def _demo_files(namespace: str, url: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(DEMO.rglob("*")):
        if path.is_file() and path.name != "README.md":
            text = path.read_text().replace("REPO_URL", url)
            text = text.replace("namespace: tether", f"namespace: {namespace}")
            text = text.replace("namespace: demo-", f"namespace: {namespace}-")
            files[str(path.relative_to(DEMO))] = text
    return files


def _wait_api_url(controller: tetherenv.ControllerProcess, timeout: float = 90.0) -> str:
    return asyncio.run(controller.api_url(timeout))


def _converged(kube: Client, namespace: str) -> bool:
    return all(tetherenv.synced_healthy(kube, namespace, n) for n in DEMO_CHILDREN)


@contextlib.contextmanager
def demo_site(kubeconfig: Path, namespace: str, tmp: Path) -> Iterator[Site]:
    """The demo apps under a ``tether run`` of their own, converged."""
    tetherenv.install_crds(kubeconfig)
    kube = tetherenv.client(kubeconfig)
    work = tmp / "work"
    work.mkdir(parents=True)
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    (tmp / "served").mkdir()
    server = gitservers.GitDaemonServer(tmp / "served", tmp / "daemon").start()
    repo = tetherenv.ServedRepo(gitservers.SeedRepo(work), tmp / "served", server)
    files = _demo_files(namespace, repo.url)
    repo.commit(files, "The demo applications")
    controller = tetherenv.start_controller_process(
        kubeconfig,
        namespace,
        tmp / "cache",
        tmp / "run.log",
        resync_s=20,
        extra_args=["--allow-local-repos"],
    )
    try:
        url = _wait_api_url(controller)
        secret = tetherenv.get(kube, Secret, "argocd-initial-admin-secret", namespace)
        password = base64.b64decode(secret["data"]["password"]).decode()
        tetherenv.create(kube, yaml.safe_load(files["root.yaml"]))
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while not _converged(kube, namespace):
            if time.monotonic() > deadline:
                raise AssertionError(f"the demo did not converge:\n{controller.log()[-4000:]}")
            time.sleep(1)
        yield Site(url, namespace, password, kube, repo, controller)
    finally:
        controller.stop()
        _release(kube, namespace)
        server.stop()
        kube.close()


def _release(kube: Client, namespace: str) -> None:
    """Drop the finalizers of the namespace's Applications, now that no controller honours them.

    Else they outlive the namespace's deletion, and the next site's ``demo-root`` (the same name,
    so the same tracking label) takes them for its own children and waits for them forever.
    """
    for app in kube.list(tetherenv.Application, namespace=namespace):
        if app.metadata is not None and app.metadata.finalizers and app.metadata.name:
            tetherenv.patch_app(
                kube, namespace, app.metadata.name, {"metadata": {"finalizers": None}}
            )


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, kept off every network but loopback."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def signed_in(browser: Browser, site: Site, username: str, password: str) -> Page:
    """A new page, signed in through the login form as ``username``."""
    context = await browser.new_context(viewport=LAPTOP)
    page = await context.new_page()
    await page.goto(site.url + "/applications")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/applications")
    return page


class Shots:
    """Screenshots saved as a test's artifacts, numbered in the order they were taken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "screenshots"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    async def take(self, page: Page, name: str) -> Path:
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


SERIOUS = ("serious", "critical")


async def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on ``page`` as it is now."""
    await page.evaluate(AXE.read_text())
    result = await page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v.get("impact") in SERIOUS
    ]
