"""The API's settings cache over a real control plane: one read per stale object, never stale
after this process writes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tether.services.auth.store import SettingsStore


@dataclasses.dataclass
class Reads:
    """The objects read from the API server through ``api``'s cluster client, by name."""

    names: list[str] = dataclasses.field(default_factory=list)
    held: asyncio.Event | None = None
    """While set up, the next read's answer waits for it: the read is under way."""


@pytest.fixture
async def reads(api: Api, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Reads]:
    """Every read ``api``'s cluster client makes from now on."""
    spy = Reads()
    real = api.runtime.cluster.get

    async def get(api_version: str, kind: str, name: str, namespace: str = "") -> Any:
        spy.names.append(name)
        held, spy.held = spy.held, None
        found = await real(api_version, kind, name, namespace)
        if held is not None:
            await held.wait()
        return found

    monkeypatch.setattr(api.runtime.cluster, "get", get)
    yield spy


async def test_requests_finding_a_setting_stale_together_share_one_read(
    api: Api, reads: Reads
) -> None:
    await api.put("ConfigMap", "argocd-cm", {"accounts.ci": "apiKey"})
    store = SettingsStore(api.runtime.cluster, api.runtime.settings.control_plane_namespace, ttl=0)
    reads.names.clear()
    first = await asyncio.gather(*(store.configmap("argocd-cm") for _ in range(100)))
    assert reads.names == ["argocd-cm"]
    assert all(data == {"accounts.ci": "apiKey"} for data in first)
    # A zero TTL keeps nothing: the next request reads again, once for all who ask together.
    await asyncio.gather(*(store.configmap("argocd-cm") for _ in range(100)))
    assert reads.names == ["argocd-cm", "argocd-cm"]


async def test_a_read_under_way_when_the_store_writes_is_not_kept(api: Api, reads: Reads) -> None:
    store = SettingsStore(api.runtime.cluster, api.runtime.settings.control_plane_namespace)
    reads.held = release = asyncio.Event()
    early = asyncio.create_task(store.secret("argocd-secret"))
    while not reads.names:
        await asyncio.sleep(0.01)
    # The early read has its answer but has not returned it yet when this process writes.
    await store.update_secret("argocd-secret", lambda _fields: {"marker": "written"})
    release.set()
    assert "marker" not in await early
    reads.names.clear()
    assert (await store.secret("argocd-secret"))["marker"] == "written"
    assert reads.names == ["argocd-secret"]
    assert (await store.secret("argocd-secret"))["marker"] == "written"
    assert reads.names == ["argocd-secret"]  # what was read after the write is kept


async def test_a_project_is_parsed_once_per_read_and_settings_are_the_callers_own(
    api: Api, reads: Reads
) -> None:
    namespace = api.runtime.settings.control_plane_namespace
    await api.runtime.cluster.create(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team-a", "namespace": namespace},
            "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]},
        }
    )
    await api.put("ConfigMap", "argocd-rbac-cm", {"policy.default": "role:readonly"})
    store = SettingsStore(api.runtime.cluster, namespace, ttl=60)
    first = await store.project("team-a")
    assert first is not None and first.name == "team-a"
    assert await store.project("team-a") is first
    store.forget("AppProject", "team-a")
    again = await store.project("team-a")
    assert again is not first and again == first
    # Decoded once, but each caller gets a dict of its own to change.
    data = await store.configmap("argocd-rbac-cm")
    data["policy.default"] = "role:admin"
    assert await store.configmap("argocd-rbac-cm") == {"policy.default": "role:readonly"}
