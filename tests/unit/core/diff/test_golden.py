"""Golden desired/live(/predicted) pairs: one row per normalisation and ignore rule."""

from __future__ import annotations

import copy
import dataclasses

import jsonpatch
import pytest

from tether.core.diff import diff, ignore, normalize
from tether.core.diff.diff import DiffOptions, DiffReason
from tether.core.diff.ignore import IgnoreRule

from .support import FIXTURES, load, local_jq

SSD, TWO_WAY = DiffReason.SERVER_SIDE, DiffReason.TWO_WAY
STATUS_CRD = DiffOptions(normalize.NormalizeOptions(status_field=normalize.StatusField.CRD))
POINTERS = (
    "/spec/replicas",
    "/metadata/annotations/example.com~1build",
    "/metadata/annotations/tilde~0key",
    "/spec/missing/path",
)
DEFAULT = DiffOptions()
OWN_FIELDS = DiffOptions(field_manager="tether")
MANAGERS = ("kube-controller-manager", "vpa-recommender")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    modified: bool
    reason: DiffReason
    rules: tuple[IgnoreRule, ...] = ()
    options: DiffOptions = DEFAULT
    changed: frozenset[str] | None = None
    """When set, exactly the paths the patch touches."""
    fixture: str = ""


CASES = [
    Case("server-owned-metadata", False, SSD),
    Case("status-ignored", False, SSD),
    Case(
        "status-compared-for-crd-policy",
        True,
        SSD,
        options=STATUS_CRD,
        changed=frozenset({"/status/replicas", "/status/readyReplicas"}),
    ),
    Case("secret-string-data", False, TWO_WAY),
    Case("secret-changed", True, TWO_WAY, changed=frozenset({"/data/password"})),
    Case("role-empty-rules", False, TWO_WAY),
    Case(
        "aggregated-role",
        False,
        SSD,
        options=DiffOptions(normalize.NormalizeOptions(ignore_aggregated_roles=True)),
    ),
    Case("aggregated-role-compared-by-default", True, SSD, changed=frozenset({"/rules"})),
    Case("service-port-protocol", False, TWO_WAY),
    Case("service-target-port", False, TWO_WAY),
    Case("empty-maps", False, TWO_WAY),
    Case("container-port-protocol", False, TWO_WAY),
    Case("cronjob-port-protocol", False, TWO_WAY),
    Case("endpoints-order", False, TWO_WAY),
    Case(
        "ignore-json-pointers",
        False,
        TWO_WAY,
        rules=(IgnoreRule(group="apps", kind="Deployment", json_pointers=POINTERS),),
    ),
    Case(
        "ignore-rule-for-another-name",
        True,
        TWO_WAY,
        rules=(IgnoreRule(group="apps", kind="Deployment", name="api", json_pointers=POINTERS),),
        changed=frozenset(
            {
                "/spec/replicas",
                "/metadata/annotations/example.com~1build",
                "/metadata/annotations/tilde~0key",
            }
        ),
    ),
    Case(
        "ignore-system-wide-glob",
        False,
        TWO_WAY,
        fixture="ignore-json-pointers",
        rules=(IgnoreRule.from_settings("apps/Deploy*", {"jsonPointers": list(POINTERS)}),),
    ),
    Case(
        "ignore-system-wide-all",
        False,
        TWO_WAY,
        fixture="ignore-json-pointers",
        rules=(IgnoreRule.from_settings("all", {"jsonPointers": list(POINTERS)}),),
    ),
    Case(
        "ignore-jq",
        False,
        TWO_WAY,
        rules=(
            IgnoreRule(
                group="apps",
                kind="*",
                jq_path_expressions=(
                    '.spec.template.spec.containers[] | select(.name == "istio-proxy")',
                ),
            ),
        ),
    ),
    Case(
        "ignore-jq-for-another-kind",
        True,
        TWO_WAY,
        fixture="ignore-jq",
        rules=(
            IgnoreRule(
                group="apps",
                kind="StatefulSet",
                jq_path_expressions=(
                    '.spec.template.spec.containers[] | select(.name == "istio-proxy")',
                ),
            ),
        ),
    ),
    Case(
        "ignore-managed-fields",
        False,
        SSD,
        rules=(IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=MANAGERS),),
    ),
    Case(
        "ignore-managed-fields-other-manager",
        True,
        SSD,
        fixture="ignore-managed-fields",
        rules=(IgnoreRule(group="apps", kind="Deployment", managed_fields_managers=("x",)),),
        changed=frozenset(
            {"/spec/replicas", "/spec/template/spec/containers/0/resources/limits/cpu"}
        ),
    ),
    Case("missing", True, DiffReason.MISSING),
    Case("extraneous", False, DiffReason.EXTRANEOUS),
    Case("two-way-extra-live-fields", False, TWO_WAY),
    Case(
        "two-way-lists-whole",
        True,
        TWO_WAY,
        changed=frozenset({"/spec/template/spec/containers/0/imagePullPolicy"}),
    ),
    Case("server-side-defaults", False, SSD),
    Case("server-side-drift", True, SSD, changed=frozenset({"/spec/replicas"})),
    Case(
        "webhook-mutation",
        True,
        SSD,
        options=OWN_FIELDS,
        changed=frozenset({"/metadata/labels/old"}),
    ),
    Case("webhook-mutation-only", False, SSD, options=OWN_FIELDS),
    Case(
        "webhook-mutation-included",
        True,
        SSD,
        fixture="webhook-mutation",
        changed=frozenset(
            {
                "/metadata/labels/old",
                "/spec/template/spec/containers/0/env/0/value",
                "/spec/template/spec/containers/1/image",
            }
        ),
    ),
    Case(
        "webhook-mutation-real-drift",
        True,
        SSD,
        options=OWN_FIELDS,
        changed=frozenset({"/metadata/labels/old", "/spec/template/spec/containers/0/image"}),
    ),
    Case(
        "webhook-mutation-new-item",
        True,
        SSD,
        options=OWN_FIELDS,
        changed=frozenset({"/spec/template/spec/containers/1"}),
    ),
    Case(
        "webhook-mutation-without-ownership",
        False,
        SSD,
        fixture="server-side-defaults",
        options=OWN_FIELDS,
    ),
    Case("custom-resource-status", False, TWO_WAY),
    Case(
        "custom-resource-status-crd-policy",
        True,
        TWO_WAY,
        options=STATUS_CRD,
        changed=frozenset({"/status/phase"}),
    ),
    Case("crd-status-crd-policy", False, TWO_WAY, options=STATUS_CRD),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_golden_pair_compares_as_recorded(case: Case):
    fixture = case.fixture or case.name
    desired, live, predicted = (load(fixture, side) for side in ("desired", "live", "predicted"))
    result = diff.compare(
        desired, live, predicted=predicted, rules=case.rules, jq=local_jq, options=case.options
    )
    assert (result.modified, result.reason) == (case.modified, case.reason)
    if case.reason in (SSD, TWO_WAY):
        assert bool(result.patch) == case.modified
        assert bool(result.text) == case.modified
    if case.changed is not None:
        assert {op["path"] for op in result.patch} == case.changed
    if result.normalized_live is not None and result.predicted_live is not None:
        patched = jsonpatch.apply_patch(result.normalized_live, list(result.patch))
        assert patched == result.predicted_live


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_comparison_neither_changes_its_inputs_nor_shares_containers_with_them(case: Case):
    fixture = case.fixture or case.name
    sides = [load(fixture, side) for side in ("desired", "live", "predicted")]
    before = copy.deepcopy(sides)
    desired, live, predicted = sides
    result = diff.compare(
        desired, live, predicted=predicted, rules=case.rules, jq=local_jq, options=case.options
    )
    assert sides == before
    for side in (result.normalized_live, result.predicted_live):
        if side is not None:
            _scribble(side)
    assert sides == before


