"""The render cache on disk: a new service over the same directory renders nothing again, and
only a render with the same repository, commit, path, options, project and tools is reused."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.unit.services.test_render_cache import SizedRenderer, app_at
from tether.adapters.rendercache import DiskRenderCache
from tether.core.sources import rendering
from tether.model.application import Application, parse_application
from tether.services import manifests


class VersionedRenderer(SizedRenderer):
    def __init__(self, helm: str = "v3.16.2") -> None:
        super().__init__()
        self.helm = helm

    async def tool_versions(self) -> Mapping[str, str]:
        return {"helm": self.helm}


def service(directory: Path, tool: SizedRenderer, **kwargs: Any) -> manifests.ManifestService:
    disk = DiskRenderCache(str(directory / "manifests"), max_bytes=1 << 20)
    return manifests.ManifestService(
        manifests.DirectoryRepos(str(directory)), tool, disk=disk, **kwargs
    )


async def objects(svc: manifests.ManifestService, app: Application, **kwargs: Any) -> Any:
    result = await svc.render_application(app, **kwargs)
    assert isinstance(result, manifests.Rendered), result
    return result.manifests


def in_project(path: str, project: str) -> Application:
    raw = app_at(path).to_manifest()
    raw["spec"]["project"] = project
    return parse_application(raw)


async def test_a_new_service_over_the_same_directory_serves_the_render_from_disk(tmp_path):
    first, second = VersionedRenderer(), VersionedRenderer()
    rendered = await objects(service(tmp_path, first), app_at("a-1"))
    again = await objects(service(tmp_path, second), app_at("a-1"))
    assert (first.renders, second.renders) == (["a-1"], [])
    assert again == rendered


async def test_another_project_renders_again_rather_than_reading_anothers_render(tmp_path):
    # Credentials are scoped to projects: a project's render is never served to another's.
    await objects(service(tmp_path, VersionedRenderer()), in_project("a-1", "team-a"))
    tool = VersionedRenderer()
    await objects(service(tmp_path, tool), in_project("a-1", "team-b"))
    assert tool.renders == ["a-1"]


async def test_other_tool_versions_render_again(tmp_path):
    await objects(service(tmp_path, VersionedRenderer("v3.16.2")), app_at("a-1"))
    tool = VersionedRenderer("v3.17.0")
    await objects(service(tmp_path, tool), app_at("a-1"))
    assert tool.renders == ["a-1"]


async def test_other_build_options_render_again(tmp_path):
    await objects(service(tmp_path, VersionedRenderer()), app_at("a-1"))
    tool = VersionedRenderer()
    options = rendering.BuildOptions(kustomize=("--enable-helm",))
    await objects(service(tmp_path, tool, options=options), app_at("a-1"))
    assert tool.renders == ["a-1"]


async def test_other_cluster_versions_render_again_a_render_that_reads_them(tmp_path):
    first = VersionedRenderer()
    first.reads_versions = True
    await objects(service(tmp_path, first), app_at("a-1"), kube_version="v1.36.3")
    second = VersionedRenderer()
    second.reads_versions = True
    await objects(service(tmp_path, second), app_at("a-1"), kube_version="v1.37.2")
    assert second.renders == ["a-1"]


async def test_a_hard_refresh_renders_afresh_whatever_the_disk_holds(tmp_path):
    await objects(service(tmp_path, VersionedRenderer()), app_at("a-1"))
    tool = VersionedRenderer()
    await objects(service(tmp_path, tool), app_at("a-1"), hard_refresh=True)
    assert tool.renders == ["a-1"]


async def test_a_damaged_entry_on_disk_is_rendered_again(tmp_path):
    await objects(service(tmp_path, VersionedRenderer()), app_at("a-1"))
    for entry in (tmp_path / "manifests").rglob("*"):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:-1] + b"\x00")
    tool = VersionedRenderer()
    rendered = await objects(service(tmp_path, tool), app_at("a-1"))
    assert tool.renders == ["a-1"]
    assert rendered[0]["kind"] == "ConfigMap"


def chart_app(version: str) -> Application:
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "c", "namespace": "tether"},
            "spec": {
                "project": "default",
                "destination": {"namespace": "apps"},
                "source": {
                    "repoURL": "https://charts.example",
                    "chart": "web",
                    "targetRevision": version,
                    "path": "c-1",
                },
            },
        }
    )


async def test_a_chart_version_range_is_never_served_from_disk(tmp_path):
    await objects(service(tmp_path, VersionedRenderer()), chart_app("1.x"))
    tool = VersionedRenderer()
    await objects(service(tmp_path, tool), chart_app("1.x"))
    assert tool.renders == ["c-1"]
    assert not list((tmp_path / "manifests").rglob("*"))
