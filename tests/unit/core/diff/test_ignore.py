"""ignoreDifferences rules: selection, parsing, stripping, and RespectIgnoreDifferences at sync."""

from __future__ import annotations

import pytest

from tether.core.diff import ignore, managedfields
from tether.core.diff.ignore import IgnoreRule
from tether.model.errors import InvalidInputError
from tether.model.resources import ResourceKey

from .support import load, local_jq

DEPLOY = ResourceKey("apps", "Deployment", "shop", "web")


def test_group_and_kind_are_globs_and_name_and_namespace_are_exact():
    assert IgnoreRule(group="apps", kind="Deploy*").selects(DEPLOY)
    assert IgnoreRule(group="*", kind="*", name="web", namespace="shop").selects(DEPLOY)
    assert not IgnoreRule(group="", kind="Deployment").selects(DEPLOY)
    assert not IgnoreRule(group="apps", kind="Deployment", name="we").selects(DEPLOY)
    assert not IgnoreRule(group="apps", kind="Deployment", namespace="other").selects(DEPLOY)
    assert not IgnoreRule(group="apps", kind="deployment").selects(DEPLOY)


def test_a_spec_entry_reads_its_camel_case_fields():
    rule = IgnoreRule.from_spec(
        {
            "group": "apps",
            "kind": "Deployment",
            "name": "web",
            "namespace": "shop",
            "jsonPointers": ["/spec/replicas"],
            "jqPathExpressions": [".spec.x"],
            "managedFieldsManagers": ["hpa"],
        }
    )
    assert rule == IgnoreRule(
        "apps", "Deployment", "web", "shop", ("/spec/replicas",), (".spec.x",), ("hpa",)
    )
    assert IgnoreRule.from_spec({"kind": "Service", "jsonPointers": "oops"}).json_pointers == ()


@pytest.mark.parametrize(
    ("key", "group", "kind"),
    [
        ("all", "*", "*"),
        ("Service", "", "Service"),
        ("apps/Deployment", "apps", "Deployment"),
        (
            "admissionregistration.k8s.io_MutatingWebhookConfiguration",
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
        ),
    ],
)
def test_system_wide_keys_name_group_and_kind(key: str, group: str, kind: str):
    rule = IgnoreRule.from_settings(key, {"jsonPointers": ["/x"]})
    assert (rule.group, rule.kind, rule.json_pointers) == (group, kind, ("/x",))


def test_a_pointer_that_does_not_start_with_a_slash_is_refused():
    with pytest.raises(InvalidInputError, match="spec/replicas"):
        IgnoreRule(json_pointers=("spec/replicas",))


def test_prepare_merges_the_selecting_rules_without_duplicates():
    rules = [
        IgnoreRule(group="apps", kind="*", json_pointers=("/a", "/b")),
        IgnoreRule(
            group="apps", kind="Deployment", json_pointers=("/b",), jq_path_expressions=(".c",)
        ),
        IgnoreRule(group="batch", kind="*", json_pointers=("/z",)),
    ]
    ignores = ignore.prepare(rules, DEPLOY, None)
    assert ignores.json_pointers == ("/a", "/b")
    assert ignores.jq_path_expressions == (".c",)
    assert ignores.owned.empty and not ignores.empty
    assert ignore.prepare([], DEPLOY, None).empty


def test_a_jq_result_that_is_not_an_object_leaves_the_object_alone():
    ignores = ignore.Ignores(jq_path_expressions=(".a",))
    assert ignore.strip({"a": 1}, ignores, lambda _p, _v: [1]) == {"a": 1}


def test_respect_copies_live_values_of_ignored_pointer_fields_into_desired():
    desired = load("ignore-json-pointers", "desired")
    live = load("ignore-json-pointers", "live")
    assert desired is not None and live is not None
    live["status"] = {"replicas": 7}
    ignores = ignore.prepare(
        [
            IgnoreRule(
                group="apps",
                kind="Deployment",
                json_pointers=(
                    "/spec/replicas",
                    "/metadata/annotations/example.com~1build",
                    "/status",
                ),
            )
        ],
        DEPLOY,
        live,
    )
    out = ignore.respect(desired, live, ignores)
    assert out["spec"]["replicas"] == 7
    assert out["metadata"]["annotations"] == {"example.com/build": "42", "tilde~key": "a"}
    assert "status" not in out
    assert desired["spec"]["replicas"] == 2  # input untouched


