"""The render cache on disk over real Git, kustomize and helm: a restart renders nothing again."""

from __future__ import annotations

import pathlib
import stat

import pytest

from tether.adapters.git.repos import MirrorCache
from tether.adapters.rendercache import DiskRenderCache
from tether.services import manifests as service

from .conftest import make_renderer, names, ok
from .test_service import CountingRenderer, app_of, cm, commit, origin

__all__ = ["origin"]  # the fixture, shared with the service's tests

pytestmark = [pytest.mark.tools, pytest.mark.timeout(90)]


def started(cache: pathlib.Path) -> tuple[service.ManifestService, CountingRenderer]:
    """A process's manifest service, new in every way but the cache directory it is given."""
    counting = CountingRenderer(make_renderer(cache))
    git_repos = MirrorCache(str(cache / "git"), allow_local=True, resolve_ttl=0)
    disk = DiskRenderCache(str(cache / "manifests"), max_bytes=64 << 20)
    return service.ManifestService(git_repos, counting, disk=disk), counting


async def test_a_restarted_service_serves_kustomize_and_helm_renders_from_disk(tmp_path, origin):
    commit(
        origin,
        {
            "apps/c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "apps/c/templates/cm.yaml": cm("c"),
            "apps/c/templates/secret.yaml": (
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"
            ),
        },
        "a chart",
    )
    cache = tmp_path / "cache"
    first, counted = started(cache)
    before = [ok(await first.render_application(app_of(origin, p))) for p in ("apps/k", "apps/c")]
    assert counted.calls == ["apps/k", "apps/c"]

    second, recounted = started(cache)
    after = [ok(await second.render_application(app_of(origin, p))) for p in ("apps/k", "apps/c")]
    assert recounted.calls == [], "served from disk: no tool ran"
    assert after == before
    assert names(after[0]) == ["k-shared"]

    entries = [p for p in (cache / "manifests").rglob("*") if p.is_file()]
    assert len(entries) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries)


async def test_a_new_commit_after_a_restart_renders_again(tmp_path, origin):
    cache = tmp_path / "cache"
    first, _ = started(cache)
    ok(await first.render_application(app_of(origin, "apps/a")))
    commit(origin, {"apps/a/cm.yaml": cm("a", "2")}, "a changed")
    second, counted = started(cache)
    rendered = ok(await second.render_application(app_of(origin, "apps/a")))
    assert counted.calls == ["apps/a"]
    assert rendered[0]["data"] == {"v": "2"}
