"""Helm sources through the real ``helm template``: Git charts, options, dependencies, repos."""

from __future__ import annotations

import functools
import http.server
import os
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tether.adapters import _process
from tether.adapters.devcluster import tools
from tether.core.sources.remote import RemotePolicy
from tether.services import manifests as service

from .conftest import CANARY, application, by_kind, edited, failed, make_renderer, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

CHART = {
    "charts/web/Chart.yaml": """
        apiVersion: v2
        name: web
        version: 0.1.0
        dependencies:
        - name: lib
          version: 0.1.0
          repository: file://../lib
    """,
    "charts/web/values.yaml": """
        greeting: hello
        replicas: 1
        cfg: ""
    """,
    "charts/web/values-prod.yaml": """
        greeting: hello-prod
    """,
    "charts/web/templates/cm.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-cfg
          namespace: {{ .Release.Namespace }}
        data:
          greeting: {{ .Values.greeting | quote }}
          replicas: {{ .Values.replicas | quote }}
          file: {{ .Values.cfg | quote }}
          kube: {{ .Capabilities.KubeVersion.Version | quote }}
          hasWidget: {{ .Capabilities.APIVersions.Has "example.com/v1/Widget" | quote }}
          appName: {{ .Values.appName | default "" | quote }}
          replicasKind: {{ kindOf .Values.replicas | quote }}
    """,
    "charts/web/templates/tests/test-pod.yaml": """
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Release.Name }}-test
          annotations: {"helm.sh/hook": test}
        spec:
          containers: [{name: t, image: busybox}]
    """,
    "charts/web/crds/widget.yaml": """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          scope: Namespaced
          versions: [{name: v1, served: true, storage: true,
                      schema: {openAPIV3Schema: {type: object}}}]
    """,
    "charts/lib/Chart.yaml": """
        apiVersion: v2
        name: lib
        version: 0.1.0
    """,
    "charts/lib/templates/sa.yaml": """
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: {{ .Release.Name }}-lib}
    """,
    "files/cfg.txt": "from-a-file",
    "env/values.yaml": "greeting: from-env-repo\n",
}


@pytest.fixture
def chart_repo(repo: pathlib.Path) -> pathlib.Path:
    write(repo, CHART)
    return repo


def configmap(objects):
    [cm] = by_kind(objects, "ConfigMap")
    return cm


async def test_a_chart_with_a_local_dependency_renders_with_crds_and_tests(render, chart_repo):
    objects = ok(await render(application({"path": "charts/web"}, name="shop", namespace="prod")))
    assert sorted(names(objects)) == ["shop-cfg", "shop-lib", "shop-test", "widgets.example.com"]
    cm = configmap(objects)
    assert cm["metadata"]["namespace"] == "prod"
    assert cm["data"]["greeting"] == "hello"
    assert not (chart_repo / "charts/web/charts").exists(), "the checkout must stay untouched"


async def test_values_files_values_and_parameters_in_helm_order(render, chart_repo):
    helm = {
        "valueFiles": ["values-prod.yaml"],
        "values": "replicas: 2\n",
        "parameters": [
            {"name": "greeting", "value": "a,b"},
            {"name": "replicas", "value": "7", "forceString": True},
        ],
        "fileParameters": [{"name": "cfg", "path": "../../files/cfg.txt"}],
        "releaseName": "rel",
        "namespace": "other",
    }
    cm = configmap(ok(await render(application({"path": "charts/web", "helm": helm}))))
    assert cm["metadata"]["name"] == "rel-cfg"
    assert cm["metadata"]["namespace"] == "other"
    assert cm["data"]["greeting"] == "a,b"  # the comma did not split the parameter
    assert cm["data"]["replicas"] == "7"
    assert cm["data"]["replicasKind"] == "string", "forceString keeps 7 a string"
    assert cm["data"]["file"] == "from-a-file"


async def test_values_object_wins_over_values(render, chart_repo):
    helm = {"values": "greeting: from-values\n", "valuesObject": {"greeting": "from-object"}}
    cm = configmap(ok(await render(application({"path": "charts/web", "helm": helm}))))
    assert cm["data"]["greeting"] == "from-object"


async def test_skip_crds_and_skip_tests(render, chart_repo):
    helm = {"skipCrds": True, "skipTests": True}
    objects = ok(await render(application({"path": "charts/web", "helm": helm}, name="s")))
    assert sorted(names(objects)) == ["s-cfg", "s-lib"]


async def test_skip_schema_validation_renders_values_the_chart_schema_refuses(render, repo):
    write(
        repo,
        {
            "charts/strict/Chart.yaml": "apiVersion: v2\nname: strict\nversion: 0.1.0\n",
            "charts/strict/values.schema.json": """
                {"type": "object", "properties": {"replicas": {"type": "integer"}}}
            """,
            "charts/strict/templates/cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: strict}
                data: {replicas: {{ .Values.replicas | quote }}}
            """,
        },
    )
    helm: dict[str, Any] = {"values": "replicas: many\n"}
    assert "replicas" in failed(await render(application({"path": "charts/strict", "helm": helm})))
    helm["skipSchemaValidation"] = True
    cm = configmap(ok(await render(application({"path": "charts/strict", "helm": helm}))))
    assert cm["data"]["replicas"] == "many"


