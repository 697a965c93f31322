"""Issue 11's helm findings, each as found: flags through the release name, files through commas.

Every test renders through the real helm with a canary file outside the repository. Before the
fix, the release name ran a shell command and a file parameter's name read the canary.
"""

from __future__ import annotations

import pathlib

import pytest

from .conftest import CANARY, application, by_kind, failed, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

SHELL_CHART = {
    "charts/evil/Chart.yaml": "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
    # A template that is harmless YAML to helm and a shell script to a post-renderer.
    "charts/evil/templates/run.yaml": "touch {{ .Values.mark }}; true: 1\n",
}

VALUES_CHART = {
    "charts/show/Chart.yaml": "apiVersion: v2\nname: show\nversion: 0.1.0\n",
    "charts/show/templates/cm.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: shown}
        data:
          x: {{ .Values.x | default "" | quote }}
          y: {{ .Values.y | default "" | quote }}
          z: {{ .Values.z | default "" | toJson | quote }}
    """,
    "charts/show/files/cfg.txt": "inside",
}


@pytest.mark.parametrize(
    "release_name",
    [
        "--post-renderer=/bin/sh",
        "--output-dir={escape}",
        "-f",
        "web\n--post-renderer=/bin/sh",
    ],
)
async def test_a_release_name_never_reaches_helm_as_a_flag(
    render, repo: pathlib.Path, tmp_path: pathlib.Path, release_name: str
) -> None:
    mark, escape = tmp_path / "ran", tmp_path / "escape"
    write(repo, SHELL_CHART)
    helm = {"releaseName": release_name.format(escape=escape), "values": f"mark: {mark}\n"}
    message = failed(await render(application({"path": "charts/evil", "helm": helm})))
    assert "spec.source.helm.releaseName" in message
    assert not mark.exists(), "a shell command from the chart ran"
    assert not escape.exists(), "helm wrote files where the release name told it to"


async def test_a_file_parameter_name_cannot_name_a_second_file(
    render, repo: pathlib.Path, workspace: pathlib.Path
) -> None:
    write(repo, VALUES_CHART)
    outside = workspace / "outside" / "secret.yaml"
    helm = {"fileParameters": [{"name": f"x={outside},cfg", "path": "files/cfg.txt"}]}
    message = failed(await render(application({"path": "charts/show", "helm": helm})))
    assert "spec.source.helm.fileParameters[0].name" in message
    assert CANARY not in message


async def test_a_file_parameter_is_its_files_text(render, repo: pathlib.Path) -> None:
    write(repo, VALUES_CHART)
    helm = {"fileParameters": [{"name": "x", "path": "files/cfg.txt"}]}
    [cm] = by_kind(
        ok(await render(application({"path": "charts/show", "helm": helm}))), "ConfigMap"
    )
    assert cm["data"]["x"] == "inside"


@pytest.mark.parametrize(
    "value", ["a\\\\,z.b=injected", "a,z.b=injected", "{b},z.b=injected", "a\\,z.b=x"]
)
async def test_a_parameter_value_never_sets_another_key(
    render, repo: pathlib.Path, value: str
) -> None:
    write(repo, VALUES_CHART)
    helm = {"parameters": [{"name": "y", "value": value}]}
    [cm] = by_kind(
        ok(await render(application({"path": "charts/show", "helm": helm}))), "ConfigMap"
    )
    assert cm["data"]["y"] == value
    assert cm["data"]["z"] == '""', "another key was set"


async def test_a_value_file_with_a_comma_is_refused_before_helm_splits_it(
    render, repo: pathlib.Path, workspace: pathlib.Path
) -> None:
    write(repo, VALUES_CHART)
    outside = workspace / "outside" / "secret.yaml"
    helm = {"valueFiles": [f"files/cfg.txt,{outside}"]}
    message = failed(await render(application({"path": "charts/show", "helm": helm})))
    assert "spec.source.helm.valueFiles[0]" in message and "comma" in message
    assert CANARY not in message


async def test_a_directory_with_a_comma_in_the_repository_cannot_split_a_value_file(
    render, repo: pathlib.Path
) -> None:
    write(repo, {**VALUES_CHART, "charts/show/a,b/values.yaml": "x: 1\n"})
    helm = {"valueFiles": ["a,b/values.yaml"]}
    message = failed(await render(application({"path": "charts/show", "helm": helm})))
    assert "comma" in message
