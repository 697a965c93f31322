"""Issue 11's credential findings: a repoURL's password never reaches a message."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from tether.core.sources import rendering
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

PASSWORD = "s3cret-pw-7731"


@pytest.mark.parametrize(
    "source",
    [
        {
            "repoURL": f"https://alice:{PASSWORD}@127.0.0.1:1/charts",
            "chart": "web",
            "targetRevision": "1.0.0",
        },
        {"repoURL": f"https://alice:{PASSWORD}@git.example/repo.git", "path": "missing"},
    ],
)
async def test_a_password_in_a_repo_url_never_reaches_the_render_message(render, source) -> None:
    message = failed(await render(application(source)))
    assert PASSWORD not in message
    assert "alice" not in message


async def test_a_plugins_secret_environment_is_scrubbed_from_its_error(tmp_path, repo) -> None:
    token = "plugin-token-90210-abc"
    leaky = rendering.PluginSpec(
        name="leaky",
        generate=("sh", "-c", 'echo "auth failed for $TOKEN at https://u:$TOKEN@h/x" >&2; exit 1'),
        env={"TOKEN": token},
    )
    write(repo, {"app/x.txt": "x"})
    use_case = service.ManifestService(
        service.DirectoryRepos(str(repo)), make_renderer(tmp_path, plugins=(leaky,))
    )
    app = application({"path": "app", "plugin": {"name": "leaky"}})
    message = failed(await use_case.render_application(app))
    assert "auth failed for" in message
    assert token not in message


def test_the_cli_never_prints_a_repo_url_password(tmp_path: pathlib.Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata: {name: c, namespace: tether}\n"
        "spec:\n  project: default\n  destination: {namespace: x}\n"
        f"  source: {{repoURL: 'https://alice:{PASSWORD}@127.0.0.1:1/charts', chart: nginx, "
        "targetRevision: 1.0.0}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "tether", "render", "-f", str(app), "--repo-root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert PASSWORD not in done.stdout + done.stderr
    assert "alice" not in done.stdout + done.stderr
