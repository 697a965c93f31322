"""A commit's author, date, tags and message over the API, read from a real Git server."""

from __future__ import annotations

from pathlib import Path

import pytest
from lightkube import Client

from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: '%s'}\n"


def metadata_path(revision: str) -> str:
    return f"/api/v1/applications/web/revisions/{revision}/metadata"


async def test_a_commit_the_app_recorded_is_described_and_nothing_else_is_looked_up(
    api_server: ApiServer, kube: Client, tmp_path: Path
) -> None:
    ns = api_server.namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % "1"})
    try:
        first = repo.seed.shas["initial"]
        second = repo.seed.commit(
            "second", {"app/cm.yaml": CM % "2"}, "Raise a to 2\n\nThe body explains why."
        )
        repo.seed.tag("v2.0.0", "second")
        repo.seed.publish(repo.root / repo.name)
        unrecorded = repo.commit({"app/cm.yaml": CM % "3"}, "third")
        body = tetherenv.application("web", ns, repo.url, "app", ns)
        body["status"] = {
            "sync": {"status": "Synced", "revision": second},
            "history": [{"id": 0, "revision": first, "deployedAt": "2026-01-01T00:00:00Z"}],
        }
        tetherenv.create(kube, body)
        reader = await api_server.user("alice", ("get", "default/*"))
        stranger = await api_server.user("bob")
        async with api_server.client(reader) as client, api_server.client(stranger) as bob:
            answer = await client.get(metadata_path(second), params={"appNamespace": ns})
            assert answer.status_code == 200, answer.text
            assert answer.json() == {
                "author": "tether tests <tests@tether.invalid>",
                "date": "2026-01-01T00:00:00Z",
                "message": "Raise a to 2\n\nThe body explains why.",
                "tags": ["v2.0.0"],
            }
            # A commit from the history is described too.
            older = await client.get(metadata_path(first), params={"appNamespace": ns})
            assert older.status_code == 200, older.text
            assert older.json()["message"] == "initial"
            assert "tags" not in older.json()

            # A commit the app never recorded is not looked up, though the repository has it.
            unknown = await client.get(metadata_path(unrecorded), params={"appNamespace": ns})
            assert unknown.status_code == 404
            # Names, short SHAs and would-be flags are refused before any Git call.
            for revision in ("main", second[:7], "--upload-pack=touch"):
                refused = await client.get(metadata_path(revision), params={"appNamespace": ns})
                assert refused.status_code == 400, revision
            # A caller who may not see the app cannot tell it exists.
            hidden = await bob.get(metadata_path(second), params={"appNamespace": ns})
            assert hidden.status_code == 403
    finally:
        repo.server.stop()
