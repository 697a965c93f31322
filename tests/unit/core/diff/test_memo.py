"""The comparison memo: a hit only when nothing ``compare`` reads has changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tether.core.diff import diff, ignore, normalize, tracking
from tether.core.diff.diff import DiffOptions
from tether.core.diff.ignore import IgnoreRule

from .support import local_jq


def deployment(replicas: int = 3, *, version: str = "100") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "shop", "uid": "u-1"}
    if version:
        meta["resourceVersion"] = version
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "c"}]}}},
    }


def memoised(memo: diff.Memo, desired: Any, live: Any, **kwargs: Any) -> diff.ResourceDiff:
    return diff.compare_memoised(memo, desired, live, jq=local_jq, **kwargs)


def test_an_unchanged_pair_is_answered_from_the_memo() -> None:
    memo: diff.Memo = {}
    first = memoised(memo, deployment(), deployment(replicas=5))
    again = memoised(memo, deployment(), deployment(replicas=5))
    assert again is first
    assert len(memo) == 1


def test_a_memoised_result_equals_a_fresh_comparison() -> None:
    memo: diff.Memo = {}
    rules = (IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",)),)
    for live in (deployment(), deployment(replicas=5), None):
        fresh = diff.compare(deployment(), live, rules=rules, jq=local_jq)
        for _ in range(2):
            got = memoised(memo, deployment(), live, rules=rules)
            assert (got.modified, got.reason) == (fresh.modified, fresh.reason)
            assert got.normalized_live == fresh.normalized_live
            assert got.predicted_live == fresh.predicted_live


def test_a_new_live_resource_version_is_compared_again() -> None:
    memo: diff.Memo = {}
    assert not memoised(memo, deployment(), deployment(version="100")).modified
    assert memoised(memo, deployment(), deployment(replicas=5, version="101")).modified


def test_the_same_live_object_served_in_another_api_version_is_compared_again() -> None:
    memo: diff.Memo = {}
    live = deployment()
    other = {**deployment(replicas=5), "apiVersion": "apps/v1beta2"}
    assert not memoised(memo, deployment(), live).modified
    assert memoised(memo, deployment(), other).modified


def test_a_live_object_without_resource_version_is_keyed_by_its_content() -> None:
    memo: diff.Memo = {}
    assert not memoised(memo, deployment(), deployment(version="")).modified
    assert memoised(memo, deployment(), deployment(replicas=5, version="")).modified


def test_a_newer_result_replaces_the_one_it_supersedes() -> None:
    memo: diff.Memo = {}
    for version in range(5):
        memoised(memo, deployment(), deployment(replicas=version, version=str(100 + version)))
    assert len(memo) == 1
    other_rules = (IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",)),)
    memoised(memo, deployment(), deployment(), rules=other_rules)
    assert len(memo) == 2


def test_a_changed_desired_object_is_compared_again() -> None:
    memo: diff.Memo = {}
    assert not memoised(memo, deployment(), deployment()).modified
    assert memoised(memo, deployment(replicas=4), deployment()).modified


def test_a_new_dry_run_result_is_compared_again() -> None:
    memo: diff.Memo = {}
    live = deployment()
    assert not memoised(memo, deployment(), live, predicted=deployment()).modified
    assert memoised(memo, deployment(), live, predicted=deployment(replicas=7)).modified


def test_changed_ignore_differences_are_not_answered_from_the_memo() -> None:
    memo: diff.Memo = {}
    desired, live = deployment(), deployment(replicas=5)
    assert memoised(memo, desired, live).modified
    rule = IgnoreRule(group="apps", kind="Deployment", json_pointers=("/spec/replicas",))
    assert not memoised(memo, desired, live, rules=(rule,)).modified
    jq_rule = IgnoreRule(kind="Deployment", group="apps", jq_path_expressions=(".spec.replicas",))
    assert not memoised(memo, desired, live, rules=(jq_rule,)).modified
    assert memoised(memo, desired, live).modified


def test_changed_options_are_not_answered_from_the_memo() -> None:
    memo: diff.Memo = {}
    desired = {**deployment(), "status": {"ready": 1}}
    live = {**deployment(), "status": {"ready": 0}}
    assert not memoised(memo, desired, live, predicted=desired).modified
    compare_status = DiffOptions(normalize.NormalizeOptions(normalize.StatusField.NONE))
    assert memoised(memo, desired, live, predicted=desired, options=compare_status).modified


def test_a_changed_tracking_method_is_not_answered_from_the_memo() -> None:
    memo: diff.Memo = {}
    desired = deployment()
    desired["metadata"]["annotations"] = {tracking.TRACKING_ID: "shop:apps/Deployment:shop/web"}
    live = deployment()
    live["metadata"]["labels"] = {tracking.INSTANCE_LABEL: "shop"}
    assert memoised(memo, desired, live).modified
    assert not memoised(memo, desired, live, tracked_by=tracking.DEFAULT_TRACKING).modified


def test_a_supplied_digest_matches_the_one_computed() -> None:
    desired = deployment()
    reordered = dict(reversed(list(copy.deepcopy(desired).items())))
    assert diff.digest(reordered) == diff.digest(desired)
    assert diff.memo_key(desired, None) == diff.memo_key(
        reordered, None, desired_digest=diff.digest(desired)
    )


def test_a_failed_comparison_is_not_memoised() -> None:
    def too_slow(_program: str, _value: Any) -> Any:
        raise ignore.JqTimeoutError("deadline")

    memo: diff.Memo = {}
    rule = IgnoreRule(group="apps", kind="Deployment", jq_path_expressions=(".spec.replicas",))
    with pytest.raises(ignore.JqTimeoutError):
        diff.compare_memoised(memo, deployment(), deployment(), rules=(rule,), jq=too_slow)
    assert not memo
