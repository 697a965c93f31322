"""Dependencies between Applications: the annotation, the readiness rule and cycles."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.app import dependencies
from tether.core.app.dependencies import AppRef
from tether.model.application import Application, parse_application
from tether.model.errors import InvalidInputError

SOURCE = {"repoURL": "https://git.example/repo.git", "path": "app", "targetRevision": "main"}
DEST = {"server": "https://kubernetes.default.svc", "namespace": "web"}
READY: dict[str, Any] = {
    "sync": {"status": "Synced", "comparedTo": {"source": SOURCE, "destination": DEST}},
    "health": {"status": "Healthy"},
}


def app(
    name: str,
    depends_on: str | None = None,
    *,
    namespace: str = "apps",
    project: str = "default",
    status: dict[str, Any] | None = None,
    **extra: Any,
) -> Application:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if depends_on is not None:
        metadata["annotations"] = {dependencies.ANNOTATION: depends_on}
    obj: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {**metadata, **extra.pop("metadata", {})},
        "spec": {"project": project, "source": SOURCE, "destination": DEST},
        "status": READY if status is None else status,
        **extra,
    }
    return parse_application(obj)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("a", (("apps", "a"),)),
        (" a , other/b ", (("apps", "a"), ("other", "b"))),
        ("a, a, apps/a", (("apps", "a"),)),
        ("a,", (("apps", "a"),)),
        ("my.app-1", (("apps", "my.app-1"),)),
    ],
)
def test_the_annotation_names_apps_in_the_same_namespace_unless_it_says_another(value, expected):
    assert dependencies.parse(value, namespace="apps", app="me") == expected


@pytest.mark.parametrize(
    "value",
    ["A", "a/b/c", "/a", "a/", "ns_x/a", "-a", "a b", "x" * 254, f"{'n' * 64}/a", "a;rm"],
)
def test_a_bad_annotation_value_is_an_error_naming_the_app_and_the_value(value):
    with pytest.raises(InvalidInputError) as err:
        dependencies.parse(value, namespace="apps", app="me")
    message = str(err.value)
    assert "Application apps/me" in message
    assert dependencies.ANNOTATION in message
    assert repr(value.strip())[:40].rstrip("'") in message


def test_more_dependencies_than_the_limit_are_refused():
    value = ",".join(f"a{i}" for i in range(dependencies.MAX_ENTRIES + 1))
    with pytest.raises(InvalidInputError, match="more than"):
        dependencies.parse(value, namespace="apps", app="me")


def graph(**deps: str) -> Any:
    edges = {("apps", k): tuple(("apps", v) for v in vs.split()) for k, vs in deps.items()}
    return lambda ref: edges.get(ref, ())


def names(cycle: tuple[AppRef, ...] | None) -> list[str] | None:
    return None if cycle is None else [name for _, name in cycle]


@pytest.mark.parametrize(
    ("edges", "start", "expected"),
    [
        ({"a": ""}, "a", None),
        ({"a": "b", "b": "c"}, "a", None),
        ({"a": "a"}, "a", ["a", "a"]),
        ({"a": "b", "b": "a"}, "a", ["a", "b", "a"]),
        ({"a": "b", "b": "c", "c": "a"}, "b", ["b", "c", "a", "b"]),
        # A cycle further on blocks the app behind it too.
        ({"a": "b", "b": "c", "c": "b"}, "a", ["b", "c", "b"]),
        # A diamond is no cycle.
        ({"a": "b c", "b": "d", "c": "d"}, "a", None),
        ({"a": "b c", "b": "d", "c": "d", "d": "c"}, "a", ["d", "c", "d"]),
        # Missing apps end a path.
        ({"a": "ghost"}, "a", None),
    ],
)
def test_cycles_are_found_with_the_path_that_closes_them(edges, start, expected):
    assert names(dependencies.find_cycle(("apps", start), graph(**edges))) == expected


def test_a_long_chain_is_searched_without_recursion():
    chain = {f"n{i}": f"n{i + 1}" for i in range(1500)}
    assert dependencies.find_cycle(("apps", "n0"), graph(**chain)) is None
    chain["n1500"] = "n0"
    cycle = dependencies.find_cycle(("apps", "n0"), graph(**chain))
    assert cycle is not None and len(cycle) == 1502


def test_a_cycle_is_described_with_other_namespaces_qualified():
    cycle = (("apps", "a"), ("infra", "b"), ("apps", "a"))
    assert dependencies.describe_cycle(cycle, "apps") == "dependency cycle: a -> infra/b -> a"


OTHER_SOURCE = {**SOURCE, "path": "elsewhere"}


@pytest.mark.parametrize(
    ("dependency", "reason"),
    [
        (app("a"), ""),
        (None, "not found"),
        (app("a", project="other"), "not found"),
        (app("a", metadata={"deletionTimestamp": "2026-12-08T00:00:00Z"}), "being deleted"),
        (app("a", operation={"sync": {}}), "syncing"),
        (app("a", status={**READY, "operationState": {"phase": "Running"}}), "syncing"),
        (app("a", status={**READY, "operationState": {"phase": "Failed"}}), ""),
        (app("a", status={"health": {"status": "Healthy"}}), "not compared"),
        (
            app(
                "a",
                status={
                    **READY,
                    "sync": {
                        "status": "Synced",
                        "comparedTo": {"source": OTHER_SOURCE, "destination": DEST},
                    },
                },
            ),
            "not compared",
        ),
        (app("a", status={**READY, "health": {"status": "Progressing"}}), "Synced, Progressing"),
        (
            app("a", status={**READY, "sync": {**READY["sync"], "status": "OutOfSync"}}),
            "OutOfSync, Healthy",
        ),
        (app("a", status={"sync": READY["sync"]}), "Synced, Unknown"),
    ],
)
def test_a_dependency_is_ready_once_compared_with_its_spec_synced_and_healthy(dependency, reason):
    found = dependencies.waiting_reason(dependency, project="default")
    assert found.startswith(reason) and bool(found) == bool(reason)


def reader(*apps: Application) -> Any:
    found = {(a.namespace, a.name): a for a in apps}
    return found.get


def test_an_app_without_the_annotation_goes_on():
    assert dependencies.check(app("a"), reader()).goes_on


def test_an_app_waits_for_each_dependency_not_ready_and_names_it():
    me = app("c", "a, b, infra/x")
    slow = app("b", status={**READY, "health": {"status": "Progressing"}})
    verdict = dependencies.check(me, reader(app("a"), slow))
    assert not verdict.refused
    assert verdict.waiting == "Waiting for b (Synced, Progressing), infra/x (not found)"


def test_a_self_dependency_and_a_longer_cycle_are_refused_naming_the_cycle():
    assert dependencies.check(app("a", "a"), reader()).refused == "dependency cycle: a -> a"
    a, b = app("a", "b"), app("b", "a")
    assert dependencies.check(a, reader(a, b)).refused == "dependency cycle: a -> b -> a"


def test_a_cycle_through_another_project_is_not_followed():
    a, b = app("a", "b"), app("b", "a", project="other")
    verdict = dependencies.check(a, reader(a, b))
    assert verdict.waiting == "Waiting for b (not found)"


def test_a_bad_annotation_refuses_the_operation_and_one_on_a_dependency_counts_as_none():
    assert "'Bad'" in dependencies.check(app("a", "Bad"), reader()).refused
    verdict = dependencies.check(app("a", "b"), reader(app("b", "Bad")))
    assert verdict.goes_on


def test_the_neighbours_are_what_an_app_waits_for_and_what_waits_for_it_in_its_project():
    me = app("b", "a, ghost")
    others = [
        app("a", status={**READY, "health": {"status": "Degraded"}}),
        app("c", "b"),
        app("d", "apps/b", namespace="apps"),
        app("e", "b", project="other"),
        app("f", "Bad/Bad/Bad"),
        me,
    ]
    waits_for, needed_by = dependencies.neighbours(me, others)
    assert [(n.ref[1], n.waiting) for n in waits_for] == [
        ("a", "Synced, Degraded"),
        ("ghost", "not found"),
    ]
    assert [n.ref[1] for n in needed_by] == ["c", "d"]