async def test_kube_version_and_api_versions_reach_capabilities(render, chart_repo):
    helm = {"kubeVersion": "1.29.3", "apiVersions": ["example.com/v1/Widget"]}
    cm = configmap(ok(await render(application({"path": "charts/web", "helm": helm}))))
    assert cm["data"]["kube"] == "v1.29.3"
    assert cm["data"]["hasWidget"] == "true"
    cm = configmap(ok(await render(application({"path": "charts/web"}), kube_version="1.31.0")))
    assert cm["data"]["kube"] == "v1.31.0"
    assert cm["data"]["hasWidget"] == "false"


async def test_a_missing_value_file_fails_unless_ignored(render, chart_repo):
    helm = {"valueFiles": ["nope.yaml"]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "valueFiles" in message
    assert "does not exist" in message
    helm["ignoreMissingValueFiles"] = True  # type: ignore[assignment]
    ok(await render(application({"path": "charts/web", "helm": helm})))


@pytest.mark.parametrize(
    "value_file",
    ["../../../outside/secret.yaml", "/../outside/secret.yaml", "../../../../../../etc/passwd"],
)
async def test_value_files_outside_the_repository_are_refused(render, chart_repo, value_file):
    helm = {"valueFiles": [value_file]}
    message = failed(await render(application({"path": "charts/web", "helm": helm}, name="x")))
    assert "application tether/x" in message
    assert "spec.source.helm.valueFiles" in message
    assert "escapes the repository root" in message


async def test_value_files_are_repository_absolute_with_a_leading_slash(render, chart_repo):
    helm = {"valueFiles": ["/env/values.yaml"]}
    cm = configmap(ok(await render(application({"path": "charts/web", "helm": helm}))))
    assert cm["data"]["greeting"] == "from-env-repo"


async def test_value_file_globs_expand_in_lexical_order(render, chart_repo):
    write(
        chart_repo,
        {
            "charts/web/env/10-base.yaml": "greeting: base\nreplicas: 2\n",
            "charts/web/env/20-prod.yaml": "greeting: prod\n",
        },
    )
    cm = configmap(
        ok(
            await render(
                application({"path": "charts/web", "helm": {"valueFiles": ["env/*.yaml"]}})
            )
        )
    )
    assert cm["data"]["greeting"] == "prod"
    assert cm["data"]["replicas"] == "2"
    helm = {"valueFiles": ["nothing-*.yaml"]}
    assert "does not exist" in failed(
        await render(application({"path": "charts/web", "helm": helm}))
    )


async def test_a_value_file_glob_cannot_reach_outside_the_repository(render, chart_repo):
    helm = {"valueFiles": ["../../../outside/*.yaml"]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "escapes the repository root" in message


async def test_remote_value_files_are_refused_unless_allowed(render, chart_repo):
    helm = {"valueFiles": ["http://169.254.169.254/latest/meta-data"]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "remote value files are not allowed" in message


async def test_file_parameters_outside_the_repository_are_refused(render, chart_repo):
    helm = {"fileParameters": [{"name": "cfg", "path": "../../../outside/secret.yaml"}]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "fileParameters" in message
    assert "escapes the repository root" in message


async def test_a_symlinked_value_file_pointing_outside_is_refused(render, chart_repo, workspace):
    (chart_repo / "charts/web/linked.yaml").symlink_to(workspace / "outside" / "secret.yaml")
    helm = {"valueFiles": ["linked.yaml"]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "out-of-bounds symlink" in message
    assert "charts/web/linked.yaml" in message


async def test_a_parameter_name_cannot_smuggle_a_flag(render, chart_repo):
    helm = {"parameters": [{"name": "--post-renderer", "value": "x"}]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert "parameters[0].name: name '--post-renderer' must not begin with '-'" in message


async def test_multi_source_apps_take_value_files_from_a_ref_source(render, chart_repo):
    app = application(
        sources_=[
            {
                "repoURL": "https://git.example/charts.git",
                "path": "charts/web",
                "helm": {"valueFiles": ["$values/env/values.yaml"]},
            },
            {"repoURL": "https://git.example/config.git", "ref": "values"},
        ]
    )
    cm = configmap(ok(await render(app)))
    assert cm["data"]["greeting"] == "from-env-repo"
    for value_file, reason in [
        ("$values/../outside/secret.yaml", "escapes the repository root"),
        ("$nope/values.yaml", "names no ref source"),
    ]:

        def set_value_file(manifest: dict[str, Any], value_file: str = value_file) -> None:
            manifest["spec"]["sources"][0]["helm"]["valueFiles"] = [value_file]

        assert reason in failed(await render(edited(app, set_value_file)))


# -- A real Helm chart repository over HTTP -----------------------------------------------------


def _package(tmp: pathlib.Path, out: pathlib.Path, version: str) -> None:
    chart = tmp / f"src-{version}" / "web"
    write(
        chart,
        {
            "Chart.yaml": f"apiVersion: v2\nname: web\nversion: {version}\n",
            "templates/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n"
                "data: {version: {{ .Chart.Version | quote }}}\n"
            ),
        },
    )
    _process.run_sync([tools.path_of("helm"), "package", str(chart), "-d", str(out)], env=_env(tmp))


def _env(tmp: pathlib.Path) -> dict[str, str]:
    return _process.base_env(
        {
            k: str(tmp / "helm" / k)
            for k in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")
        }
    )


@pytest.fixture
def chart_server(tmp_path: pathlib.Path) -> Iterator[str]:
    served = tmp_path / "served"
    served.mkdir()
    for version in ("1.0.0", "1.2.0", "2.0.0"):
        _package(tmp_path, served, version)
    _process.run_sync([tools.path_of("helm"), "repo", "index", str(served)], env=_env(tmp_path))
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def loopback_render(tmp_path: pathlib.Path, repo: pathlib.Path):
    """``render``, with the loopback chart server allowed (tether refuses loopback by default)."""
    renderer = make_renderer(tmp_path, remote=RemotePolicy(allow_loopback=True))

    async def run(app, **kwargs):
        use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
        return await use_case.render_application(app, **kwargs)

    return run


async def test_a_chart_repository_on_loopback_is_refused_unless_allowed(render, chart_server):
    app = application({"repoURL": chart_server, "chart": "web", "targetRevision": "1.0.0"})
    message = failed(await render(app))
    assert "spec.source.repoURL: '127.0.0.1' resolves to a loopback address" in message


async def test_a_chart_from_a_helm_repository_honours_a_version_constraint(
    loopback_render, chart_server, tmp_path
):
    render = loopback_render
    app = application({"repoURL": chart_server, "chart": "web", "targetRevision": "^1.0.0"})
    result = await render(app)
    [cm] = ok(result)
    assert cm["data"]["version"] == "1.2.0"
    assert result.revisions == ("^1.0.0",)

    exact = application({"repoURL": chart_server, "chart": "web", "targetRevision": "2.0.0"})
    [cm] = ok(await render(exact))
    assert cm["data"]["version"] == "2.0.0"
    cached = list((tmp_path / "render-cache" / "charts").glob("*/*"))
    assert sorted(p.name for p in cached) == ["1.2.0", "2.0.0"]


async def test_pulled_chart_versions_beyond_the_limit_are_pruned_least_recently_used_first(
    tmp_path, repo, chart_server
):
    renderer = make_renderer(tmp_path, remote=RemotePolicy(allow_loopback=True))
    use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    charts = tmp_path / "render-cache" / "charts"
    for version in ("1.0.0", "2.0.0", "1.2.0"):
        app = application({"repoURL": chart_server, "chart": "web", "targetRevision": version})
        ok(await use_case.render_application(app))
        [pulled] = charts.glob(f"*/{version}")
        os.utime(pulled, (time.time() - 7200,) * 2)  # idle for two hours
    # A render served from the chart cache marks 1.0.0 as used just now.
    again = application({"repoURL": chart_server, "chart": "web", "targetRevision": "1.0.0"})
    ok(await service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
       .render_application(again))  # fmt: skip
    removed = renderer.prune(1, min_idle_s=3600, now=time.time())
    assert sorted(pathlib.Path(p).name for p in removed) == ["1.2.0", "2.0.0"]
    assert [p.name for p in charts.glob("*/*")] == ["1.0.0"]
    assert renderer.prune(0, min_idle_s=3600, now=time.time()) == [], "1.0.0 is in use"


async def test_an_unknown_chart_version_fails_with_a_clear_error(loopback_render, chart_server):
    app = application({"repoURL": chart_server, "chart": "web", "targetRevision": "9.9.9"})
    message = failed(await loopback_render(app))
    assert "helm pull web" in message


async def test_canary_never_leaks_through_helm_errors(render, chart_repo, workspace):
    helm = {"valueFiles": [str(workspace / "outside" / "secret.yaml")]}
    message = failed(await render(application({"path": "charts/web", "helm": helm})))
    assert CANARY not in message
