"""The applications page's filters: read from the query string, sent to the API, kept in URLs."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request

from tether.ui.pages.applications import PAGE_SIZE, Filters


def request(pairs: list[tuple[str, str]]) -> Request:
    return Request({"type": "http", "query_string": urlencode(pairs).encode(), "headers": []})


def test_the_query_string_becomes_filters_and_unknown_statuses_and_views_are_dropped() -> None:
    filters = Filters.of(
        request(
            [
                ("project", "shop"),
                ("sync", "OutOfSync"),
                ("sync", "Bogus"),
                ("sync", "OutOfSync"),
                ("health", "Degraded"),
                ("labels", " team=ml "),
                ("view", "carousel"),
                ("continue", "tok"),
            ]
        )
    )
    assert filters.project == "shop"
    assert filters.sync == ("OutOfSync",)
    assert filters.health == ("Degraded",)
    assert filters.labels == "team=ml"
    assert filters.view == "tiles"
    assert filters.after == "tok"
    assert filters.narrowed
    assert not Filters(view="table", after="tok").narrowed


def test_the_api_is_asked_for_one_page_with_counts_and_only_the_filters_set() -> None:
    filters = Filters(
        project="shop",
        sync=("Synced", "OutOfSync"),
        labels="team=ml",
        cluster="prod",
        namespace="web",
        repo="https://git.test/a.git",
        search="api",
        after="tok",
    )
    assert filters.api_params() == {
        "limit": PAGE_SIZE,
        "counts": "true",
        "project": "shop",
        "sync": ["Synced", "OutOfSync"],
        "selector": "team=ml",
        "cluster": "prod",
        "destNamespace": "web",
        "repo": "https://git.test/a.git",
        "search": "api",
        "continue": "tok",
    }
    assert Filters().api_params() == {"limit": PAGE_SIZE, "counts": "true"}


def test_the_stream_is_narrowed_only_by_what_an_app_seldom_leaves() -> None:
    filters = Filters(project="shop", labels="team=ml", sync=("Synced",), search="web")
    assert filters.stream_url() == "/api/v1/stream/applications?project=shop&selector=team%3Dml"
    assert Filters(health=("Healthy",)).stream_url() == "/api/v1/stream/applications"


def test_a_url_keeps_every_filter_and_reads_back_the_same() -> None:
    filters = Filters(
        project="shop", sync=("OutOfSync",), health=("Degraded", "Missing"), labels="a in (b,c)",
        cluster="prod", namespace="web", repo="https://git.test/a.git", search="x&y",
        view="table", after="tok",
    )  # fmt: skip
    url = filters.url()
    assert url.startswith("/applications?")
    assert Filters.of(request_of_url(url)) == filters
    assert Filters().url() == "/applications"
    assert Filters(view="table").url() == "/applications?view=table"


def test_a_count_link_sets_that_status_alone_and_goes_back_to_the_first_page() -> None:
    filters = Filters(project="shop", sync=("Synced", "Unknown"), after="tok")
    assert filters.only_sync("OutOfSync") == "/applications?project=shop&sync=OutOfSync"
    assert filters.only_health("Healthy") == (
        "/applications?project=shop&sync=Synced&sync=Unknown&health=Healthy"
    )


def request_of_url(url: str) -> Request:
    query = url.partition("?")[2]
    return Request({"type": "http", "query_string": query.encode(), "headers": []})
