"""The manifest use case over real Git: revisions, render cache, single-flight, monorepo reuse."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Mapping
from typing import Any

import pytest

from tether.adapters import _process
from tether.adapters.git.repos import MirrorCache
from tether.adapters.render.renderer import Renderer
from tether.core.sources import generatepaths, rendering
from tether.model.application import Application
from tether.services import manifests as service

from .conftest import application, edited, failed, make_renderer, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]


class CountingRenderer:
    """The real renderer, counting how often it is asked (what the cache must avoid)."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def render(self, request: rendering.RenderRequest) -> list[dict[str, Any]]:
        self.calls.append(request.source.path or "")
        return await self.inner.render(request)

    async def tool_versions(self) -> Mapping[str, str]:
        return await self.inner.tool_versions()

    async def reads_cluster_versions(self, request: rendering.RenderRequest) -> bool:
        return await self.inner.reads_cluster_versions(request)


def git(repo: pathlib.Path, *args: str) -> str:
    env = _process.base_env(
        {
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        }
    )  # fmt: skip
    return _process.run_sync(["git", *args], cwd=str(repo), env=env).stdout.decode().strip()


def commit(repo: pathlib.Path, files: dict[str, str], message: str) -> str:
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def cm(name: str, value: str = "1") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '{value}'}}\n"


