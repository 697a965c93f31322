"""Custom Lua health checks: argocd-cm, script lookup, the sandbox and real Argo CD scripts."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from tether.core import health
from tether.core.health import lua
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus

ARGO_SCRIPTS = Path(__file__).parents[3] / "fixtures" / "health" / "lua"
SMALL_BUDGET = 200_000
"""Enough for any real check, small enough that runaway-script tests stay fast."""


def _script(source: str, pattern: str = "example.com/Widget") -> lua.LuaHealthScript:
    return lua.LuaHealthScript(pattern, source)


def _run(
    source: str,
    obj: dict[str, object] | None = None,
    *,
    instruction_budget: int = SMALL_BUDGET,
    now: datetime.datetime | None = None,
) -> Health | None:
    widget = obj if obj is not None else {"apiVersion": "example.com/v1", "kind": "Widget"}
    return lua.run(_script(source), widget, instruction_budget=instruction_budget, now=now)


def _widget(**status: object) -> dict[str, object]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "status": status,
    }


# --- argocd-cm -----------------------------------------------------------------------------


def test_a_split_health_key_names_group_and_kind_with_an_underscore():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.cert-manager.io_Certificate": "return nil"}
    )
    assert overrides.scripts == (lua.LuaHealthScript("cert-manager.io/Certificate", "return nil"),)


def test_a_split_health_key_for_a_core_kind_has_no_group():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.PersistentVolumeClaim": "return nil"}
    )
    assert overrides.script_for(GroupKind("", "PersistentVolumeClaim")) is not None
    assert overrides.script_for(GroupKind("example.com", "PersistentVolumeClaim")) is None


def test_a_split_key_may_carry_a_glob_where_the_settings_source_allows_it():
    # Kubernetes refuses "*" in ConfigMap keys, but settings read from elsewhere may use it.
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.*.crossplane.io_*": "return nil"}
    )
    found = overrides.script_for(GroupKind("ec2.aws.crossplane.io", "VPC"))
    assert found is not None
    assert found.pattern == "*.crossplane.io/*"


def test_the_all_key_applies_to_every_kind_with_a_group():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.all": "return nil"}
    )
    assert overrides.script_for(GroupKind("apps", "Deployment")) is not None
    # As in Argo CD, core kinds are keyed without a slash, so "*/*" does not reach them.
    assert overrides.script_for(GroupKind("", "ConfigMap")) is None


def test_the_yaml_block_form_reads_health_lua_and_use_open_libs():
    block = (
        '"*.aws.crossplane.io/*":\n'
        "  health.lua: |\n"
        "    return {status = 'Healthy'}\n"
        "  health.lua.useOpenLibs: true\n"
        "apps/Deployment:\n"
        "  ignoreDifferences: '{}'\n"
        "not-a-map: 3\n"
    )
    overrides = lua.LuaHealthOverrides.from_config_map({"resource.customizations": block})
    assert overrides.scripts == (
        lua.LuaHealthScript("*.aws.crossplane.io/*", "return {status = 'Healthy'}\n", True),
    )


def test_split_keys_win_over_the_block_and_set_open_libs():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {
            "resource.customizations": "example.com/Widget:\n  health.lua: return 1\n",
            "resource.customizations.health.example.com_Widget": "return nil",
            "resource.customizations.useOpenLibs.example.com_Widget": "true",
            "resource.customizations.useOpenLibs.example.com_Gadget": "false",
            "resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: []",
            "resource.customizations.health": "not a customization key",
            "timeout.reconciliation": "180s",
        }
    )
    assert overrides.scripts == (lua.LuaHealthScript("example.com/Widget", "return nil", True),)


@pytest.mark.parametrize(
    "data",
    [
        {"resource.customizations": "a: [unclosed"},
        {"resource.customizations": "- a list"},
        {"resource.customizations.health.a_b_c": "return nil"},
        {"resource.customizations.health.": "return nil"},
        {"resource.customizations.useOpenLibs.example.com_Widget": "yes"},
    ],
)
def test_malformed_health_settings_are_refused(data: dict[str, str]):
    with pytest.raises(InvalidInputError):
        lua.LuaHealthOverrides.from_config_map(data)


def test_an_empty_block_and_blank_scripts_configure_nothing():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {
            "resource.customizations": "  ",
            "resource.customizations.health.example.com_Widget": "   ",
        }
    )
    assert overrides.scripts == ()


# --- lookup ----------------------------------------------------------------------------------


def test_an_exact_key_wins_over_a_matching_glob():
    overrides = lua.LuaHealthOverrides(
        (_script("return 'glob'", "*/*"), _script("return 'exact'", "example.com/Widget"))
    )
    found = overrides.script_for(GroupKind("example.com", "Widget"))
    assert found is not None
    assert found.source == "return 'exact'"


def test_globs_are_tried_in_sorted_order():
    overrides = lua.LuaHealthOverrides(
        (_script("a", "*.crossplane.io/*"), _script("b", "ec2.aws.crossplane.io/*"))
    )
    found = overrides.script_for(GroupKind("ec2.aws.crossplane.io", "VPC"))
    assert found is not None
    assert found.pattern == "*.crossplane.io/*"


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("*.crossplane.io/*", "ec2.aws.crossplane.io/VPC", True),
        ("*.crossplane.io/*", "crossplane.io/VPC", False),
        ("*", "apps/Deployment", True),  # no separators: a star crosses the slash
        ("apps/Deploymen?", "apps/Deployment", True),
        ("apps/[CD]*", "apps/DaemonSet", True),
        ("apps/[!CD]*", "apps/DaemonSet", False),
        ("apps/[a-z]*", "apps/daemonset", True),
        ("{apps,batch}/*", "batch/Job", True),
        ("{apps,batch}/*", "policy/PodDisruptionBudget", False),
        ("{apps,batch/*", "batch/Job", True),  # an unclosed brace closes at the end
        ("a.b/\\*", "a.b/*", True),
        ("a.b/\\*", "a.b/X", False),
        ("a[b/*", "a[b/X", False),  # an unclosed bracket: gobwas refuses it, Argo matches nothing
        ("a.b/?", "axb/X", False),  # dots are literal
    ],
)
def test_globs_match_as_argo_cd_matches_them(pattern: str, key: str, matches: bool):
    assert _script("", pattern).matches(key) is matches


def test_a_kind_without_a_script_has_none():
    assert lua.LuaHealthOverrides().script_for(GroupKind("apps", "Deployment")) is None


# --- the sandbox -------------------------------------------------------------------------------


def test_a_script_sees_the_object_with_one_based_arrays():
    source = (
        "local c = obj.status.conditions\n"
        "return {status = 'Healthy', message = #c .. ':' .. c[1].type .. ':' .. obj.spec.n}"
    )
    obj = _widget(conditions=[{"type": "Ready"}, {"type": "Synced"}])
    obj["spec"] = {"n": 3.0, "big": 2**70, "none": None, "when": datetime.datetime(2026, 1, 2)}
    assert _run(source, obj) == Health(HealthStatus.HEALTHY, "2:Ready:3")


def test_large_numbers_and_timestamps_reach_the_script_as_go_would_send_them():
    source = "return {status = 'Healthy', message = type(obj.big) .. ' ' .. obj.when}"
    obj = {
        "kind": "Widget",
        "big": 2**70,
        "when": datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        "tuple": (1, 2),
        "other": object(),
    }
    assert _run(source, obj) == Health(HealthStatus.HEALTHY, "number 2026-01-02T00:00:00Z")


def test_a_nil_return_means_no_health():
    assert _run("return nil") is None
    assert _run("local x = 1") is None


def test_an_empty_table_means_no_health():
    assert _run("return {}") is None


def test_an_invalid_status_is_unknown():
    expected = Health(HealthStatus.UNKNOWN, lua.INVALID_STATUS)
    assert _run("return {status = 'Fine'}") == expected
    assert _run("return {message = 'no status'}") == expected
    assert _run("return {status = 3}") == expected


def test_a_message_that_is_not_a_string_is_unknown():
    verdict = _run("return {status = 'Healthy', message = 3}")
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "number message" in verdict.message


def test_a_non_table_return_is_unknown():
    verdict = _run("return 'Healthy'")
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "not a string" in verdict.message


def test_a_script_error_is_unknown_with_the_error():
    verdict = _run("local x = obj.status.missing.field")
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert verdict.message.startswith("Lua health check example.com/Widget failed: health.lua:1:")


def test_a_syntax_error_is_unknown():
    verdict = _run("return {status = ")
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "health.lua:1:" in verdict.message


def test_error_objects_that_are_not_strings_are_described_without_running_them():
    verdict = _run("error(setmetatable({}, {__tostring = function() while true do end end}))")
    assert verdict == Health(
        HealthStatus.UNKNOWN,
        "Lua health check example.com/Widget failed: (error object is a table value)",
    )
    numeric = _run("error(42)")
    assert numeric is not None
    assert numeric.message.endswith("failed: 42")


@pytest.mark.parametrize(
    "source",
    [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "while true do\n"
        "  pcall(coroutine.resume, coroutine.create(function() while true do end end))\n"
        "end",
        "local function f() return f() end return f()",
        "local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x",
    ],
)
def test_a_script_that_never_ends_stops_at_its_instruction_budget(source: str):
    verdict = _run(source)
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "budget" in verdict.message or "stack overflow" in verdict.message


def test_the_budget_message_names_the_script_and_the_budget():
    verdict = _run("while true do end", instruction_budget=10_000)
    assert verdict == Health(
        HealthStatus.UNKNOWN,
        "Lua health check example.com/Widget ran past its budget of 10,000 instructions "
        "(does it loop forever?)",
    )


def test_a_result_with_a_metatable_is_read_without_running_it():
    source = "return setmetatable({}, {__index = function() while true do end end})"
    assert _run(source) is None


def test_a_script_that_yields_at_top_level_is_unknown():
    verdict = _run("coroutine.yield(1)")
    assert verdict is not None
    assert "yielded" in verdict.message


def test_coroutines_work_inside_the_budget():
    source = (
        "local co = coroutine.create(function(a)\n"
        "  local b = coroutine.yield(a + 1) return b * 2\n"
        "end)\n"
        "local _, x = coroutine.resume(co, 1)\n"
        "local _, y = coroutine.resume(co, 10)\n"
        "local gen = coroutine.wrap(function() coroutine.yield('w') end)\n"
        "local ok, err = pcall(coroutine.wrap(function() error('boom', 0) end))\n"
        "return {status = 'Healthy', message = x .. ' ' .. y .. ' ' .. gen() .. ' ' .. err}"
    )
    assert _run(source) == Health(HealthStatus.HEALTHY, "2 20 w boom")


def test_a_script_that_allocates_without_bound_stops_at_the_memory_limit():
    verdict = lua.run(
        _script("local t = {} for i = 1, 1e9 do t[i] = {} end"),
        _widget(),
        memory_limit=4 * 1024 * 1024,
    )
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "memory" in verdict.message


def test_the_memory_limit_counts_what_the_script_allocates_not_the_object():
    big = _widget(blob=[f"{index:04}" + "x" * 1020 for index in range(4096)])
    source = "return {status = 'Healthy', message = #obj.status.blob .. ''}"
    verdict = lua.run(_script(source), big, memory_limit=1024 * 1024)
    assert verdict == Health(HealthStatus.HEALTHY, "4096")


@pytest.mark.parametrize(
    "name",
    [
        "io",
        "debug",
        "load",
        "loadfile",
        "dofile",
        "loadstring",
        "collectgarbage",
        "python",
        "package",
        "getfenv",
    ],
)
def test_unsafe_globals_are_not_there(name: str):
    assert _run(f"return {{status = 'Healthy', message = type({name})}}") == Health(
        HealthStatus.HEALTHY, "nil"
    )


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("type(os.execute)", "nil"),
        ("type(os.getenv)", "nil"),
        ("type(os.clock)", "nil"),
        ("type(math.random)", "nil"),
        ("type(string.dump)", "nil"),
        ("table.getn({1, 2, 3})", "3"),
        ("unpack({'a'})", "a"),
        ("math.pow(2, 3)", "8.0"),
        ("math.mod(7, 3)", "1"),
        ("math.log10(100)", "2.0"),
        ("require('os') == os", "true"),
        ("require('string').upper('x')", "X"),
        ("(print('ignored') == nil)", "true"),
        ("_G == _ENV", "true"),
        ("('a,b'):find(',')", "2"),
        ("os.difftime(10, 4)", "6"),
        ("os.difftime(10)", "10"),
    ],
)
def test_the_sandbox_offers_safe_libraries_and_lua_5_1_names(expression: str, value: str):
    assert _run(f"return {{status = 'Healthy', message = tostring({expression})}}") == Health(
        HealthStatus.HEALTHY, value
    )


def test_requiring_a_module_the_sandbox_lacks_is_an_error():
    verdict = _run("require('io')")
    assert verdict is not None
    assert "module 'io' is not available to Lua scripts" in verdict.message


@pytest.mark.parametrize("call", ["os.time()", "os.date('%Y')"])
def test_reading_the_clock_is_an_error_without_now(call: str):
    verdict = _run(f"return {{status = 'Healthy', message = tostring({call})}}")
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "reads the clock" in verdict.message


def test_the_clock_is_the_now_the_caller_passes():
    now = datetime.datetime(2026, 11, 27, 9, 30, tzinfo=datetime.UTC)
    source = "return {status = 'Healthy', message = os.time() .. ' ' .. os.date('%Y-%m-%dT%H:%M')}"
    assert _run(source, now=now) == Health(HealthStatus.HEALTHY, "1795771800 2026-11-27T09:30")
    naive = datetime.datetime(2026, 11, 27, 9, 30)
    assert _run(source, now=naive) == Health(HealthStatus.HEALTHY, "1795771800 2026-11-27T09:30")


@pytest.mark.parametrize(
    ("table", "epoch"),
    [
        ("{year=1970, month=1, day=1, hour=0}", 0),
        ("{year=2026, month=11, day=27, hour=9, min=30, sec=0}", 1795771800),
        ("{year=2026, month=11, day=27}", 1795780800),  # hour defaults to noon
        ("{year=2025, month=14, day=1, hour=0}", 1769904000),  # months past 12 roll over
        ("{year=2024, month=2, day=30, hour=0}", 1709251200),  # so do days
        ("{year=1969, month=12, day=31, hour=0}", -86400),
        ("{year=-1, month=3, day=1, hour=0}", -62193657600),  # year 0 is a leap year
    ],
)
def test_os_time_converts_a_date_table_as_utc(table: str, epoch: int):
    assert _run(f"return {{status = 'Healthy', message = tostring(os.time({table}))}}") == Health(
        HealthStatus.HEALTHY, str(epoch)
    )


def test_os_time_reads_numeric_strings_and_defaults_missing_fields_as_gopher_lua_does():
    source = "return {status = 'Healthy', message = tostring(os.time({%s}))}"
    strings = _run(source % "year='2026', month='11', day='27', hour='9', min='30', sec='0'")
    assert strings == Health(HealthStatus.HEALTHY, "1795771800")
    # year, month and day default to -1 and roll back like Go's time.Date: -2-10-30 12:00.
    defaults = _run(source % "")
    assert defaults == Health(HealthStatus.HEALTHY, "-62204155200")


def test_os_time_refuses_a_date_that_is_not_a_table():
    wrong = _run("return os.time('today')")
    assert wrong is not None
    assert "table expected" in wrong.message


def test_os_date_formats_an_explicit_time_in_utc():
    source = (
        "return {status = 'Healthy', message = os.date('!%H:%M', 3600) .. os.date('*t', 0).year}"
    )
    assert _run(source) == Health(HealthStatus.HEALTHY, "01:001970")


# --- precedence through assess -------------------------------------------------------------------


def test_a_custom_script_overrides_the_built_in_rule():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.apps_Deployment": "return {status = 'Suspended'}"}
    )
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    assert health.assess(deployment, overrides=overrides) == Health(HealthStatus.SUSPENDED)


def test_a_custom_script_that_returns_nil_does_not_fall_back_to_the_built_in_rule():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.apps_Deployment": "return nil"}
    )
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    assert health.assess(deployment, overrides=overrides) is None


def test_deletion_wins_over_a_custom_script():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.ConfigMap": "return {status = 'Degraded'}"}
    )
    deleting = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "deletionTimestamp": "2026-01-01T00:00:00Z"},
    }
    assert health.assess(deleting, overrides=overrides) == Health(
        HealthStatus.PROGRESSING, "Pending deletion"
    )


def test_overrides_for_other_kinds_leave_the_built_in_rule_in_place():
    overrides = lua.LuaHealthOverrides.from_config_map(
        {"resource.customizations.health.example.com_Widget": "return {status = 'Degraded'}"}
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"}}
    assert health.assess(namespace, overrides=overrides) == Health(HealthStatus.HEALTHY)


def test_assess_passes_the_budget_and_now_to_the_script():
    overrides = lua.LuaHealthOverrides(
        (
            lua.LuaHealthScript(
                "example.com/Widget", "return {status='Healthy', message=os.time() .. ''}"
            ),
        ),
        instruction_budget=SMALL_BUDGET,
    )
    now = datetime.datetime(1970, 1, 1, 0, 1, tzinfo=datetime.UTC)
    assert health.assess(_widget(), overrides=overrides, now=now) == Health(
        HealthStatus.HEALTHY, "60"
    )


# --- real Argo CD scripts, unchanged -------------------------------------------------------


def _argo(name: str, pattern: str) -> lua.LuaHealthOverrides:
    source = (ARGO_SCRIPTS / f"{name}.lua").read_text()
    return lua.LuaHealthOverrides((lua.LuaHealthScript(pattern, source),))


def _object(api_version: str, kind: str, **fields: object) -> dict[str, object]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, **fields}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            {"conditions": [{"type": "Issuing", "status": "True", "message": "Issuing"}]},
            Health(HealthStatus.PROGRESSING, "Issuing"),
        ),
        (
            {"conditions": [{"type": "Ready", "status": "False", "message": "bad"}]},
            Health(HealthStatus.DEGRADED, "bad"),
        ),
        (
            {"conditions": [{"type": "Ready", "status": "True", "message": "ok"}]},
            Health(HealthStatus.HEALTHY, "ok"),
        ),
        (None, Health(HealthStatus.PROGRESSING, "Waiting for certificate")),
    ],
)
def test_argo_cds_cert_manager_certificate_script_runs_unchanged(
    status: dict[str, object] | None, expected: Health
):
    overrides = _argo("cert-manager.io_Certificate", "cert-manager.io/Certificate")
    fields = {} if status is None else {"status": status}
    certificate = _object("cert-manager.io/v1", "Certificate", **fields)
    assert health.assess(certificate, overrides=overrides) == expected
    # The built-in rule agrees with the script it was written from.
    assert health.assess(certificate) == expected


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("ProviderConfig", None, Health(HealthStatus.HEALTHY, "Resource is up-to-date.")),
        (
            "ProviderConfig",
            {"users": 2},
            Health(HealthStatus.HEALTHY, "Resource is in use."),
        ),
        ("VPC", {"atProvider": {}}, Health(HealthStatus.PROGRESSING, "Provisioning ...")),
        (
            "VPC",
            {"conditions": [{"type": "Synced", "status": "False", "message": "cannot create"}]},
            Health(HealthStatus.DEGRADED, "cannot create"),
        ),
        (
            "VPC",
            {
                "conditions": [
                    {"type": "Synced", "status": "True"},
                    {"type": "Ready", "status": "True"},
                ]
            },
            Health(HealthStatus.HEALTHY, "Resource is up-to-date."),
        ),
    ],
)
def test_argo_cds_wildcard_crossplane_script_runs_unchanged(
    kind: str, status: dict[str, object] | None, expected: Health
):
    overrides = _argo("crossplane.io_wildcard", "*.crossplane.io/*")
    fields = {} if status is None else {"status": status}
    assert (
        health.assess(_object("ec2.aws.crossplane.io/v1beta1", kind, **fields), overrides=overrides)
        == expected
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, HealthStatus.PROGRESSING),
        ({"lastScheduleTime": "2026-01-01T10:05:00Z"}, HealthStatus.HEALTHY),
        (
            {
                "lastScheduleTime": "2026-01-01T10:05:00Z",
                "lastSuccessfulTime": "2026-01-01T10:00:30Z",
                "active": [{"name": "j"}],
            },
            HealthStatus.HEALTHY,
        ),
        (
            {
                "lastScheduleTime": "2026-01-01T10:05:00Z",
                "lastSuccessfulTime": "2026-01-01T10:00:30Z",
            },
            HealthStatus.DEGRADED,
        ),
        (
            {
                "lastScheduleTime": "2026-01-01T10:05:00Z",
                "lastSuccessfulTime": "2026-01-01T10:05:30Z",
            },
            HealthStatus.HEALTHY,
        ),
    ],
)
def test_argo_cds_cronjob_script_with_table_getn_agrees_with_the_built_in_rule(
    status: dict[str, object] | None, expected: HealthStatus
):
    overrides = _argo("batch_CronJob", "batch/CronJob")
    fields = {"spec": {"schedule": "* * * * *"}} | ({} if status is None else {"status": status})
    cronjob = _object("batch/v1", "CronJob", **fields)
    scripted = health.assess(cronjob, overrides=overrides)
    built_in = health.assess(cronjob)
    assert scripted is not None
    assert built_in is not None
    assert scripted.status is built_in.status is expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([{"type": "Accepted", "status": "True", "message": "ok"}], HealthStatus.HEALTHY),
        ([{"type": "Accepted", "status": "False"}], HealthStatus.DEGRADED),
        # A stale condition is skipped with goto, a Lua 5.2 statement gopher-lua also accepts.
        (
            [{"type": "Accepted", "status": "True", "observedGeneration": 1}],
            HealthStatus.PROGRESSING,
        ),
    ],
)
def test_argo_cds_gateway_class_script_with_goto_runs_unchanged(
    conditions: list[dict[str, object]], expected: HealthStatus
):
    overrides = _argo(
        "gateway.networking.k8s.io_GatewayClass", "gateway.networking.k8s.io/GatewayClass"
    )
    gateway_class = _object(
        "gateway.networking.k8s.io/v1", "GatewayClass", status={"conditions": conditions}
    )
    gateway_class["metadata"] = {"name": "x", "generation": 2}
    verdict = health.assess(gateway_class, overrides=overrides)
    assert verdict is not None
    assert verdict.status is expected


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=40, deadline=None)
@given(body=JSON)
def test_any_json_object_reaches_a_script_intact_enough_to_walk(body: object):
    source = (
        "local n = 0\n"
        "local function walk(v) n = n + 1 if type(v) == 'table' then"
        " for _, c in pairs(v) do walk(c) end end end\n"
        "walk(obj)\n"
        "return {status = 'Healthy', message = tostring(n > 0)}"
    )
    assert _run(source, {"kind": "Widget", "body": body}) == Health(HealthStatus.HEALTHY, "true")


def test_a_message_that_is_not_utf8_is_unknown_not_a_crash():
    verdict = _run('return {status = "Healthy", message = "\\255"}')
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "not UTF-8" in verdict.message
