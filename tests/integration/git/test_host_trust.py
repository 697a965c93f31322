"""Whom Git trusts, as the operator's ConfigMaps or mounted files say, changed while running.

Real sshd and git http-backend (behind a TLS front with a CA made by the test); one mirror cache
per test, never restarted: a change to the configuration applies to its next fetch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import tetherenv, tlsfront
from tether.adapters import configfiles
from tether.adapters.devcluster import pki
from tether.adapters.git import MirrorCache
from tether.core.config import system
from tether.core.sources import renderconfig
from tether.model.errors import GitError

from .conftest import GitServers
from .test_mirror_cache import credential_store, git_lookup

pytestmark = pytest.mark.timeout(90)


class Live:
    """The ConfigMaps as the controller's watcher holds them: parsed by ``system.parse``."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, str]] = {}
        self.current = system.parse({})

    def apply(self, name: str, data: dict[str, str] | None) -> list[str]:
        """A new version of ConfigMap ``name`` (``None``: deleted); returns its warnings."""
        if data is None:
            self.data.pop(name, None)
        else:
            self.data[name] = data
        self.current = system.parse(self.data)
        return list(self.current.warnings)

    def trust(self) -> renderconfig.HostTrust:
        return self.current.host_trust


@pytest.fixture
def https(tmp_path: Path, git_servers: GitServers) -> Iterator[tuple[tlsfront.TlsFront, str]]:
    """git http-backend over TLS on loopback, and the PEM of the CA that signed its certificate."""
    issued = pki.generate(tmp_path / "pki")
    front = tlsfront.TlsFront(
        git_servers.http.port, issued.path("apiserver.crt"), issued.path("apiserver.key")
    )
    with front:
        yield front, issued.path("ca.crt").read_text()


async def test_an_ssh_host_added_to_argocd_ssh_known_hosts_cm_is_trusted_without_a_restart(
    tmp_path, git_servers
):
    config = Live()
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers)),
        trust=config.trust,
        timeout=30,
    )
    with pytest.raises(GitError, match="SSH host key is not trusted") as caught:
        await cache.resolve(git_servers.ssh_url, "main", refresh=True)
    assert "argocd-ssh-known-hosts-cm" in str(caught.value)
    assert git_servers.ssh_url in str(caught.value)

    warnings = config.apply(
        "argocd-ssh-known-hosts-cm",
        {"ssh_known_hosts": "# the operator's hosts\n" + git_servers.ssh.known_hosts},
    )
    assert warnings == []
    assert (
        await cache.resolve(git_servers.ssh_url, "main", refresh=True)
        == (git_servers.seed.shas["c5"])
    )

    config.apply("argocd-ssh-known-hosts-cm", None)  # deleted: nothing is trusted again
    with pytest.raises(GitError, match="SSH host key is not trusted"):
        await cache.resolve(git_servers.ssh_url, "main", refresh=True)


async def test_a_malformed_known_hosts_line_is_warned_about_and_the_others_still_apply(
    tmp_path, git_servers
):
    config = Live()
    text = "not a key line\n" + git_servers.ssh.known_hosts
    warnings = config.apply("argocd-ssh-known-hosts-cm", {"ssh_known_hosts": text, "extra": "x"})
    assert warnings == [
        "argocd-ssh-known-hosts-cm extra: unknown key; ignored",
        "argocd-ssh-known-hosts-cm ssh_known_hosts line 1: not 'hosts keytype key'; ignored",
    ]
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers)),
        trust=config.trust,
        timeout=30,
    )
    assert await cache.resolve(git_servers.ssh_url, "main") == git_servers.seed.shas["c5"]


async def test_an_https_server_is_trusted_once_its_ca_is_in_argocd_tls_certs_cm(tmp_path, https):
    front, ca = https
    url = front.url("git/public/app.git")
    config = Live()
    cache = MirrorCache(str(tmp_path / "cache"), trust=config.trust, timeout=30)
    with pytest.raises(GitError, match="TLS certificate is not trusted") as caught:
        await cache.resolve(url, "main", refresh=True)
    assert "argocd-tls-certs-cm" in str(caught.value)

    # A CA for another host changes nothing for this one.
    assert config.apply("argocd-tls-certs-cm", {"git.example.com": ca}) == []
    with pytest.raises(GitError, match="TLS certificate is not trusted"):
        await cache.resolve(url, "main", refresh=True)

    config.apply("argocd-tls-certs-cm", {"127.0.0.1": ca})
    assert len(await cache.resolve(url, "main", refresh=True)) == 40


async def test_a_ca_that_did_not_sign_the_servers_certificate_is_not_trusted(tmp_path, https):
    front, _ = https
    other = pki.generate(tmp_path / "other-pki").path("ca.crt").read_text()
    config = Live()
    config.apply("argocd-tls-certs-cm", {"127.0.0.1": other})
    cache = MirrorCache(str(tmp_path / "cache"), trust=config.trust, timeout=30)
    with pytest.raises(GitError, match="TLS certificate is not trusted"):
        await cache.resolve(front.url("git/public/app.git"), "main")


async def test_a_repo_servers_mounted_files_are_read_again_when_the_configmap_changes(
    tmp_path, git_servers, https
):
    front, ca = https
    known = tmp_path / "known-hosts-cm"
    certs = tmp_path / "tls-certs-cm"
    tetherenv.mounted_configmap(known, {"ssh_known_hosts": ""})
    tetherenv.mounted_configmap(certs, {"git.example.com": ca})
    trust = configfiles.host_trust(str(known / "ssh_known_hosts"), str(certs))
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers)),
        trust=trust,
        timeout=30,
    )
    https_url = front.url("git/public/app.git")
    with pytest.raises(GitError, match="SSH host key is not trusted"):
        await cache.resolve(git_servers.ssh_url, "main", refresh=True)
    with pytest.raises(GitError, match="TLS certificate is not trusted"):
        await cache.resolve(https_url, "main", refresh=True)

    tetherenv.mounted_configmap(known, {"ssh_known_hosts": git_servers.ssh.known_hosts})
    tetherenv.mounted_configmap(certs, {"127.0.0.1": ca})
    assert (
        await cache.resolve(git_servers.ssh_url, "main", refresh=True)
        == (git_servers.seed.shas["c5"])
    )
    assert len(await cache.resolve(https_url, "main", refresh=True)) == 40


def test_a_tls_certs_file_named_with_a_port_is_refused_with_a_warning(tmp_path, caplog):
    certs = tmp_path / "tls"
    certs.mkdir()
    (certs / "git.example.com:8443").write_text("-----BEGIN CERTIFICATE-----\nAA==\n")
    (certs / "empty.example.com").write_text("nothing here\n")
    trust = configfiles.host_trust("", str(certs))()
    assert trust.tls_certs == {}
    assert "'git.example.com:8443': the key is a host name without a port" in caplog.text
    assert "'empty.example.com': holds no PEM certificate" in caplog.text
