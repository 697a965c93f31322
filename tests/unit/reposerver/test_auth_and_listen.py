"""Only the holder of the repo-server's token may render; where it listens is parsed strictly."""

from __future__ import annotations

import pytest

from tether.bootstrap import Listen
from tether.reposerver import auth

TOKEN = b"0123456789abcdef0123456789abcdef"


def test_the_right_bearer_token_is_accepted_whatever_the_schemes_case():
    assert auth.bearer_matches("Bearer " + TOKEN.decode(), TOKEN)
    assert auth.bearer_matches("bearer " + TOKEN.decode(), TOKEN)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer " + TOKEN.decode()[:-1],
        "Bearer " + TOKEN.decode() + "0",
        "Bearer " + TOKEN.decode().upper(),
        "Basic " + TOKEN.decode(),
        TOKEN.decode(),
        "Bearer \udcff" + TOKEN.decode(),
    ],
)
def test_a_missing_or_wrong_token_is_refused(header):
    assert not auth.bearer_matches(header, TOKEN)


def test_no_header_matches_an_empty_token():
    assert not auth.bearer_matches("Bearer ", b"")
    assert not auth.bearer_matches("Bearer x", b"")


@pytest.mark.parametrize(
    ("address", "host", "port"),
    [
        ("127.0.0.1:8081", "127.0.0.1", 8081),
        ("127.0.0.1:0", "127.0.0.1", 0),
        ("[::1]:9000", "::1", 9000),
        ("localhost:1", "localhost", 1),
    ],
)
def test_a_listen_address_is_host_and_port(address, host, port):
    parsed = Listen.parse(address)
    assert (parsed.host, parsed.port, parsed.scheme) == (host, port, "http")


@pytest.mark.parametrize("address", ["8081", ":8081", "127.0.0.1:", "127.0.0.1:http", "h:70000"])
def test_a_listen_address_without_host_or_port_is_refused(address):
    with pytest.raises(ValueError, match="HOST:PORT"):
        Listen.parse(address)


def test_tls_needs_both_a_certificate_and_its_key():
    assert Listen.parse("127.0.0.1:0", "c.pem", "k.pem").scheme == "https"
    with pytest.raises(ValueError, match="both"):
        Listen.parse("127.0.0.1:0", "c.pem", "")
    with pytest.raises(ValueError, match="both"):
        Listen.parse("127.0.0.1:0", "", "k.pem")
