"""A repo-server's credentials live for one request, and concurrent requests never share them.

What the controller hands it: an app's Git entries, and the Helm ones its project may use.
"""

from __future__ import annotations

import asyncio

from tests.unit.model.examples import minimal_application
from tether.core.sources import repocreds
from tether.model.application import parse_application
from tether.services.credentials import RepoCredentials, RequestCredentials

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


def test_a_request_looks_up_helm_entries_apart_from_git_ones():
    helm = repocreds.RepoCredentials(
        url="registry.example/charts", type="helm", password="helm-pw", enable_oci=True
    )
    creds = RequestCredentials()
    with creds.scoped(repocreds.CredentialStore((helm,))):
        assert creds.lookup_helm("oci://registry.example/charts").password == "helm-pw"  # type: ignore[union-attr]
        assert creds.lookup("oci://registry.example/charts") is None


def helm_secret(name: str, url: str, project: str = "") -> dict[str, object]:
    data = {"type": "helm", "url": url, "password": f"{name}-pw"}
    if project:
        data["project"] = project
    return {
        "metadata": {
            "name": name,
            "namespace": "tether",
            "labels": {repocreds.SECRET_TYPE_LABEL: "repository"},
        },
        "stringData": data,
    }


def test_an_apps_render_carries_the_helm_repositories_its_project_may_use_and_no_others():
    credentials = RepoCredentials()
    credentials.load(
        [
            helm_secret("global", "https://charts.example"),
            helm_secret("mine", "registry.example/team-a", project="team-a"),
            helm_secret("theirs", "registry.example/team-b", project="team-b"),
        ]
    )
    app = minimal_application()
    app["spec"]["project"] = "team-a"
    sent = credentials.for_application(parse_application(app))
    assert sorted(c.source for c in sent.repositories) == ["tether/global", "tether/mine"]
    assert "theirs-pw" not in sent.secret_values()
