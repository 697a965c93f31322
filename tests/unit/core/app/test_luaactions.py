"""Custom resource actions from argocd-cm: reading them, discovery, running one, and refusals."""

from __future__ import annotations

import dataclasses
import datetime
import re
import textwrap
from collections.abc import Mapping
from typing import Any

import pytest

from tether.core import luavm
from tether.core.app import luaactions, resourceactions
from tether.model.resources import GroupKind

NOW = datetime.datetime(2026, 12, 7, 10, 0, 5, tzinfo=datetime.UTC)
SMALL = luavm.Limits(instruction_budget=200_000)
"""Enough for any real action, small enough that runaway-script tests stay fast."""

SUSPEND = """
discovery.lua: |
  actions = {}
  actions["suspend"] = {["disabled"] = obj.spec.suspend == true, ["iconClass"] = "fa fa-pause"}
  actions["resume"] = {["disabled"] = obj.spec.suspend ~= true, ["displayName"] = "Resume it"}
  return actions
definitions:
- name: suspend
  action.lua: |
    obj.spec.suspend = true
    return obj
- name: resume
  action.lua: |
    obj.spec.suspend = false
    return obj
"""


def _patch(
    obj: Mapping[str, Any],
    action: str,
    now: datetime.datetime,
    sources: tuple[resourceactions.ActionSource, ...],
) -> resourceactions.MergePatch | None:
    """The patch of an action that creates nothing (None when it is not available)."""
    outcome = resourceactions.run_for(obj, action, now, sources)
    if outcome is None:
        return None
    assert outcome.creates == ()
    return outcome.patch


def _cronjob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "team", "labels": {}},
        "spec": {"schedule": "0 1 * * *", **spec},
    }


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {"replicas": 2, "template": {"metadata": {}, "spec": {"containers": []}}},
    }


def _sources(data: dict[str, str]) -> tuple[resourceactions.ActionSource, ...]:
    config = luaactions.LuaActionsConfig.from_config_map(data)
    config = dataclasses.replace(config, limits=SMALL)
    return luaactions.sources(config, NOW)


def _action(discovery: str, name: str, script: str) -> str:
    """One kind's actions as argocd-cm holds them: ``name`` offered, running ``script``."""
    lines = ["discovery.lua: |", *("  " + ln for ln in discovery.splitlines())]
    lines += ["definitions:", f"- name: {name}", "  action.lua: |"]
    lines += ["    " + ln for ln in textwrap.dedent(script).splitlines()]
    return "\n".join(lines) + "\n"


OFFER_TOUCH = "return {touch = {}}"
KEY = "resource.customizations.actions.apps_Deployment"


# --- argocd-cm -----------------------------------------------------------------------------


def test_a_split_key_names_group_and_kind_and_its_actions_are_discovered_by_lua():
    sources = _sources({"resource.customizations.actions.batch_CronJob": SUSPEND})
    offered = resourceactions.offered(_cronjob(), sources)
    assert [(a.name, a.disabled) for a in offered] == [("resume", True), ("suspend", False)]
    assert offered[1].icon_class == "fa fa-pause"
    assert offered[0].display_name == "Resume it"


def test_the_block_form_reads_actions_under_a_group_kind_key():
    block = "batch/CronJob:\n  actions: |\n" + textwrap.indent(SUSPEND, "    ")
    sources = _sources({"resource.customizations": block})
    assert [a.name for a in resourceactions.offered(_cronjob(), sources)] == ["resume", "suspend"]


def test_a_split_key_wins_over_the_block_for_the_same_kind():
    block = "batch/CronJob:\n  actions: |\n    discovery.lua: return {other = {}}\n"
    sources = _sources(
        {"resource.customizations": block, "resource.customizations.actions.batch_CronJob": SUSPEND}
    )
    assert [a.name for a in resourceactions.offered(_cronjob(), sources)] == ["resume", "suspend"]


def test_a_glob_key_applies_to_every_kind_it_matches_and_an_exact_key_wins():
    config = luaactions.LuaActionsConfig.from_config_map(
        {
            "resource.customizations": (
                "'*.example.com/*':\n  actions: |\n    discovery.lua: return {poke = {}}\n"
            ),
            "resource.customizations.actions.a.example.com_Widget": SUSPEND,
        }
    )
    assert config.for_kind(GroupKind("b.example.com", "Gadget")) is not None
    exact = config.for_kind(GroupKind("a.example.com", "Widget"))
    assert exact is not None and exact.key.endswith("a.example.com_Widget")
    assert config.for_kind(GroupKind("apps", "Deployment")) is None


def test_kinds_without_custom_actions_keep_the_built_in_ones():
    sources = _sources({"resource.customizations.actions.batch_CronJob": SUSPEND})
    names = [a.name for a in resourceactions.offered(_deployment(), sources)]
    assert names == ["restart", "pause", "resume"]


