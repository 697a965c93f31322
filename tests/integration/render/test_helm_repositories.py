"""Charts from private Helm repositories: a real OCI registry and a real HTTP chart repository.

Credentials come from Argo CD repository Secrets (``type: helm``) through the same store the
controller and the repo-server use; they reach helm in private files, never on its command line.
"""

from __future__ import annotations

import pathlib
import stat
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import chartrepos
from tether.adapters.devcluster import tools
from tether.adapters.render.renderer import Renderer
from tether.core.sources import rendering
from tether.core.sources.remote import RemotePolicy
from tether.services import manifests as service
from tether.services.credentials import RepoCredentials

from .conftest import application, edited, failed, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[chartrepos.OciRegistry]:
    """The distribution registry with basic auth, holding web 1.0.0, 1.2.0 and 2.0.0."""
    work = tmp_path_factory.mktemp("oci")
    started = chartrepos.start_registry(work / "registry")
    try:
        for version in ("1.0.0", "1.2.0", "2.0.0"):
            started.push(chartrepos.package(work, work / "packages", "web", version))
        started.push(chartrepos.package(work, work / "packages", "lib", "0.3.0"))
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def http_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[chartrepos.HttpChartRepo]:
    """A chart repository behind basic auth, holding web 1.0.0 and base 0.1.0."""
    started = chartrepos.start_http_repo(tmp_path_factory.mktemp("http-charts"))
    try:
        started.add("web", "1.0.0")
        started.add("base", "0.1.0")
        yield started
    finally:
        started.stop()


class RecordingHelm:
    """The real helm behind a wrapper that writes each command line to a file first."""

    def __init__(self, tmp: pathlib.Path) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.log = tmp / "helm-argv.log"
        self.wrapper = tmp / "helm-wrapper"
        self.wrapper.write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$*" >> {self.log}\nexec {tools.path_of("helm")} "$@"\n'
        )
        self.wrapper.chmod(self.wrapper.stat().st_mode | stat.S_IEXEC)

    def path_of(self, tool: str) -> str:
        return str(self.wrapper) if tool == "helm" else tools.path_of(tool)


def helm_argv(tmp: pathlib.Path) -> str:
    """Every helm command line a renderer made with ``renderer_for(tmp, ...)``."""
    log = tmp / "helm-argv.log"
    return log.read_text() if log.exists() else ""


def store(*secrets: dict[str, Any]) -> RepoCredentials:
    credentials = RepoCredentials()
    credentials.load(list(secrets))
    assert credentials.problems == []
    return credentials


def renderer_for(tmp: pathlib.Path, credentials: RepoCredentials | None) -> Renderer:
    return Renderer(
        rendering.RenderSettings(
            cache_dir=str(tmp / "render-cache"), remote=RemotePolicy(allow_loopback=True)
        ),
        RecordingHelm(tmp),
        helm_credentials=credentials.lookup_helm if credentials else None,
    )


async def render_with(renderer: Renderer, repo: pathlib.Path, app: Any) -> Any:
    use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    return await use_case.render_application(app)


def oci_secret(registry: chartrepos.OciRegistry, password: str, **extra: str) -> dict[str, Any]:
    """Argo CD's form: ``registry/path`` without a scheme, ``enableOCI``, plain HTTP on loopback."""
    return chartrepos.repository_secret(
        "oci-charts",
        f"{registry.host}/charts",
        password=password,
        extra={"enableOCI": "true", "insecureOCIForceHttp": "true", **extra},
    )


def everything_written(root: pathlib.Path) -> str:
    return "".join(
        p.read_text(errors="replace")
        for p in root.rglob("*")
        if p.is_file() and p.stat().st_size < 1_000_000
    )


@pytest.mark.parametrize("repo_url", ["{host}/charts", "oci://{host}/charts"])
async def test_an_oci_chart_renders_with_credentials_from_a_repository_secret(
    registry, tmp_path, repo, repo_url
):
    renderer = renderer_for(tmp_path, store(oci_secret(registry, registry.password)))
    url = repo_url.format(host=registry.host)
    app = application({"repoURL": url, "chart": "web", "targetRevision": "1.2.0"})
    [cm] = ok(await render_with(renderer, repo, app))
    assert cm["data"] == {"chart": "web", "version": "1.2.0"}
    assert registry.password not in helm_argv(tmp_path)
    assert "--plain-http" in helm_argv(tmp_path)
    leftovers = list((tmp_path / "render-cache").glob("**/helm-auth-*"))
    assert leftovers == [], "the private helm configuration is removed after the pull"
    assert registry.password not in everything_written(tmp_path / "render-cache")


@pytest.mark.parametrize(
    "wanted, got", [("^1.0.0", "1.2.0"), ("*", "2.0.0"), (">=1.0.0 <2", "1.2.0")]
)
async def test_an_oci_semver_range_resolves_to_the_highest_matching_tag(
    registry, tmp_path, repo, wanted, got
):
    renderer = renderer_for(tmp_path, store(oci_secret(registry, registry.password)))
    app = application(
        {"repoURL": f"oci://{registry.host}/charts", "chart": "web", "targetRevision": wanted}
    )
    [cm] = ok(await render_with(renderer, repo, app))
    assert cm["data"]["version"] == got


