"""The Kubeflow corpus: each example entry as its own Application renders exactly like kustomize."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from tether.adapters import _process
from tether.adapters.devcluster import tools
from tether.core.sources import kubeyaml
from tether.model.resources import ResourceKey

from .conftest import KUBEFLOW, application, ok

pytestmark = [
    pytest.mark.tools,
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]


def example_entries() -> list[str]:
    if not KUBEFLOW.is_dir():
        return []
    text = (KUBEFLOW / "example" / "kustomization.yaml").read_text()
    resources = yaml.safe_load(text)["resources"]
    return [str(pathlib.PurePosixPath("example", r)).replace("example/../", "") for r in resources]


def golden() -> dict[str, dict[str, int]]:
    path = KUBEFLOW.with_name("kubeflow-manifests.golden.json")
    return json.loads(path.read_text())["entries"] if path.exists() else {}


def test_the_example_lists_27_entries_that_all_have_golden_counts():
    entries = example_entries()
    assert len(entries) == 27
    assert set(entries) == set(golden())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("entry", example_entries())
async def test_each_example_entry_renders_exactly_what_kustomize_build_gives(render, entry):
    result = await render(application({"path": entry}, name="kubeflow"), root=KUBEFLOW)
    objects = ok(result)

    expected_text = _process.run_sync(
        [tools.path_of("kustomize"), "build", str(KUBEFLOW / entry)], timeout=110
    ).stdout
    expected = kubeyaml.parse_yaml(expected_text, "expected")
    assert [ResourceKey.of(o) for o in objects] == [ResourceKey.of(o) for o in expected]
    assert objects == expected

    counts = golden()[entry]
    assert len(objects) == counts["objects"]
    assert sum(o["kind"] == "CustomResourceDefinition" for o in objects) == counts["crds"]
    webhooks = {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
    assert sum(o["kind"] in webhooks for o in objects) == counts["webhook_configurations"]


HELM_CHARTS = sorted(
    p.name for p in (KUBEFLOW / "experimental" / "helm" / "charts").glob("*") if p.is_dir()
)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("chart", HELM_CHARTS)
async def test_each_experimental_helm_chart_renders_like_helm_template(render, tmp_path, chart):
    path = f"experimental/helm/charts/{chart}"
    result = await render(
        application({"path": path}, name=chart, namespace="kubeflow"), root=KUBEFLOW
    )
    objects = ok(result)
    assert objects, f"{chart} rendered no objects"

    expected_text = _process.run_sync(
        [tools.path_of("helm"), "template", chart, str(KUBEFLOW / path),
         "--namespace", "kubeflow", "--include-crds"],
        env=_process.base_env({"HELM_CACHE_HOME": str(tmp_path / "c"),
                               "HELM_CONFIG_HOME": str(tmp_path / "f"),
                               "HELM_DATA_HOME": str(tmp_path / "d")}),
        timeout=110,
    ).stdout  # fmt: skip
    expected = kubeyaml.parse_yaml(expected_text, "expected")
    assert [ResourceKey.of(o) for o in objects] == [ResourceKey.of(o) for o in expected]
    # Charts generate random passwords into Secrets; everything else is deterministic.
    assert [o for o in objects if o["kind"] != "Secret"] == [
        o for o in expected if o["kind"] != "Secret"
    ]


@pytest.mark.timeout(600)
async def test_the_whole_example_renders_from_a_git_repository_as_27_applications(
    tmp_path, renderer
):
    import shutil

    from tether.adapters.git.repos import MirrorCache
    from tether.services import manifests as service

    work = tmp_path / "kubeflow"
    shutil.copytree(KUBEFLOW, work)
    env = _process.base_env(
        {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
         "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    )  # fmt: skip
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        _process.run_sync(["git", *argv], cwd=str(work), env=env, timeout=120)

    use_case = service.ManifestService(
        MirrorCache(str(tmp_path / "git"), allow_local=True), renderer
    )
    total = 0
    for entry, counts in golden().items():
        app = application(
            {"repoURL": f"file://{work}", "path": entry, "targetRevision": "main"},
            name=entry.replace("/", "-")[:50],
        )
        objects = ok(await use_case.render_application(app))
        assert len(objects) == counts["objects"], entry
        total += len(objects)
    assert total == 683