@pytest.fixture
def origin(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "origin"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    commit(
        path,
        {
            "apps/a/cm.yaml": cm("a"),
            "apps/b/cm.yaml": cm("b"),
            "apps/k/kustomization.yaml": "resources: [../../shared]\nnamePrefix: k-\n",
            "shared/kustomization.yaml": "resources: [cm.yaml]\n",
            "shared/cm.yaml": cm("shared"),
        },
        "first",
    )
    return path


@pytest.fixture
def counting(tmp_path: pathlib.Path) -> CountingRenderer:
    return CountingRenderer(make_renderer(tmp_path))


@pytest.fixture
def use_case(tmp_path: pathlib.Path, counting: CountingRenderer) -> service.ManifestService:
    git_repos = MirrorCache(str(tmp_path / "git"), allow_local=True, resolve_ttl=0)
    return service.ManifestService(git_repos, counting)


def app_of(origin: pathlib.Path, path: str, **kwargs: Any) -> Application:
    return application(
        {"repoURL": f"file://{origin}", "path": path, "targetRevision": "main"}, **kwargs
    )


async def test_a_render_is_cached_by_commit_and_options(use_case, counting, origin):
    first = await use_case.render_application(app_of(origin, "apps/a"))
    second = await use_case.render_application(app_of(origin, "apps/a"))
    assert names(ok(first)) == ["a"]
    assert ok(second) == ok(first)
    assert first.revisions == (git(origin, "rev-parse", "HEAD"),)
    assert counting.calls == ["apps/a"]

    await use_case.render_application(app_of(origin, "apps/a"), refresh=True)
    assert len(counting.calls) == 1, "a refresh re-resolves; the commit is the same"
    await use_case.render_application(app_of(origin, "apps/a"), hard_refresh=True)
    assert len(counting.calls) == 2
    other_options = edited(
        app_of(origin, "apps/a"),
        lambda m: m["spec"]["source"].update(directory={"recurse": True}),
    )
    await use_case.render_application(other_options)
    assert len(counting.calls) == 3


async def test_a_chart_renders_again_for_new_cluster_apis_and_plain_manifests_do_not(
    use_case, counting, origin
):
    commit(
        origin,
        {
            "apps/c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "apps/c/templates/cm.yaml": cm("c"),
        },
        "a chart",
    )
    for apis in (("v1",), ("v1", "example.com/v1", "example.com/v1/Widget")):
        for path in ("apps/a", "apps/k", "apps/c"):
            ok(await use_case.render_application(app_of(origin, path), api_versions=apis))
    # A CRD installed in the cluster: only the chart may render differently.
    assert counting.calls == ["apps/a", "apps/k", "apps/c", "apps/c"]


async def test_concurrent_requests_for_one_render_share_it(use_case, counting, origin):
    results = await asyncio.gather(
        *(use_case.render_application(app_of(origin, "apps/k")) for _ in range(5))
    )
    assert {tuple(names(ok(r))) for r in results} == {("k-shared",)}
    assert counting.calls == ["apps/k"]


async def test_a_cancelled_caller_does_not_cancel_the_render_for_the_others(
    use_case, counting, origin
):
    gate = asyncio.Event()
    inner_render = counting.render

    async def held(request):
        await gate.wait()
        return await inner_render(request)

    counting.render = held
    first = asyncio.create_task(use_case.render_application(app_of(origin, "apps/a")))
    second = asyncio.create_task(use_case.render_application(app_of(origin, "apps/a")))
    for _ in range(200):
        if use_case._inflight:
            break
        await asyncio.sleep(0.01)
    first.cancel()
    gate.set()
    assert names(ok(await second)) == ["a"]
    assert first.cancelled()
    assert counting.calls == ["apps/a"]


async def test_a_render_failing_repeatedly_is_paused_until_a_hard_refresh(
    tmp_path, counting, origin
):
    commit(origin, {"apps/bad/x.yaml": "kind: [unclosed\n"}, "break")
    now = [1000.0]
    git_repos = MirrorCache(str(tmp_path / "git2"), allow_local=True, resolve_ttl=0)
    use_case = service.ManifestService(git_repos, counting, clock=lambda: now[0])
    app = app_of(origin, "apps/bad")
    messages = [failed(await use_case.render_application(app)) for _ in range(5)]
    assert len(set(messages)) == 1
    assert "apps/bad/x.yaml: invalid YAML" in messages[0]
    assert counting.calls == ["apps/bad"] * 3
    now[0] += service.FAILURE_PAUSE_S + 1
    failed(await use_case.render_application(app))
    assert len(counting.calls) == 4
    failed(await use_case.render_application(app, hard_refresh=True))
    assert len(counting.calls) == 5


async def test_a_new_commit_is_rendered_from_the_new_tree(use_case, origin):
    assert ok(await use_case.render_application(app_of(origin, "apps/a")))[0]["data"]["v"] == "1"
    commit(origin, {"apps/a/cm.yaml": cm("a", "2")}, "change a")
    result = await use_case.render_application(app_of(origin, "apps/a"), refresh=True)
    assert ok(result)[0]["data"]["v"] == "2"


async def test_a_monorepo_commit_outside_the_apps_paths_reuses_the_previous_render(
    use_case, counting, origin
):
    annotations = {generatepaths.MANIFEST_GENERATE_PATHS: ".;/shared"}
    app = app_of(origin, "apps/a", annotations=annotations)
    await use_case.render_application(app)
    assert counting.calls == ["apps/a"]

    commit(origin, {"apps/b/cm.yaml": cm("b", "2")}, "touch b only")
    result = await use_case.render_application(app, refresh=True)
    assert names(ok(result)) == ["a"]
    assert result.revisions == (git(origin, "rev-parse", "HEAD"),)
    assert counting.calls == ["apps/a"], "the new commit reused the previous render"

    commit(origin, {"shared/cm.yaml": cm("shared", "2")}, "touch shared")
    await use_case.render_application(app, refresh=True)
    assert counting.calls == ["apps/a", "apps/a"]
    commit(origin, {"apps/a/cm.yaml": cm("a", "2")}, "touch a itself")
    result = await use_case.render_application(app, refresh=True)
    assert ok(result)[0]["data"]["v"] == "2"
    assert counting.calls == ["apps/a", "apps/a", "apps/a"]

    await use_case.render_application(app, hard_refresh=True)
    assert len(counting.calls) == 4, "a hard refresh never reuses"

    without = app_of(origin, "apps/b")
    await use_case.render_application(without)
    commit(origin, {"apps/a/cm.yaml": cm("a", "9")}, "touch a")
    await use_case.render_application(without)
    assert counting.calls.count("apps/b") == 2, "no annotation: every commit renders"


async def test_an_unknown_revision_fails_naming_the_app(use_case, origin):
    app = edited(
        app_of(origin, "apps/a", name="web"),
        lambda m: m["spec"]["source"].update(targetRevision="no-such-branch"),
    )
    message = failed(await use_case.render_application(app))
    assert message.startswith("application tether/web: ")
    assert "no-such-branch" in message


async def test_a_multi_source_app_is_all_or_nothing(use_case, origin):
    app = application(
        sources_=[
            {"repoURL": f"file://{origin}", "path": "apps/a", "targetRevision": "main"},
            {"repoURL": f"file://{origin}", "path": "apps/missing", "targetRevision": "main"},
        ]
    )
    result = await use_case.render_application(app)
    assert isinstance(result, service.RenderFailed)
    assert "source 2" in result.message
    assert "apps/missing" in result.message
    app = edited(app, lambda m: m["spec"]["sources"][1].update(path="apps/b"))
    assert names(ok(await use_case.render_application(app))) == ["a", "b"]


async def test_an_invalid_spec_is_reported_as_invalid_input(use_case, origin):
    app = edited(
        app_of(origin, "apps/a"),
        lambda m: m["spec"]["source"].update(kustomize={"namePrefx": "x-"}),
    )
    result = await use_case.render_application(app)
    assert isinstance(result, service.RenderFailed)
    assert result.invalid_input
    assert "unknown option spec.source.kustomize.namePrefx" in result.message


async def test_render_manifest_maps_every_repo_url_to_a_local_directory(tmp_path, repo):
    import yaml

    write(repo, {"apps/a/cm.yaml": cm("local")})
    text = yaml.safe_dump(application({"path": "apps/a"}).to_manifest())
    result = await service.render_manifest(text, make_renderer(tmp_path), repo_root=str(repo))
    assert names(ok(result)) == ["local"]
    bad = await service.render_manifest("kind: ConfigMap\n", make_renderer(tmp_path), repo_root=".")
    assert "exactly one Application" in failed(bad)