def _scribble(value: object) -> None:
    """Change every container in ``value``, so any container shared with an input shows."""
    if isinstance(value, dict):
        for item in list(value.values()):
            _scribble(item)
        value["scribbled"] = True
    elif isinstance(value, list):
        for item in value:
            _scribble(item)
        value.append("scribbled")


def test_every_fixture_file_belongs_to_a_case():
    used = {c.fixture or c.name for c in CASES}
    files = {p.name.rsplit("-", 1)[0] for p in FIXTURES.glob("*.yaml")}
    assert files <= used


def test_the_deployment_revision_annotation_is_dropped_with_the_emptied_map():
    live, predicted = load("status-ignored", "live"), load("status-ignored", "predicted")
    result = diff.compare(
        load("status-ignored", "desired"), live, predicted=predicted, options=STATUS_CRD
    )
    assert result.normalized_live is not None
    assert "annotations" not in result.normalized_live["metadata"]


def test_jq_rules_without_an_evaluator_are_refused():
    rule = IgnoreRule(kind="Deployment", group="apps", jq_path_expressions=(".spec",))
    with pytest.raises(Exception, match="jq evaluator"):
        diff.compare(load("ignore-jq", "desired"), load("ignore-jq", "live"), rules=(rule,))


def test_a_jq_expression_that_fails_on_an_object_is_skipped_for_it():
    rule = IgnoreRule(group="apps", kind="Deployment", jq_path_expressions=(".spec.replicas[]",))
    result = diff.compare(
        load("server-side-drift", "desired"),
        load("server-side-drift", "live"),
        rules=(rule,),
        jq=local_jq,
    )
    assert result.modified


def test_a_jq_timeout_fails_the_comparison():
    def stuck(program: str, value: object) -> object:
        raise ignore.JqTimeoutError(f"jq expression {program!r} did not finish")

    rule = IgnoreRule(group="apps", kind="Deployment", jq_path_expressions=(".spec",))
    with pytest.raises(ignore.JqTimeoutError, match=r"del\(\.spec\)"):
        diff.compare(
            load("ignore-jq", "desired"), load("ignore-jq", "live"), rules=(rule,), jq=stuck
        )


def test_comparing_nothing_with_nothing_is_refused():
    with pytest.raises(ValueError, match="desired or a live"):
        diff.compare(None, None)


def test_a_new_list_item_shows_only_the_fields_tether_applied():
    result = diff.compare(
        load("webhook-mutation-new-item", "desired"),
        load("webhook-mutation-new-item", "live"),
        predicted=load("webhook-mutation-new-item", "predicted"),
        options=OWN_FIELDS,
    )
    assert result.patch == (
        {
            "op": "add",
            "path": "/spec/template/spec/containers/1",
            "value": {"name": "worker", "image": "worker:1"},
        },
    )
