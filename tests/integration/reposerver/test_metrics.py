"""The repo-server's own /metrics: the Git requests it made, under Argo CD's names."""

from __future__ import annotations

import re

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from tests.support import reposerver, tetherenv
from tether.adapters.reposerver import RepoServerClient
from tether.core.sources import repocreds
from tether.core.sources.rendered import Rendered
from tether.model.application import parse_application

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rendered}\ndata: {a: '1'}\n"
SERVING = re.compile(r"serving /metrics and /healthz on (\S+)")


async def test_a_render_s_ls_remote_and_fetch_are_counted_on_the_repo_server_s_metrics(tmp_path):
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    try:
        server = reposerver.repo_server(tmp_path / "rs", "--metrics-address", "127.0.0.1:0")
    except BaseException:
        repo.server.stop()  # a repo-server that did not start leaves no Git server behind
        raise
    client = RepoServerClient(server.url, server.token, lambda _a: repocreds.CredentialStore())
    try:
        app = parse_application(tetherenv.application("web", "tether", repo.url, "app", "web"))
        assert isinstance(await client.render_application(app), Rendered)
        found = SERVING.search(server.log_path.read_text())
        assert found, server.log_path.read_text()
        base = found.group(1)
        assert httpx2.get(f"{base}/healthz", timeout=10).text == "ok\n"
        text = httpx2.get(f"{base}/metrics", timeout=10).text
    finally:
        await client.aclose()
        server.stop()
        repo.server.stop()
    counts = {
        (s.name, s.labels.get("request_type")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.labels.get("repo") == repo.url
    }
    assert counts[("argocd_git_request_total", "ls-remote")] >= 1
    assert counts[("argocd_git_request_total", "fetch")] >= 1
    assert counts[("argocd_git_request_duration_seconds_count", "fetch")] >= 1


def test_without_a_metrics_address_the_repo_server_serves_no_metrics(tmp_path):
    server = reposerver.repo_server(tmp_path / "rs")
    try:
        assert "serving /metrics" not in server.log_path.read_text()
        assert httpx2.get(f"{server.url}/metrics", timeout=10).status_code == 404
    finally:
        server.stop()
