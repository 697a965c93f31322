"""A repo-server's credentials live for one request, and concurrent requests never share them."""

from __future__ import annotations

import asyncio

from tether.core.sources import repocreds
from tether.services.credentials import RequestCredentials

URL = "https://git.example/org/app.git"


def store(password: str) -> repocreds.CredentialStore:
    return repocreds.CredentialStore((repocreds.RepoCredentials(url=URL, password=password),))


def test_outside_a_request_there_are_no_credentials():
    creds = RequestCredentials()
    assert creds.lookup(URL) is None
    assert creds.secret_values() == frozenset()


def test_credentials_are_those_of_the_scope_and_gone_after_it():
    creds = RequestCredentials()
    with creds.scoped(store("first-password")):
        assert creds.lookup(URL).password == "first-password"  # type: ignore[union-attr]
        assert creds.secret_values() == {"first-password"}
    assert creds.lookup(URL) is None


async def test_two_requests_rendering_at_once_each_see_only_their_own_credentials():
    creds = RequestCredentials()
    seen: dict[str, list[str]] = {"a": [], "b": []}

    async def request(name: str) -> None:
        with creds.scoped(store(f"{name}-password")):
            for _ in range(5):
                await asyncio.sleep(0)
                found = creds.lookup(URL)
                seen[name].append(found.password if found else "")
                # Work handed to a thread (a tool run) carries the request's context too.
                in_thread = await asyncio.to_thread(creds.lookup, URL)
                seen[name].append(in_thread.password if in_thread else "")

    await asyncio.gather(request("a"), request("b"))
    assert set(seen["a"]) == {"a-password"}
    assert set(seen["b"]) == {"b-password"}