async def test_a_wrong_oci_password_fails_naming_the_repository_and_never_the_password(
    registry, tmp_path, repo
):
    wrong = "wrong-" + registry.password[::-1]
    renderer = renderer_for(tmp_path, store(oci_secret(registry, wrong)))
    app = application(
        {"repoURL": f"{registry.host}/charts", "chart": "web", "targetRevision": "1.0.0"}
    )
    message = failed(await render_with(renderer, repo, app))
    assert f"helm pull web from oci://{registry.host}/charts" in message
    assert wrong not in message and registry.password not in message
    assert wrong not in helm_argv(tmp_path)


async def test_an_oci_chart_without_credentials_is_refused_by_the_registry(
    registry, tmp_path, repo
):
    # A repository Secret without secrets: plain HTTP is allowed, nothing authenticates.
    secret = chartrepos.repository_secret(
        "anonymous",
        f"oci://{registry.host}/charts",
        extra={"insecureOCIForceHttp": "true"},
    )
    renderer = renderer_for(tmp_path, store(secret))
    app = application(
        {"repoURL": f"oci://{registry.host}/charts", "chart": "web", "targetRevision": "1.0.0"}
    )
    message = failed(await render_with(renderer, repo, app))
    assert f"from oci://{registry.host}/charts" in message
    assert "basic" in message and "not found" in message  # helm found no credential for it


async def test_an_anonymous_oci_registry_serves_charts_without_a_secret(tmp_path, repo):
    open_registry = chartrepos.start_registry(tmp_path / "open", auth=False)
    try:
        open_registry.push(chartrepos.package(tmp_path, tmp_path / "pkg", "web", "3.1.0"))
        secret = chartrepos.repository_secret(
            "open", f"{open_registry.host}/charts", extra={"insecureOCIForceHttp": "true"}
        )
        renderer = renderer_for(tmp_path, store(secret))
        app = application(
            {"repoURL": f"{open_registry.host}/charts", "chart": "web", "targetRevision": "3.1.0"}
        )
        [cm] = ok(await render_with(renderer, repo, app))
        assert cm["data"]["version"] == "3.1.0"
    finally:
        open_registry.stop()


async def test_a_private_http_chart_repository_renders_with_basic_auth(http_repo, tmp_path, repo):
    secret = chartrepos.repository_secret("charts", http_repo.url, password=http_repo.password)
    renderer = renderer_for(tmp_path, store(secret))
    app = application({"repoURL": http_repo.url, "chart": "web", "targetRevision": "1.0.0"})
    [cm] = ok(await render_with(renderer, repo, app))
    assert cm["data"] == {"chart": "web", "version": "1.0.0"}
    assert http_repo.password not in helm_argv(tmp_path)
    assert http_repo.password not in everything_written(tmp_path / "render-cache")

    anonymous = renderer_for(tmp_path / "anonymous", None)
    message = failed(await render_with(anonymous, repo, app))
    assert f"helm pull web from {http_repo.url}: cannot read its index" in message


async def test_a_repo_creds_template_serves_every_repository_under_its_url(
    http_repo, tmp_path, repo
):
    # Templates match whole host:port and path segments, so this one names the server.
    template = chartrepos.repository_secret(
        "all-on-server", http_repo.url + "/", password=http_repo.password, kind="repo-creds"
    )
    renderer = renderer_for(tmp_path, store(template))
    app = application({"repoURL": http_repo.url, "chart": "base", "targetRevision": "0.1.0"})
    [cm] = ok(await render_with(renderer, repo, app))
    assert cm["data"]["chart"] == "base"


async def test_remote_dependencies_are_built_with_their_repositories_credentials(
    registry, http_repo, tmp_path, repo
):
    write(
        repo,
        {
            "umbrella/Chart.yaml": f"""
                apiVersion: v2
                name: umbrella
                version: 0.1.0
                dependencies:
                  - name: base
                    version: 0.1.0
                    repository: {http_repo.url}
                  - name: lib
                    version: ~0.3.0
                    repository: oci://{registry.host}/charts
            """,
            "umbrella/templates/own.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: umbrella}\n"
            ),
        },
    )
    credentials = store(
        chartrepos.repository_secret("charts", http_repo.url, password=http_repo.password),
        oci_secret(registry, registry.password),
    )
    renderer = renderer_for(tmp_path, credentials)
    app = application({"path": "umbrella"})
    objects = ok(await render_with(renderer, repo, app))
    assert sorted(o["metadata"]["name"] for o in objects) == ["demo-base", "demo-lib", "umbrella"]
    assert not (repo / "umbrella" / "charts").exists(), "the checkout must stay untouched"
    argv = helm_argv(tmp_path)
    assert "dependency build" in argv
    assert http_repo.password not in argv and registry.password not in argv

    no_credentials = renderer_for(tmp_path / "none", None)
    message = failed(await render_with(no_credentials, repo, app))
    assert "Chart.yaml dependencies: remote reference to host '127.0.0.1'" in message
    # Declared by a Secret without secrets: reached, and the repository refuses.
    declared = renderer_for(
        tmp_path / "declared", store(chartrepos.repository_secret("charts", http_repo.url))
    )
    write(repo, {"umbrella/Chart.yaml": f"""
        apiVersion: v2
        name: umbrella
        version: 0.1.0
        dependencies:
          - {{name: base, version: 0.1.0, repository: "{http_repo.url}"}}
    """})  # fmt: skip
    message = failed(await render_with(declared, repo, app))
    assert "helm dependency build" in message
    assert http_repo.password not in message


