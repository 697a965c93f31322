"""Issue 11's remote-reference findings: kustomize and helm fetch only from hosts an admin allowed.

A real HTTP server on loopback stands in for the network; it records every request, so a test
can tell that a refused reference was never fetched.
"""

from __future__ import annotations

import http.server
import pathlib
import threading
from collections.abc import Iterator

import pytest

from tether.core.sources.remote import RemotePolicy
from tether.core.sources.rendering import BuildOptions
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n"


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        body = CM.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def network() -> Iterator[tuple[str, list[str]]]:
    """A base URL on loopback and the paths requested from it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def render_with(tmp_path: pathlib.Path, repo: pathlib.Path, app, policy: RemotePolicy):
    from tether.services import manifests as service

    renderer = make_renderer(tmp_path, remote=policy)
    return await service.ManifestService(
        service.DirectoryRepos(str(repo)), renderer
    ).render_application(app)


async def test_a_remote_base_is_refused_unless_its_host_is_allowed(tmp_path, repo, network) -> None:
    url, requests = network
    write(repo, {"k/kustomization.yaml": f"resources:\n- {url}/cm.yaml\n"})
    app = application({"path": "k"})
    message = failed(await render_with(tmp_path, repo, app, RemotePolicy()))
    assert "k/kustomization.yaml: resources" in message
    assert "host '127.0.0.1', which is not in the allowed remote hosts" in message
    assert requests == [], "kustomize fetched a reference tether refused"


async def test_an_allowed_host_on_loopback_still_needs_loopback_allowed(
    tmp_path, repo, network
) -> None:
    url, requests = network
    write(repo, {"k/kustomization.yaml": f"resources:\n- {url}/cm.yaml\n"})
    app = application({"path": "k"})
    message = failed(await render_with(tmp_path, repo, app, RemotePolicy(hosts=("*",))))
    assert "resolves to a loopback address" in message
    assert requests == []
    allowed = RemotePolicy(hosts=("127.0.0.1",), allow_loopback=True)
    assert names(ok(await render_with(tmp_path, repo, app, allowed))) == ["fetched"]
    assert requests == ["/cm.yaml"]


@pytest.mark.parametrize(
    "reference",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/x.yaml",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://100.100.100.200/latest/meta-data/",
        "http://0.0.0.0:6443/",
    ],
)
async def test_metadata_and_link_local_addresses_are_never_fetched(
    tmp_path, repo, reference: str
) -> None:
    write(repo, {"k/kustomization.yaml": f"resources:\n- {reference}\n"})
    everything = RemotePolicy(hosts=("*",), allow_loopback=True)
    message = failed(await render_with(tmp_path, repo, application({"path": "k"}), everything))
    assert "k/kustomization.yaml" in message
    assert any(why in message for why in ("metadata", "link-local", "unroutable"))


async def test_generator_files_by_url_are_checked_too(tmp_path, repo, network) -> None:
    url, requests = network
    kustomization = f"configMapGenerator:\n- name: g\n  files:\n  - data={url}/secret.txt\n"
    write(repo, {"k/kustomization.yaml": kustomization})
    message = failed(await render_with(tmp_path, repo, application({"path": "k"}), RemotePolicy()))
    assert "configMapGenerator" in message and "not in the allowed remote hosts" in message
    assert requests == []


async def test_an_absolute_path_is_refused_not_read_as_repository_relative(
    tmp_path, repo, workspace
) -> None:
    outside = workspace / "outside"
    write(outside, {"kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": CM})
    write(repo, {"k/kustomization.yaml": f"resources:\n- {outside}\n"})
    message = failed(await render_with(tmp_path, repo, application({"path": "k"}), RemotePolicy()))
    assert "an absolute path, which kustomize reads outside the repository" in message


async def test_a_helm_value_file_by_url_needs_an_allowed_host(tmp_path, repo, network) -> None:
    url, requests = network
    write(
        repo,
        {
            "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            "c/templates/cm.yaml": CM,
        },
    )
    app = application({"path": "c", "helm": {"valueFiles": [f"{url}/values.yaml"]}})
    renderer = make_renderer(tmp_path, remote=RemotePolicy())
    use_case = service.ManifestService(
        service.DirectoryRepos(str(repo)),
        renderer,
        options=BuildOptions(helm_value_url_schemes=("http",)),
    )
    message = failed(await use_case.render_application(app))
    assert "spec.source.helm.valueFiles" in message and "not in the allowed remote hosts" in message
    assert requests == []
