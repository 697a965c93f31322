"""Helpers of the application page's browser tests: test apps of their own, the page, its header.

The demo apps sync themselves (automated, self-heal); these tests make Applications without
automated sync, each deploying into a fresh namespace, so only the UI moves them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from lightkube import ApiError
from lightkube.resources.core_v1 import Namespace
from playwright.async_api import Locator, Page, expect

from tests.support import tetherenv, uienv

LIVE_S = 90.0
"""How long a test waits for the controller and the stream to bring a change to the page."""


@contextlib.contextmanager
def test_app(site: uienv.Site, name: str, path: str = "plain", **spec: Any) -> Iterator[str]:
    """Application ``name`` on ``path`` of the demo repository, with no automated sync.

    It deploys into a namespace of its own (created by the sync: ``CreateNamespace=true``),
    which is yielded and deleted afterwards with the app.
    """
    destination = f"{site.namespace}-{name}"
    spec.setdefault("syncPolicy", {"syncOptions": ["CreateNamespace=true"]})
    body = tetherenv.application(name, site.namespace, site.repo.url, path, destination, **spec)
    tetherenv.create(site.kube, body)
    try:
        yield destination
    finally:
        with contextlib.suppress(ApiError):
            site.kube.delete(tetherenv.Application, name, namespace=site.namespace)
        with contextlib.suppress(ApiError):
            site.kube.delete(Namespace, destination)


def url(site: uienv.Site, name: str) -> str:
    """The app's page."""
    return f"{site.url}/applications/{site.namespace}/{name}"


def header(page: Page) -> Locator:
    """The live header."""
    return page.locator("#app-header")


async def sync_shows(page: Page, status: str) -> None:
    """Wait until the header's sync badge says ``status`` (live, without reloading)."""
    badge = header(page).locator(".statuses [data-sync]")
    await expect(badge).to_have_attribute("data-sync", status, timeout=LIVE_S * 1000)


async def operation_shows(page: Page, phase: str) -> None:
    """Wait until the header's operation section shows ``phase``."""
    section = header(page).locator(".operation")
    await expect(section).to_have_attribute("data-operation-phase", phase, timeout=LIVE_S * 1000)


async def mark_page(page: Page) -> None:
    """Mark the loaded document, so ``still_same_page`` proves no navigation happened since."""
    await page.evaluate("() => { window.tetherTestMark = 'unchanged'; }")


async def still_same_page(page: Page) -> bool:
    """Whether the document marked by ``mark_page`` is still the one shown."""
    return bool(await page.evaluate("() => window.tetherTestMark === 'unchanged'"))


async def sync_from_dialog(page: Page) -> None:
    """Open the sync dialog and submit it as it stands; waits for the API's toast."""
    await page.click("[data-action=sync]")
    dialog = page.locator("#sync-dialog")
    await expect(dialog).to_be_visible()
    await dialog.locator("button[type=submit]").click()
    await expect(page.locator("#toasts .toast").last).to_have_text("Sync requested")
    await expect(dialog).to_be_hidden()