def test_an_unknown_field_is_refused_naming_the_key_and_the_field():
    sources = _sources({KEY: "discovery.lua: return {}\nparams: []\n"})
    with pytest.raises(luaactions.LuaActionError, match=rf"argocd-cm {KEY}: unknown field params"):
        resourceactions.offered(_deployment(), sources)


def test_a_block_that_is_not_yaml_makes_every_kind_say_so_instead_of_using_built_ins():
    sources = _sources({"resource.customizations": "apps/Deployment: [unclosed"})
    expected = r"^argocd-cm resource\.customizations is not valid YAML"
    with pytest.raises(luaactions.LuaActionError, match=expected):
        resourceactions.offered(_deployment(), sources)
    with pytest.raises(luaactions.LuaActionError, match=expected):
        _patch(_deployment(), "restart", NOW, sources)


def test_a_malformed_split_key_is_refused_naming_it():
    key = "resource.customizations.actions.a_b_c"
    config = luaactions.LuaActionsConfig.from_config_map({key: SUSPEND})
    assert config.kinds[0].problem.startswith("expected resource.customizations.actions.")


# --- running -------------------------------------------------------------------------------


def test_an_action_becomes_a_merge_patch_of_what_it_changed():
    sources = _sources({"resource.customizations.actions.batch_CronJob": SUSPEND})
    patch = _patch(_cronjob(), "suspend", NOW, sources)
    assert patch == {"spec": {"suspend": True}}


def test_a_disabled_or_unknown_action_is_not_available():
    sources = _sources({"resource.customizations.actions.batch_CronJob": SUSPEND})
    assert _patch(_cronjob(), "resume", NOW, sources) is None
    assert _patch(_cronjob(), "explode", NOW, sources) is None


def test_a_custom_action_overrides_the_built_in_one_of_the_same_kind():
    script = """
    obj.spec.template.metadata.annotations = {["example.com/restarted"] = os.date("!%Y-%m-%d")}
    return obj
    """
    sources = _sources({KEY: _action("return {restart = {}}", "restart", script)})
    assert [a.name for a in resourceactions.offered(_deployment(), sources)] == ["restart"]
    patch = _patch(_deployment(), "restart", NOW, sources)
    annotations = {"example.com/restarted": "2026-12-07"}
    assert patch == {"spec": {"template": {"metadata": {"annotations": annotations}}}}
    # Without mergeBuiltinActions the kind's other built-in actions are gone, as in Argo CD.
    assert _patch(_deployment(), "pause", NOW, sources) is None


def test_merging_built_in_actions_offers_both_and_the_custom_one_wins_its_name():
    spec = _action("return {touch = {}, restart = {}}", "touch", "return obj")
    spec += "- name: restart\n  action.lua: |\n    obj.spec.replicas = 0\n    return obj\n"
    sources = _sources({KEY: spec + "mergeBuiltinActions: true\n"})
    names = [a.name for a in resourceactions.offered(_deployment(), sources)]
    assert names == ["restart", "touch", "pause", "resume"]
    assert _patch(_deployment(), "restart", NOW, sources) == {"spec": {"replicas": 0}}
    assert _patch(_deployment(), "pause", NOW, sources) == {"spec": {"paused": True}}


def test_the_list_form_patching_the_object_itself_is_run():
    script = """
    obj.spec.replicas = 5
    return {{operation = "patch", resource = obj}}
    """
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
    assert _patch(_deployment(), "touch", NOW, sources) == {"spec": {"replicas": 5}}


def test_an_action_may_create_objects_in_the_namespace_of_the_object_it_ran_on():
    script = """
    obj.spec.replicas = 5
    local job = {apiVersion = "batch/v1", kind = "Job", metadata = {name = "once"}}
    return {{operation = "patch", resource = obj}, {operation = "create", resource = job}}
    """
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
    outcome = resourceactions.run_for(_deployment(), "touch", NOW, sources)
    assert outcome is not None
    assert outcome.patch == {"spec": {"replicas": 5}}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": "team"},
    }
    assert outcome.creates == (job,)


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ('{name = "x", namespace = "kube-system"}', "in namespace 'kube-system'; objects are"),
        ("{}", "without metadata.name or generateName"),
        ('{name = "x"}, kind = false', "without apiVersion, kind and metadata"),
    ],
)
def test_an_object_to_create_elsewhere_or_unnamed_is_refused(metadata: str, reason: str):
    script = f"""
    local job = {{apiVersion = "batch/v1", kind = "Job", metadata = {metadata}}}
    return {{{{operation = "create", resource = job}}}}
    """
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
    with pytest.raises(luaactions.LuaActionError, match=re.escape(reason)):
        resourceactions.run_for(_deployment(), "touch", NOW, sources)


