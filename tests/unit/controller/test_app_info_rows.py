"""``argocd_app_info`` at a scrape parses only the Applications that changed since the last one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from tether import bootstrap
from tether.controller import collector
from tether.controller.loop import Controller
from tether.model.application import parse_application
from tether.model.resources import ResourceKey


def _app(name: str, version: str, sync: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "apps", "resourceVersion": version},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            "source": {"repoURL": "https://git.test/r.git", "path": "app"},
        },
        "status": {"sync": {"status": sync}},
    }


class _Live:
    def __init__(self, *apps: dict[str, Any]) -> None:
        self.apps = {
            ResourceKey("argoproj.io", "Application", "apps", a["metadata"]["name"]): a
            for a in apps
        }

    def keys_of(self, _group_kind: Any) -> list[ResourceKey]:
        return list(self.apps)

    def manifest(self, key: ResourceKey) -> dict[str, Any] | None:
        return self.apps.get(key)


def _rows(scraper: collector.ArgoCollector) -> list[tuple[str, ...]]:
    return list(scraper._info_rows())  # the family's rows, without prometheus


def test_a_scrape_parses_again_only_the_apps_whose_resource_version_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []

    def counting(obj: dict[str, Any]) -> Any:
        parsed.append(obj["metadata"]["name"])
        return parse_application(obj)

    monkeypatch.setattr(collector, "parse_application", counting)
    live = _Live(_app("a", "1", "Synced"), _app("b", "1", "OutOfSync"))
    scraper = collector.ArgoCollector(
        cast(Controller, None), cast(bootstrap.Runtime, SimpleNamespace(live=live))
    )
    first = _rows(scraper)
    assert [(r[1], r[7]) for r in first] == [("a", "Synced"), ("b", "OutOfSync")]
    assert parsed == ["a", "b"]

    live.apps[ResourceKey("argoproj.io", "Application", "apps", "b")] = _app("b", "2", "Synced")
    del live.apps[ResourceKey("argoproj.io", "Application", "apps", "a")]
    assert [(r[1], r[7]) for r in _rows(scraper)] == [("b", "Synced")]
    assert parsed == ["a", "b", "b"]
    assert _rows(scraper) == [(*first[1][:7], "Synced", *first[1][8:])]
    assert parsed == ["a", "b", "b"]
