"""List queries over Application summaries, and the continue tokens that page through them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tether.core.app import listing
from tether.model.errors import InvalidInputError


def app(name: str, project: str | None = None, **labels: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "source": {"repoURL": "https://git.test/a.git"},
        "sources": [{"repoURL": "https://git.test/b.git"}],
    }
    if project:
        spec["project"] = project
    return {"metadata": {"name": name, "namespace": "tether", "labels": labels}, "spec": spec}


def test_a_summary_reads_the_project_default_labels_and_every_repository() -> None:
    summary = listing.summarize(app("web", team="shop"))
    assert summary.key == ("tether", "web")
    assert summary.project == "default"
    assert summary.labels == {"team": "shop"}
    assert summary.repos == {"https://git.test/a.git", "https://git.test/b.git"}


def test_every_field_of_a_query_must_hold() -> None:
    web = listing.summarize(app("Shop-Web", "shop", tier="web"))
    assert listing.query().matches(web)
    assert listing.query(projects=["blog", "shop"]).matches(web)
    assert not listing.query(projects=["blog"]).matches(web)
    assert listing.query(search="shop-w").matches(web)
    assert not listing.query(search="db").matches(web)
    assert listing.query(name="Shop-Web").matches(web)
    assert not listing.query(name="shop-web").matches(web)  # names are exact
    assert listing.query(repo="https://git.test/b.git").matches(web)
    assert not listing.query(repo="https://git.test/c.git").matches(web)
    assert listing.query(namespace="tether", selector="tier=web").matches(web)
    assert not listing.query(namespace="other").matches(web)
    assert not listing.query(projects=["shop"], selector="tier=db").matches(web)


def test_a_continue_token_resumes_after_the_key_it_names() -> None:
    token = listing.continue_token(("tether", "app-7"))
    assert listing.after_key(token) == ("tether", "app-7")
    assert listing.after_key("") is None


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"v":2,"after":["a","b"]}').decode(),
        base64.urlsafe_b64encode(b'{"v":1,"after":["a"]}').decode(),
        base64.urlsafe_b64encode(b'{"v":1,"after":["a",3]}').decode(),
        "A" * 5000,
    ],
)
def test_a_token_the_server_did_not_make_is_refused(token: str) -> None:
    with pytest.raises(InvalidInputError, match="continue token"):
        listing.after_key(token)


def deployed(
    name: str,
    sync: str | None = None,
    health: str | None = None,
    server: str = "https://kubernetes.default.svc",
    cluster_name: str = "",
    namespace: str = "shop",
) -> dict[str, Any]:
    body = app(name)
    destination = {"server": server, "namespace": namespace}
    if cluster_name:
        destination["name"] = cluster_name
    body["spec"]["destination"] = destination
    status: dict[str, Any] = {}
    if sync:
        status["sync"] = {"status": sync}
    if health:
        status["health"] = {"status": health}
    if status:
        body["status"] = status
    return body


def test_a_summary_reads_the_statuses_the_destination_and_unknown_before_any_comparison() -> None:
    summary = listing.summarize(deployed("web", "OutOfSync", "Degraded", cluster_name="prod"))
    assert (summary.sync, summary.health) == ("OutOfSync", "Degraded")
    assert summary.clusters == {"https://kubernetes.default.svc", "prod"}
    assert summary.destination_namespace == "shop"
    fresh = listing.summarize(app("new"))
    assert (fresh.sync, fresh.health) == ("Unknown", "Unknown")
    assert fresh.clusters == frozenset()
    assert fresh.destination_namespace == ""


def test_status_filters_pick_any_of_their_statuses() -> None:
    web = listing.summarize(deployed("web", "OutOfSync", "Progressing"))
    assert listing.query(syncs=["OutOfSync"]).matches(web)
    assert listing.query(syncs=["Synced", "OutOfSync"]).matches(web)
    assert not listing.query(syncs=["Synced"]).matches(web)
    assert listing.query(healths=["Degraded", "Progressing"]).matches(web)
    assert not listing.query(healths=["Healthy"]).matches(web)
    assert listing.query(syncs=[""], healths=[""]).matches(web)  # empty values select all
    assert not listing.query(syncs=["OutOfSync"], healths=["Healthy"]).matches(web)
    unknown = listing.summarize(app("new"))
    assert listing.query(syncs=["Unknown"], healths=["Unknown"]).matches(unknown)


def test_a_cluster_filter_matches_a_destination_by_any_name_of_its_cluster() -> None:
    by_name = listing.summarize(deployed("web", server="", cluster_name="prod"))
    by_server = listing.summarize(deployed("api", server="https://prod.example:6443"))
    assert listing.query(clusters=["prod"]).matches(by_name)
    assert not listing.query(clusters=["prod"]).matches(by_server)
    assert listing.query(clusters=["https://prod.example:6443"]).matches(by_server)
    assert not listing.query(clusters=["https://prod.example"]).matches(by_server)  # exact
    both = listing.query(clusters=["prod", "https://prod.example:6443"])
    assert both.matches(by_name) and both.matches(by_server)
    assert listing.query(clusters=[""]).matches(by_server)  # an empty value selects all


def test_a_destination_namespace_filter_is_exact_and_apart_from_the_apps_own_namespace() -> None:
    web = listing.summarize(deployed("web", namespace="shop"))
    assert listing.query(destination_namespace="shop").matches(web)
    assert not listing.query(destination_namespace="sho").matches(web)
    assert not listing.query(destination_namespace="tether").matches(web)
    assert listing.query(namespace="tether", destination_namespace="shop").matches(web)


def test_counts_tally_every_app_added_by_sync_and_by_health() -> None:
    counted = listing.Counts()
    for body in (
        deployed("a", "Synced", "Healthy"),
        deployed("b", "Synced", "Degraded"),
        deployed("c", "OutOfSync", "Healthy"),
        app("d"),
    ):
        counted.add(listing.summarize(body))
    assert counted.as_json() == {
        "total": 4,
        "sync": {"Synced": 2, "OutOfSync": 1, "Unknown": 1},
        "health": {"Healthy": 2, "Degraded": 1, "Unknown": 1},
    }
    assert listing.Counts().as_json() == {"total": 0, "sync": {}, "health": {}}
