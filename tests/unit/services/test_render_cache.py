"""The render cache: bounded by the size of what it holds, least recently used first out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.core.sources import rendering
from tether.model.application import parse_application
from tether.services import manifests

KIB = 1024


class SizedRenderer:
    """A renderer port whose output for path ``p-<n>`` is one ConfigMap of ``n`` KiB."""

    def __init__(self, *, reads_versions: bool = False) -> None:
        self.renders: list[str] = []
        self.reads_versions = reads_versions

    async def render(self, request: rendering.RenderRequest) -> list[dict[str, Any]]:
        path = request.source.path or ""
        self.renders.append(path)
        size = int(path.split("-")[1]) * KIB
        return [{"apiVersion": "v1", "kind": "ConfigMap", "data": {"x": "a" * size}}]

    async def tool_versions(self) -> Mapping[str, str]:
        return {}

    async def reads_cluster_versions(self, request: rendering.RenderRequest) -> bool:
        return self.reads_versions


def app_at(path: str) -> Any:
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": path, "namespace": "tether"},
            "spec": {
                "project": "default",
                "destination": {"namespace": "apps"},
                "source": {"repoURL": "https://git.example/r.git", "path": path},
            },
        }
    )


async def render(service: manifests.ManifestService, path: str) -> None:
    result = await service.render_application(app_at(path))
    assert isinstance(result, manifests.Rendered), result


async def test_renders_beyond_the_byte_budget_leave_least_recently_used_first(tmp_path):
    tool = SizedRenderer()
    service = manifests.ManifestService(
        manifests.DirectoryRepos(str(tmp_path)), tool, cache_bytes=10 * KIB
    )
    for path in ("a-4", "b-4", "a-4", "c-4"):  # c pushes out b, the least recently used
        await render(service, path)
    assert tool.renders == ["a-4", "b-4", "c-4"]
    await render(service, "a-4")
    await render(service, "b-4")
    assert tool.renders == ["a-4", "b-4", "c-4", "b-4"]


async def test_a_render_bigger_than_the_whole_budget_is_served_but_not_kept(tmp_path):
    tool = SizedRenderer()
    service = manifests.ManifestService(
        manifests.DirectoryRepos(str(tmp_path)), tool, cache_bytes=10 * KIB
    )
    await render(service, "small-2")
    await render(service, "huge-64")
    await render(service, "huge-64")
    await render(service, "small-2")
    assert tool.renders == ["small-2", "huge-64", "huge-64"]


async def render_for(service: manifests.ManifestService, kube_version: str, *apis: str) -> None:
    result = await service.render_application(
        app_at("a-1"), kube_version=kube_version, api_versions=apis
    )
    assert isinstance(result, manifests.Rendered), result


async def test_other_cluster_versions_render_again_and_the_same_ones_in_any_order_do_not(
    tmp_path,
):
    # The cluster's versions reach a chart (.Capabilities): another cluster, or a CRD
    # installed since, may render differently; the same list in another order may not.
    tool = SizedRenderer(reads_versions=True)
    service = manifests.ManifestService(
        manifests.DirectoryRepos(str(tmp_path)), tool, cache_bytes=10 * KIB
    )
    await render_for(service, "v1.36.3", "v1", "v1/ConfigMap", "apps/v1")
    await render_for(service, "v1.36.3", "apps/v1", "v1/ConfigMap", "v1")
    assert len(tool.renders) == 1
    await render_for(service, "v1.36.3", "apps/v1", "v1/ConfigMap", "v1", "example.com/v1")
    await render_for(service, "v1.37.2", "apps/v1", "v1/ConfigMap", "v1", "example.com/v1")
    assert len(tool.renders) == 3


async def test_a_render_that_cannot_read_the_cluster_versions_stays_cached_when_they_change(
    tmp_path,
):
    # Plain manifests or kustomize: a CRD installed in the cluster changes nothing they render.
    tool = SizedRenderer(reads_versions=False)
    service = manifests.ManifestService(
        manifests.DirectoryRepos(str(tmp_path)), tool, cache_bytes=10 * KIB
    )
    await render_for(service, "v1.36.3", "v1", "apps/v1")
    await render_for(service, "v1.36.3", "v1", "apps/v1", "example.com/v1")
    await render_for(service, "v1.37.2", "v1", "apps/v1", "example.com/v1")
    assert len(tool.renders) == 1
