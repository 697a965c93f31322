"""The fail-safe plan: what a pass creates, updates and deletes, and what it withholds."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.appsets import plan


def app(name: str, path: str = "p") -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"source": {"path": path}}}


def wanted(*names: str) -> list[plan.Wanted]:
    return [plan.Wanted(n, app(n)) for n in names]


def owned(*names: str) -> dict[str, dict[str, Any]]:
    return {n: app(n) for n in names}


def conditions(p: plan.Plan) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in p.conditions}


def test_an_error_changes_nothing_and_says_so_with_a_fixed_requeue() -> None:
    p = plan.error_plan("RenderTemplateParamsError", "template: bad")
    assert (p.creates, p.updates, p.deletes) == ((), (), ())
    assert conditions(p) == {
        "ErrorOccurred": ("True", "RenderTemplateParamsError"),
        "ParametersGenerated": ("False", "ErrorOccurred"),
        "ResourcesUpToDate": ("False", "ErrorOccurred"),
    }
    assert p.requeue_s == plan.ERROR_REQUEUE_S


def test_sync_creates_new_apps_updates_changed_ones_and_deletes_one_dropped() -> None:
    live = owned("a", "b", "c")
    live["b"]["spec"]["source"]["path"] = "old"
    p = plan.plan(wanted("a", "b", "d"), {**live, "c": app("c")}, policy="sync", annotations={})
    assert [m["metadata"]["name"] for m in p.creates] == ["d"]
    assert [m["metadata"]["name"] for m in p.updates] == ["b"]
    assert p.deletes == ("c",)
    assert conditions(p)["ResourcesUpToDate"] == ("True", "ApplicationSetUpToDate")
    assert p.generated == ("a", "b", "d")


@pytest.mark.parametrize(
    ("policy", "updates", "deletes"),
    [
        ("create-only", False, False),
        ("create-update", True, False),
        ("create-delete", False, True),
        ("sync", True, True),
    ],
)
def test_each_policy_allows_only_its_writes(policy: str, updates: bool, deletes: bool) -> None:
    live = owned("a", "b", "gone")
    live["a"]["spec"]["source"]["path"] = "old"
    p = plan.plan(wanted("a", "b", "new"), live, policy=policy, annotations={})
    assert len(p.creates) == 1
    assert bool(p.updates) is updates
    assert p.deletes == (("gone",) if deletes else ())
    assert p.withheld == (() if deletes else ("gone",))


def test_zero_apps_generated_deletes_nothing_unless_the_set_allows_it() -> None:
    p = plan.plan([], owned("a", "b"), policy="sync", annotations={})
    assert p.deletes == ()
    assert p.withheld == ("a", "b")
    status, reason = conditions(p)["ResourcesUpToDate"]
    assert (status, reason) == ("False", "DeletionWithheld")
    message = next(c.message for c in p.conditions if c.reason == "DeletionWithheld")
    assert plan.ALLOW_EMPTY in message
    allowed = plan.plan([], owned("a", "b"), policy="sync", annotations={plan.ALLOW_EMPTY: "true"})
    assert allowed.deletes == ("a", "b")


def test_a_much_smaller_result_deletes_nothing_unless_the_set_allows_mass_deletion() -> None:
    live = owned("a", "b", "c", "d")
    p = plan.plan(wanted("a"), live, policy="sync", annotations={})
    assert p.deletes == ()
    assert p.withheld == ("b", "c", "d")
    assert conditions(p)["ResourcesUpToDate"] == ("False", "DeletionWithheld")
    opt_in = {plan.ALLOW_MASS_DELETION: "true"}
    assert plan.plan(wanted("a"), live, policy="sync", annotations=opt_in).deletes == (
        "b",
        "c",
        "d",
    )


def test_up_to_half_of_the_apps_or_a_single_one_may_go_in_one_pass() -> None:
    assert plan.plan(
        wanted("a", "b"), owned("a", "b", "c", "d"), policy="sync", annotations={}
    ).deletes == ("c", "d")
    assert plan.plan(wanted("new"), owned("old"), policy="sync", annotations={}).deletes == ("old",)


def test_invalid_apps_are_skipped_never_deleted_and_reported_with_a_count() -> None:
    generated = [
        plan.Wanted("a", app("a")),
        plan.Wanted("b", app("b"), invalid="project 'x' does not exist"),
        plan.Wanted("c", app("c"), invalid="project 'y' does not exist"),
    ]
    p = plan.plan(generated, owned("a", "b"), policy="sync", annotations={})
    assert p.creates == ()
    assert p.deletes == ()
    assert conditions(p)["ErrorOccurred"] == ("True", "ApplicationValidationError")
    message = next(c.message for c in p.conditions if c.type == "ErrorOccurred")
    assert message == "project 'y' does not exist (and 1 more)"
    assert p.requeue_s == plan.ERROR_REQUEUE_S


def test_an_unknown_policy_is_refused_and_the_default_is_sync() -> None:
    assert plan.policy_of({}) == "sync"
    assert plan.policy_of({"syncPolicy": {"applicationsSync": "create-only"}}) == "create-only"
    with pytest.raises(ValueError, match="'delete-all' is not one of"):
        plan.policy_of({"syncPolicy": {"applicationsSync": "delete-all"}})


def test_ignored_pointers_and_extra_live_labels_are_no_difference() -> None:
    want = {"metadata": {"labels": {"a": "1"}}, "spec": {"syncPolicy": {"automated": {}}, "x": 1}}
    live = {"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"x": 1}}
    assert not plan.differs(want, live, ["/spec/syncPolicy"])
    assert plan.differs(want, live)


def test_preserving_resources_drops_only_the_resources_finalizers() -> None:
    template = ["resources-finalizer.argocd.argoproj.io", "example.com/keep"]
    assert plan.finalizers(template, preserve=True) == ["example.com/keep"]
    assert plan.finalizers(template, preserve=False) == template