def test_respect_without_live_or_rules_returns_desired_unchanged():
    desired = {"kind": "ConfigMap", "data": {"a": "1"}}
    assert ignore.respect(desired, None, ignore.Ignores(json_pointers=("/data",))) == desired
    assert ignore.respect(desired, {"data": {"a": "2"}}, ignore.Ignores()) == desired


def test_respect_restores_fields_inside_named_list_items_from_managed_fields():
    desired = load("ignore-managed-fields", "desired")
    live = load("ignore-managed-fields", "live")
    assert desired is not None and live is not None
    ignores = ignore.prepare(
        [
            IgnoreRule(
                group="apps",
                kind="Deployment",
                managed_fields_managers=("kube-controller-manager", "vpa-recommender"),
            )
        ],
        DEPLOY,
        live,
    )
    out = ignore.respect(desired, live, ignores)
    assert out["spec"]["replicas"] == 5
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container == {"name": "web", "image": "web:2", "resources": {"limits": {"cpu": "750m"}}}


def test_respect_keeps_live_list_items_a_jq_rule_ignores():
    desired = load("ignore-jq", "desired")
    live = load("ignore-jq", "live")
    assert desired is not None and live is not None
    expression = '.spec.template.spec.containers[] | select(.name == "istio-proxy")'
    ignores = ignore.Ignores(jq_path_expressions=(expression,))
    out = ignore.respect(desired, live, ignores, local_jq)
    names = [c["name"] for c in out["spec"]["template"]["spec"]["containers"]]
    assert names == ["web", "istio-proxy"]


def test_respect_pairs_unnamed_list_items_by_position_and_fills_absent_maps():
    desired = {"spec": {"rules": [{"host": "a"}, {"host": "b"}]}}
    live = {
        "spec": {"rules": [{"host": "a", "x": 1}, {"host": "b", "x": 2}, {"host": "c", "x": 3}]},
        "metadata": {"labels": {"team": "t", "keep": "k"}},
    }
    ignores = ignore.Ignores(
        owned=managedfields.parse(
            {
                "f:spec": {"f:rules": {"i:0": {"f:x": {}}, "i:1": {"f:x": {}}, "i:2": {"f:x": {}}}},
                "f:metadata": {"f:labels": {"f:team": {}}},
            }
        )
    )
    out = ignore.respect(desired, live, ignores)
    assert out["spec"]["rules"] == [{"host": "a", "x": 1}, {"host": "b", "x": 2}]
    assert out["metadata"] == {"labels": {"team": "t"}}


def test_respect_appends_removed_unnamed_items_once():
    desired = {"spec": {"tolerations": [{"key": "a"}]}}
    live = {"spec": {"tolerations": [{"key": "a"}, {"key": "injected"}]}}
    ignores = ignore.Ignores(json_pointers=("/spec/tolerations/1",))
    out = ignore.respect(desired, live, ignores)
    assert out["spec"]["tolerations"] == [{"key": "a"}, {"key": "injected"}]


def test_a_rolled_back_child_application_keeps_its_automated_sync_as_the_rollback_left_it():
    def app(name: str, hold: bool) -> dict[str, object]:
        annotations = {"tether.dev/rollback-hold": "3"} if hold else {}
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "apps", "annotations": annotations},
            "spec": {"syncPolicy": {"automated": {"selfHeal": True}}} if not hold else {},
        }

    held, free = app("held", True), app("free", False)
    not_an_app = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": held["metadata"]}
    rules = ignore.rollback_holds({ResourceKey.of(o): o for o in (held, free, not_an_app)})
    assert [(r.kind, r.name, r.json_pointers) for r in rules] == [
        ("Application", "held", ("/spec/syncPolicy/automated",))
    ]
    desired = {**held, "spec": {"syncPolicy": {"automated": {"selfHeal": True}}}}
    kept = ignore.respect(desired, held, ignore.prepare(rules, ResourceKey.of(held), held))
    assert kept["spec"] == {"syncPolicy": {}}
