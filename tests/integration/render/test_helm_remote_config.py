"""Helm's remote reach as the operator configures it: value files by URL (helm.valuesFileSchemes)
and chart repositories over TLS with a CA of argocd-tls-certs-cm. Real helm, loopback servers."""

from __future__ import annotations

import functools
import http.server
import pathlib
import subprocess
import threading
from collections.abc import Iterator

import pytest

from tests.support import tlsfront
from tether.adapters.devcluster import pki, tools
from tether.core.config import system
from tether.core.sources import renderconfig
from tether.core.sources.remote import RemotePolicy
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

CHART = {
    "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "c/values.yaml": "greeting: from-chart\n",
    "c/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
        "data: {greeting: {{ .Values.greeting | quote }}}\n"
    ),
}


@pytest.fixture
def served(tmp_path: pathlib.Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server of ``served/`` and the paths it was asked for."""
    root = tmp_path / "served"
    root.mkdir()
    seen: list[str] = []

    class Recording(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Recording, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def options_of(argocd_cm: dict[str, str]):
    """The build options the controller takes from ``argocd-cm``."""
    return system.parse({"argocd-cm": argocd_cm}).build_options


@pytest.mark.parametrize(
    ("argocd_cm", "refused"),
    [
        ({}, True),  # tether's default: no scheme (Argo CD's would be https, http)
        ({"helm.valuesFileSchemes": "https"}, True),
        ({"helm.valuesFileSchemes": "https, http"}, False),
    ],
)
async def test_a_value_file_by_url_needs_its_scheme_in_helm_values_file_schemes(
    tmp_path, repo, served, argocd_cm, refused
):
    address, seen = served
    (tmp_path / "served" / "values.yaml").write_text("greeting: from-url\n")
    write(repo, CHART)
    renderer = make_renderer(
        tmp_path, remote=RemotePolicy(hosts=("127.0.0.1",), allow_loopback=True)
    )
    use_case = service.ManifestService(
        service.DirectoryRepos(str(repo)), renderer, options=options_of(argocd_cm)
    )
    app = application({"path": "c", "helm": {"valueFiles": [f"http://{address}/values.yaml"]}})
    result = await use_case.render_application(app)
    if refused:
        assert "remote value files are not allowed" in failed(result)
        assert seen == []
    else:
        [cm] = ok(result)
        assert cm["data"] == {"greeting": "from-url"}
        assert seen == ["/values.yaml"]


async def test_the_scheme_allowed_still_needs_the_host_allowed(tmp_path, repo, served):
    address, seen = served
    write(repo, CHART)
    renderer = make_renderer(tmp_path, remote=RemotePolicy(allow_loopback=True))
    use_case = service.ManifestService(
        service.DirectoryRepos(str(repo)),
        renderer,
        options=options_of({"helm.valuesFileSchemes": "http"}),
    )
    app = application({"path": "c", "helm": {"valueFiles": [f"http://{address}/values.yaml"]}})
    assert "not in the allowed remote hosts" in failed(await use_case.render_application(app))
    assert seen == []


async def test_a_chart_repository_over_tls_is_trusted_with_its_hosts_ca(tmp_path, served):
    address, _ = served
    chart_src = tmp_path / "chart-src"
    write(chart_src, CHART)
    helm = tools.path_of("helm")
    root = tmp_path / "served"
    subprocess.run([helm, "package", str(chart_src / "c"), "-d", str(root)], check=True)
    subprocess.run([helm, "repo", "index", str(root)], check=True, capture_output=True)
    issued = pki.generate(tmp_path / "pki")
    port = int(address.rsplit(":", 1)[1])
    with tlsfront.TlsFront(port, issued.path("apiserver.crt"), issued.path("apiserver.key")) as tls:
        app = application({"repoURL": tls.url(""), "chart": "c", "targetRevision": "0.1.0"})
        trust = {"now": renderconfig.NO_TRUST}
        renderer = make_renderer(
            tmp_path, remote=RemotePolicy(allow_loopback=True), trust=lambda: trust["now"]
        )
        use_case = service.ManifestService(service.DirectoryRepos(str(tmp_path)), renderer)
        refused = failed(await use_case.render_application(app))
        assert "helm pull c from" in refused and "certificate" in refused
        certs = {"127.0.0.1": issued.path("ca.crt").read_text()}
        trust["now"] = system.parse({"argocd-tls-certs-cm": certs}).host_trust
        [cm] = ok(await use_case.render_application(app, hard_refresh=True))
        assert cm["data"] == {"greeting": "from-chart"}
