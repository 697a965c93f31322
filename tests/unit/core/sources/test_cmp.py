"""Argo CD ConfigManagementPlugin files as core/sources/cmp reads them."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.sources import cmp
from tether.core.sources.rendering import PluginSpec


def plugin(spec: dict[str, Any], name: str = "envsubst") -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ConfigManagementPlugin",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_an_argo_cd_plugin_file_becomes_a_plugin_with_its_commands_as_argv():
    doc = plugin(
        {
            "version": "v1.0",
            "init": {"command": ["sh", "-c"], "args": ["echo init"]},
            "generate": {"command": ["envsubst-render"], "args": ["--all"]},
            "discover": {
                "fileName": "./*.envsubst",
                "find": {"glob": "**/*.tmpl", "command": ["sh", "-c", "ls *.x"]},
            },
            "preserveFileMode": True,
        }
    )
    found, warnings = cmp.parse_plugin(doc, "plugin.yaml")
    assert warnings == []
    assert found == PluginSpec(
        name="envsubst-v1.0",
        init=("sh", "-c", "echo init"),
        generate=("envsubst-render", "--all"),
        discover="**/*.tmpl",
        discover_file_name="./*.envsubst",
        discover_command=("sh", "-c", "ls *.x"),
        preserve_file_mode=True,
    )


def test_parameter_announcements_and_unknown_fields_are_warned_about_by_name():
    doc = plugin(
        {
            "generate": {"command": ["gen"]},
            "parameters": {"static": [{"name": "size"}]},
            "futureField": 1,
        }
    )
    found, warnings = cmp.parse_plugin(doc, "p.yaml")
    assert found is not None and found.name == "envsubst"
    assert warnings == [
        "p.yaml: spec.futureField is not a field tether knows; ignored",
        "p.yaml: spec.parameters ignored: announcements for Argo CD's UI; tenants' values still "
        "arrive as PARAM_* variables",
    ]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ("text", "p.yaml: not a YAML object"),
        ({"kind": "ConfigMap"}, "not an argoproj.io/v1alpha1 ConfigManagementPlugin"),
        (plugin({"generate": {"command": ["g"]}}, name="Bad Name"), "metadata.name"),
        (plugin({}), "spec.generate.command: required"),
        (plugin({"generate": {"command": []}}), "spec.generate.command: needs a program"),
        (plugin({"generate": {"command": "sh -c x"}}), "expected a list of strings"),
        (plugin({"generate": {"command": ["g"], "env": []}}), "spec.generate: unknown fields env"),
        (
            plugin({"generate": {"command": ["g"]}, "provideGitCreds": True}),
            "spec.provideGitCreds is not supported (tether never hands repository credentials",
        ),
        (
            plugin({"generate": {"command": ["g"]}, "discover": {"find": {"glob": 3}}}),
            "spec.discover.find.glob: expected a string",
        ),
        (
            plugin({"generate": {"command": ["g", "a\x00b"]}}),
            "spec.generate.command: contains a NUL byte",
        ),
    ],
)
def test_a_plugin_file_tether_cannot_honour_is_left_out_whole_saying_why(doc, reason):
    found, warnings = cmp.parse_plugin(doc, "p.yaml")
    assert found is None
    assert any(reason in w for w in warnings), warnings


def test_a_plugin_name_declared_twice_keeps_the_first_and_warns_about_the_second():
    first = plugin({"generate": {"command": ["one"]}})
    second = plugin({"generate": {"command": ["two"]}})
    found, warnings = cmp.parse_plugins([("a.yaml", [first]), ("b.yaml", [second])])
    assert [p.generate for p in found] == [("one",)]
    assert warnings == ["b.yaml: a plugin named 'envsubst' is already declared"]
