"""Source checks: what no tool may see, refused by field before anything runs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tether.core.sources import checks
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource


def src(raw: dict[str, Any]) -> ApplicationSource:
    return ApplicationSource.model_validate(raw)


def test_an_unknown_tool_option_is_refused_naming_the_field():
    with pytest.raises(
        InvalidInputError, match=r"unknown option spec\.source\.kustomize\.nameprefix \(known: "
    ):
        checks.check(src({"repoURL": "r", "kustomize": {"nameprefix": "x-"}}))


def test_an_unknown_field_deep_in_a_source_is_refused_with_its_path():
    typo = src({"repoURL": "r", "helm": {"parameters": [{"name": "a", "valu": "1"}]}})
    with pytest.raises(InvalidInputError, match=r"spec\.sources\[2\]\.helm\.parameters\[0\]\.valu"):
        checks.check(typo, "spec.sources[2]")


def test_a_known_source_passes():
    checks.check(
        src({"repoURL": "r", "path": "p", "helm": {"valueFiles": ["v.yaml"], "version": "v3"}})
    )


@pytest.mark.parametrize(
    ("helm", "field"),
    [
        ({"releaseName": "--post-renderer=/bin/sh"}, "helm.releaseName"),
        ({"releaseName": "Web"}, "helm.releaseName"),
        ({"releaseName": "a" * 54}, "helm.releaseName"),
        ({"namespace": "--output-dir=/tmp"}, "helm.namespace"),
        ({"valueFiles": ["a.yaml,/etc/passwd"]}, "helm.valueFiles[0]"),
        ({"parameters": [{"name": "x=/etc/passwd,cfg", "value": "v"}]}, "helm.parameters[0].name"),
        (
            {"fileParameters": [{"name": "x=/etc/passwd,cfg", "path": "f"}]},
            "helm.fileParameters[0].name",
        ),
        ({"kubeVersion": "--set=x"}, "helm.kubeVersion"),
        ({"apiVersions": ["apps/v1,--x"]}, "helm.apiVersions[0]"),
    ],
)
def test_helm_options_a_tool_could_misread_are_refused_by_field(
    helm: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(f"spec.source.{field}")):
        checks.check(src({"repoURL": "r", "helm": helm}))


def test_good_helm_options_pass() -> None:
    checks.check(
        src(
            {
                "repoURL": "r",
                "helm": {
                    "releaseName": "web-1.prod",
                    "namespace": "team-a",
                    "valueFiles": ["values.yaml", "$ref/env/values-prod.yaml"],
                    "parameters": [{"name": "image.tag", "value": "a,b"}],
                    "kubeVersion": "1.36.0",
                    "apiVersions": ["monitoring.coreos.com/v1/ServiceMonitor"],
                },
            }
        )
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"path": "a\x00b"}, "spec.source.path"),
        ({"helm": {"values": "x: \x00"}}, "spec.source.helm.values"),
        ({"kustomize": {"commonLabels": {"a": "b\x00"}}}, "spec.source.kustomize.commonLabels.a"),
    ],
)
def test_a_nul_byte_anywhere_is_refused_by_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(
        InvalidInputError, match=f"{field}: contains a NUL byte".replace(".", r"\.")
    ):
        checks.check(src({"repoURL": "r", **raw}))


def test_a_plugin_variable_name_the_environment_cannot_hold_is_refused() -> None:
    bad = src({"repoURL": "r", "plugin": {"env": [{"name": "A=B", "value": "v"}]}})
    with pytest.raises(InvalidInputError, match=r"plugin\.env\[0\]\.name"):
        checks.check(bad)


@pytest.mark.parametrize(
    ("kustomize", "field"),
    [
        ({"namespace": "9" * 5000}, "spec.source.kustomize.namespace"),
        ({"namespace": "Not_A_Namespace"}, "spec.source.kustomize.namespace"),
        ({"commonLabels": {"app": "9" * 64}}, "spec.source.kustomize.commonLabels.app"),
        ({"commonLabels": {"app": "a b"}}, "spec.source.kustomize.commonLabels.app"),
        ({"commonLabels": {"-x": "v"}}, "spec.source.kustomize.commonLabels"),
        ({"commonLabels": {"Bad_Prefix/x": "v"}}, "spec.source.kustomize.commonLabels"),
    ],
)
def test_kustomize_names_no_api_server_would_take_are_refused_by_field(
    kustomize: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(field)):
        checks.check(src({"repoURL": "r", "kustomize": kustomize}))


def test_good_kustomize_labels_and_namespace_pass() -> None:
    labels = {"app.kubernetes.io/name": "web", "tier": "", "example.com/v": "1.2_x-y"}
    checks.check(src({"repoURL": "r", "kustomize": {"namespace": "apps", "commonLabels": labels}}))
