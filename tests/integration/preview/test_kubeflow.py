"""``tether preview`` of a Kubeflow upgrade: the corpus as a fork, a second revision made here.

Only the components the change touches are rendered (twice); the other children are skipped by
what their kustomizations read, so the test takes seconds, not a render of all of Kubeflow.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
import yaml

from tests.integration.kubeflow.conftest import FORK_URL, KUBEFLOW, POINTING, make_fork
from tests.support.gitservers import SeedRepo, git
from tether.core.preview import report
from tether.core.sources import distribution
from tether.services import kubeflow

from .conftest import Preview

pytestmark = [
    pytest.mark.tools,
    pytest.mark.timeout(60),
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]

JWA = "applications/jupyter/jupyter-web-app/upstream/base/kustomization.yaml"
TWA = "applications/tensorboard/tensorboards-web-app/upstream/base/kustomization.yaml"
NOTEBOOK_CRD = (
    "applications/jupyter/notebook-controller/upstream/crd/bases/kubeflow.org_notebooks.yaml"
)
UPGRADE = distribution.Pointing(FORK_URL, "main", FORK_URL, "v1.11")


@pytest.fixture
def repo(tmp_path: pathlib.Path, isolated: None) -> SeedRepo:
    """The corpus as a user's fork, the distribution pointed at it, committed as ``base``."""
    fork = make_fork(tmp_path)
    kubeflow.init(fork / "distributions" / "kubeflow", POINTING)
    git("init", "--quiet", "-b", "main", str(fork))
    seed = SeedRepo(fork)
    seed.commit("base", {})
    return seed


def _new_crd_version(text: str) -> str:
    crd: dict[str, Any] = yaml.safe_load(text)
    version = dict(crd["spec"]["versions"][-1], name="v2", served=True, storage=False)
    crd["spec"]["versions"].append(version)
    return yaml.safe_dump(crd, sort_keys=False)


def test_the_markdown_of_a_kubeflow_upgrade_names_exactly_the_changed_components(
    repo: SeedRepo, preview: Preview
) -> None:
    work = repo.work
    kubeflow.init(work / "distributions" / "kubeflow", UPGRADE)  # "init to a newer revision"
    jwa = (work / JWA).read_text()
    twa = (work / TWA).read_text()
    repo.commit(
        "head",
        {
            JWA: jwa.replace("newTag: v1.10.0", "newTag: v1.11.0", 1),
            TWA: twa.replace("- cluster-role-binding.yaml\n", "", 1),
            NOTEBOOK_CRD: _new_crd_version((work / NOTEBOOK_CRD).read_text()),
        },
    )

    result = preview(repo.shas["base"], repo.shas["head"], output="markdown")

    assert result.exit_code == 0, result.output
    rows = re.findall(
        r"^\| (tether/[\w-]+) \| changed \| (\d+) \| (\d+) \| (\d+) \|$", result.stdout, re.M
    )
    assert {name: (int(a), int(r), int(c)) for name, a, r, c in rows} == {
        "tether/kubeflow": (0, 0, 27),  # the root: every child re-pointed
        "tether/jupyter-web-app": (0, 0, 1),
        "tether/tensorboards-web-app": (0, 1, 0),
        "tether/notebook-controller": (0, 0, 1),
    }
    assert "+        image: ghcr.io/kubeflow/kubeflow/jupyter-web-app:v1.11.0" in result.stdout
    assert "removed `rbac.authorization.k8s.io/ClusterRoleBinding:" in result.stdout
    # The new CRD version repeats a whole Pod schema: too long for a comment, its diff is left out.
    assert report.DIFF_LEFT_OUT in result.stdout
    assert result.stdout.count("<details>") == 4
    assert len(result.stdout) <= report.MARKDOWN_LIMIT
