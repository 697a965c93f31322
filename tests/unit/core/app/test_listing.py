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
