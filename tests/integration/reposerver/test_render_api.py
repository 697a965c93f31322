"""The repo-server's HTTP API, spoken to as a controller would and as an attacker would."""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx2
import orjson
import pytest

from tests.support import reposerver, tetherenv
from tether.adapters.devcluster import pki
from tether.adapters.reposerver import RepoServerClient
from tether.core.sources import repocreds
from tether.core.sources.rendered import Rendered, RenderFailed
from tether.model.application import parse_application
from tether.model.errors import GitError
from tether.reposerver.app import MAX_BODY_BYTES

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rendered}\ndata: {a: '1'}\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[reposerver.RepoServer]:
    started = reposerver.repo_server(tmp_path_factory.mktemp("repo-server"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tetherenv.ServedRepo]:
    served = tetherenv.serve_repo(tmp_path_factory.mktemp("git"), {"app/cm.yaml": CM})
    try:
        yield served
    finally:
        served.server.stop()


def app_for(repo: tetherenv.ServedRepo):
    return parse_application(tetherenv.application("web", "tether", repo.url, "app", "web"))


def no_credentials(_app: object) -> repocreds.CredentialStore:
    return repocreds.CredentialStore()


def post(server: reposerver.RepoServer, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    return httpx2.post(f"{server.url}/v1/render", content=body, headers=headers, timeout=30)


def raw_exchange(server: reposerver.RepoServer, head: bytes, body_chunks: Iterator[bytes]) -> bytes:
    """Send a request by hand (headers, then chunks) and read the whole answer."""
    parts = urllib.parse.urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            sock.sendall(chunk)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return answer
            answer += data


def test_health_needs_no_token_and_says_ok(server):
    response = httpx2.get(f"{server.url}/healthz", timeout=10)
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789abcdef", "Basic dXNlcjpwYXNz", "Bearer"],
)
def test_a_render_without_the_token_is_refused_with_401_and_no_detail(server, repo, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    body = orjson.dumps({"application": app_for(repo).to_manifest()})
    response = post(server, body, headers)
    assert response.status_code == 401
    assert response.content == b""


def test_no_api_schema_or_docs_page_is_served(server):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx2.get(f"{server.url}{path}", timeout=10).status_code == 404


def test_a_body_declared_over_8_mib_is_refused_with_413_before_any_of_it_is_read(server):
    head = (
        b"POST /v1/render HTTP/1.1\r\nHost: repo-server\r\n"
        + f"Authorization: Bearer {server.token}\r\n".encode()
        + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n".encode()
        + b"Content-Type: application/json\r\n\r\n"
    )
    answer = raw_exchange(server, head, iter(()))
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_chunked_body_growing_past_8_mib_is_refused_with_413(server):
    head = (
        b"POST /v1/render HTTP/1.1\r\nHost: repo-server\r\n"
        + f"Authorization: Bearer {server.token}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    )
    piece = b"x" * (1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // len(piece)):
            yield b"%x\r\n%s\r\n" % (len(piece), piece)
        yield b"1\r\nx\r\n"  # one byte over: no terminating chunk, the server stops reading

    answer = raw_exchange(server, head, chunks())
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_malformed_request_gets_400_naming_the_field_not_its_value(server, repo):
    body = orjson.dumps(
        {
            "application": app_for(repo).to_manifest(),
            "credentials": {"repositories": [{"url": repo.url, "password": 1234567}]},
        }
    )
    response = post(server, body, {"Authorization": f"Bearer {server.token}"})
    assert response.status_code == 400
    assert "credentials.repositories[0].password" in response.json()["error"]
    assert "1234567" not in response.text


async def test_the_client_renders_an_app_at_its_resolved_commit(server, repo):
    client = RepoServerClient(server.url, server.token, no_credentials)
    try:
        result = await client.render_application(app_for(repo))
    finally:
        await client.aclose()
    assert isinstance(result, Rendered), result
    assert [m["metadata"]["name"] for m in result.manifests] == ["rendered"]
    assert result.revisions == (repo.seed.shas["initial"],)


async def test_the_client_reads_a_commits_metadata_through_the_repo_server(server, repo):
    client = RepoServerClient(server.url, server.token, no_credentials)
    try:
        found = await client.revision_metadata(app_for(repo), repo.seed.shas["initial"])
        with pytest.raises(GitError, match="not found"):
            await client.revision_metadata(app_for(repo), "0" * 40)
        with pytest.raises(GitError, match="source index 3"):
            await client.revision_metadata(app_for(repo), "0" * 40, source_index=3)
    finally:
        await client.aclose()
    assert found.author == "tether tests <tests@tether.invalid>"
    assert (found.date, found.message) == ("2026-01-01T00:00:00Z", "initial")


async def test_a_refused_token_is_a_render_failure_that_does_not_show_the_token(server, repo):
    wrong = "wrong-token-0123456789abcdef-canary"
    client = RepoServerClient(server.url, wrong, no_credentials)
    try:
        result = await client.render_application(app_for(repo))
    finally:
        await client.aclose()
    assert isinstance(result, RenderFailed)
    assert not result.invalid_input
    assert "401" in result.message and server.url in result.message
    assert wrong not in result.message


async def test_an_unreachable_repo_server_is_a_render_failure_naming_its_url(repo):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        token = "token-canary-0123456789abcdef"
        client = RepoServerClient(url, token, no_credentials)
        try:
            result = await client.render_application(app_for(repo))
        finally:
            await client.aclose()
    assert isinstance(result, RenderFailed)
    assert not result.invalid_input
    assert f"repo-server {url}: unreachable" in result.message
    assert token not in result.message


async def test_a_repo_server_over_tls_is_trusted_with_its_ca_and_refused_without(
    tmp_path: Path, repo
):
    certs = pki.generate(tmp_path / "pki")
    tls = reposerver.repo_server(
        tmp_path / "tls",
        "--tls-cert",
        str(certs.path("apiserver.crt")),
        "--tls-key",
        str(certs.path("apiserver.key")),
    )
    try:
        assert tls.url.startswith("https://")
        trusted = RepoServerClient(
            tls.url, tls.token, no_credentials, ca_file=str(certs.path("ca.crt"))
        )
        untrusted = RepoServerClient(tls.url, tls.token, no_credentials)
        try:
            good = await trusted.render_application(app_for(repo))
            bad = await untrusted.render_application(app_for(repo))
        finally:
            await trusted.aclose()
            await untrusted.aclose()
    finally:
        tls.stop()
    assert isinstance(good, Rendered), good
    assert isinstance(bad, RenderFailed)
    assert "TLS handshake failed" in bad.message
    assert tls.token not in tls.output()