def test_objects_are_created_only_beside_a_namespaced_object():
    script = """
    local role = {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "x"}}
    return {{operation = "create", resource = role}}
    """
    key = "resource.customizations.actions.Namespace"
    sources = _sources({key: _action(OFFER_TOUCH, "touch", script)})
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    with pytest.raises(luaactions.LuaActionError, match="only beside a namespaced object"):
        resourceactions.run_for(namespace, "touch", NOW, sources)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ('obj.metadata.name = "other"', "metadata.name"),
        ('obj.metadata.namespace = "kube-system"', "metadata.namespace"),
        ('obj.kind = "StatefulSet"', "kind"),
        ('obj.apiVersion = "apps/v2"', "apiVersion"),
    ],
)
def test_an_action_changing_which_object_it_is_is_refused(change: str, field: str):
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", f"{change}\nreturn obj")})
    with pytest.raises(luaactions.LuaActionError, match=f"changed {field} from"):
        _patch(_deployment(), "touch", NOW, sources)


def test_empty_maps_the_script_did_not_touch_stay_maps():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", "obj.spec.replicas = 3\nreturn obj")})
    # metadata: {} of the template comes back from Lua as an empty table, read as a list.
    assert _patch(_deployment(), "touch", NOW, sources) == {"spec": {"replicas": 3}}


def test_an_action_removing_a_field_patches_it_to_null():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", "obj.spec.replicas = nil\nreturn obj")})
    assert _patch(_deployment(), "touch", NOW, sources) == {"spec": {"replicas": None}}


def test_an_action_offered_without_a_definition_is_an_error_naming_it():
    sources = _sources({KEY: "discovery.lua: return {ghost = {}}\n"})
    with pytest.raises(luaactions.LuaActionError, match="offers action 'ghost', but definitions"):
        _patch(_deployment(), "ghost", NOW, sources)


# --- bad Lua -------------------------------------------------------------------------------


def test_bad_lua_in_an_action_is_an_error_naming_the_key_the_action_and_the_line():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", "obj.spec.replicas = = 3")})
    with pytest.raises(luaactions.LuaActionError) as err:
        _patch(_deployment(), "touch", NOW, sources)
    assert str(err.value).startswith(f"argocd-cm {KEY}, action 'touch': action.lua action.lua:1:")


def test_a_failing_discovery_is_an_error_naming_the_key():
    sources = _sources({KEY: "discovery.lua: return obj.nothing.here\n"})
    with pytest.raises(luaactions.LuaActionError, match=rf"argocd-cm {KEY}: discovery.lua"):
        resourceactions.offered(_deployment(), sources)


def test_an_action_returning_something_other_than_a_table_is_refused():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", "return 'done'")})
    with pytest.raises(luaactions.LuaActionError, match="must return the object or a list"):
        _patch(_deployment(), "touch", NOW, sources)


def test_an_action_that_loops_forever_ends_at_its_budget():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", "while true do end")})
    with pytest.raises(luaactions.LuaActionError, match="ran past its budget of 200,000"):
        _patch(_deployment(), "touch", NOW, sources)


def test_a_discovery_whose_pcall_swallows_the_budget_still_ends():
    looping = "discovery.lua: |\n  while true do pcall(function() while true do end end) end\n"
    sources = _sources({KEY: looping})
    with pytest.raises(luaactions.LuaActionError, match="ran past its budget"):
        resourceactions.offered(_deployment(), sources)


def test_an_action_returning_a_table_that_holds_itself_is_refused():
    script = "obj.spec.self = obj\nreturn obj"
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
    with pytest.raises(luaactions.LuaActionError, match="does one hold itself"):
        _patch(_deployment(), "touch", NOW, sources)


def test_an_action_has_no_io_and_no_os_execute():
    for script in ("io.write('x')\nreturn obj", "os.execute('true')\nreturn obj"):
        sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
        with pytest.raises(luaactions.LuaActionError, match="nil value"):
            _patch(_deployment(), "touch", NOW, sources)


# --- the merge patch -----------------------------------------------------------------------


def test_a_merge_patch_holds_only_what_changed():
    old = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2]}
    new = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1], "f": "x"}
    assert luaactions.merge_patch(old, new) == {"b": {"d": 4}, "e": [1], "f": "x"}
    assert luaactions.merge_patch(old, old) == {}


def test_strings_with_quotes_and_control_characters_survive_the_round_trip():
    script = 'obj.metadata.annotations = {note = "a \\"q\\" \\\\ \\n\\t \\1 é"}\nreturn obj'
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", script)})
    patch = _patch(_deployment(), "touch", NOW, sources)
    assert patch == {"metadata": {"annotations": {"note": 'a "q" \\ \n\t \x01 é'}}}


def test_an_action_returning_bytes_that_are_not_utf8_is_refused():
    sources = _sources({KEY: _action(OFFER_TOUCH, "touch", 'obj.kind = "\\255"\nreturn obj')})
    with pytest.raises(luaactions.LuaActionError, match="returned text that is not UTF-8"):
        _patch(_deployment(), "touch", NOW, sources)