async def test_a_dependency_naming_a_repository_alias_is_refused(tmp_path, repo):
    write(
        repo,
        {
            "umbrella/Chart.yaml": """
                apiVersion: v2
                name: umbrella
                version: 0.1.0
                dependencies:
                  - {name: base, version: 0.1.0, repository: "@stable"}
            """,
        },
    )
    message = failed(await render_with(renderer_for(tmp_path, None), repo, app_at("umbrella")))
    assert "names no URL" in message


def app_at(path: str) -> Any:
    return application({"path": path})


async def test_a_chart_pulled_with_one_projects_credentials_is_not_served_to_another(
    registry, tmp_path, repo
):
    secret = oci_secret(registry, registry.password, project="team-a")
    renderer = renderer_for(tmp_path, store(secret))
    source = {"repoURL": f"{registry.host}/charts", "chart": "web", "targetRevision": "2.0.0"}
    mine = application(source)
    ok(await render_with(renderer, repo, edited(mine, _project("team-a"))))
    # The same renderer and chart cache; another project has no Secret for the registry.
    message = failed(await render_with(renderer, repo, edited(mine, _project("team-b"))))
    assert "helm pull web" in message


def _project(name: str) -> Any:
    def change(manifest: dict[str, Any]) -> None:
        manifest["spec"]["project"] = name

    return change


async def test_credentials_in_a_helm_repository_url_never_reach_helms_command_line(
    http_repo, tmp_path, repo
):
    def with_password(password: str) -> Any:
        url = http_repo.url.replace("http://", f"http://{chartrepos.USER}:{password}@")
        return application({"repoURL": url, "chart": "web", "targetRevision": "1.0.0"})

    renderer = renderer_for(tmp_path, None)
    [cm] = ok(await render_with(renderer, repo, with_password(http_repo.password)))
    assert cm["data"]["version"] == "1.0.0"
    assert "pull" in helm_argv(tmp_path)
    assert http_repo.password not in helm_argv(tmp_path)
    # The user name alone does not reach the chart the right password pulled.
    message = failed(await render_with(renderer, repo, with_password("guessed")))
    assert "cannot read its index" in message
    assert http_repo.password not in message and "guessed" not in message


async def test_pass_credentials_sends_them_to_chart_archives_on_another_host(tmp_path, repo):
    # The index lists its archives under another name of the same server, as a CDN would be.
    chart_repo = chartrepos.start_http_repo(tmp_path / "cdn")
    try:
        port = chart_repo.url.rsplit(":", 1)[1]
        chart_repo.add("web", "1.0.0", base_url=f"http://localhost:{port}")
        secret = chartrepos.repository_secret(
            "charts", chart_repo.url, password=chart_repo.password
        )
        renderer = renderer_for(tmp_path, store(secret))
        source = {"repoURL": chart_repo.url, "chart": "web", "targetRevision": "1.0.0"}
        message = failed(await render_with(renderer, repo, application(source)))
        assert "401" in message and chart_repo.password not in message
        passing = application({**source, "helm": {"passCredentials": True}})
        [cm] = ok(await render_with(renderer, repo, passing))
        assert cm["data"]["version"] == "1.0.0"
        assert chart_repo.password not in helm_argv(tmp_path)
    finally:
        chart_repo.stop()


async def test_dependencies_whose_registries_need_different_transports_are_refused(
    registry, tmp_path, repo
):
    write(
        repo,
        {
            "umbrella/Chart.yaml": f"""
                apiVersion: v2
                name: umbrella
                version: 0.1.0
                dependencies:
                  - {{name: lib, version: 0.3.0, repository: "oci://{registry.host}/charts"}}
                  - {{name: web, version: 1.0.0, repository: "oci://{registry.host}/tls"}}
            """,
        },
    )
    # Plain HTTP for one must not carry the other's credentials in the clear.
    credentials = store(
        oci_secret(registry, registry.password),
        chartrepos.repository_secret(
            "tls", f"oci://{registry.host}/tls", password=registry.password
        ),
    )
    message = failed(
        await render_with(renderer_for(tmp_path, credentials), repo, app_at("umbrella"))
    )
    assert "need different transports (--plain-http" in message
    assert "dependency build" not in helm_argv(tmp_path)
