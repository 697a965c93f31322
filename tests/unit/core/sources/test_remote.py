"""Remote references: which host a reference names, which hosts are allowed, which never."""

from __future__ import annotations

import ipaddress

import pytest

from tether.core.sources import remote
from tether.core.sources.remote import RemotePolicy
from tether.model.errors import InvalidInputError


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        ("https://github.com/org/repo//path?ref=v1", "github.com"),
        ("https://user:token@git.example.com/x.git", "git.example.com"),
        ("git@github.com:org/repo.git", "github.com"),
        ("ssh://git@host.example:2222/repo", "host.example"),
        ("github.com/org/repo/config", "github.com"),
        ("../base", None),
        ("overlays/prod", None),
        ("values.yaml", None),
        ("/abs/path", None),
    ],
)
def test_the_host_a_reference_names(reference: str, host: str | None) -> None:
    assert remote.host_of(reference) == host


def resolver(table: dict[str, list[str]]):
    return lambda host: table.get(host, [])


def test_a_listed_host_that_resolves_somewhere_ordinary_passes() -> None:
    policy = RemotePolicy(hosts=("*.example.com",))
    remote.check_reference(
        "https://git.example.com/r//base",
        policy,
        resolver({"git.example.com": ["93.184.216.34"]}),
        field="f",
    )


def test_an_unlisted_host_is_refused_by_name_without_its_credentials() -> None:
    with pytest.raises(InvalidInputError) as caught:
        remote.check_reference(
            "https://bob:pw@evil.example/x",
            RemotePolicy(hosts=("github.com",)),
            resolver({}),
            field="f",
        )
    assert "'evil.example'" in str(caught.value) and "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fe80::1", "100.100.100.200", "0.0.0.0", "::ffff:169.254.1.1"]
)
def test_metadata_link_local_and_unroutable_addresses_are_never_reached(address: str) -> None:
    everything = RemotePolicy(hosts=("*",), allow_loopback=True)
    with pytest.raises(InvalidInputError, match="resolves to"):
        remote.check_reference(
            "http://sneaky.example/x",
            everything,
            resolver({"sneaky.example": [address]}),
            field="f",
        )


def test_loopback_only_when_allowed() -> None:
    loop = ipaddress.ip_address("127.0.0.1")
    assert remote.forbidden(loop, RemotePolicy()) == "a loopback"
    assert remote.forbidden(loop, RemotePolicy(allow_loopback=True)) == ""


def test_metadata_host_names_are_refused_whatever_they_resolve_to() -> None:
    with pytest.raises(InvalidInputError, match="cloud metadata"):
        remote.refuse_address("metadata.google.internal", ["10.0.0.1"], RemotePolicy(), "f")
