"""Argo CD's ConfigMaps parsed: honoured keys, warnings naming keys, errors naming the key."""

from __future__ import annotations

import datetime

import pytest

from tether.core.cluster import cachepolicy
from tether.core.config import keys, system
from tether.core.config.system import ConfigError
from tether.core.diff import normalize, tracking
from tether.model.resources import GroupKind, ResourceKey


def parse(cm: dict[str, str] | None = None, params: dict[str, str] | None = None):
    data = {}
    if cm is not None:
        data[keys.ARGOCD_CM] = cm
    if params is not None:
        data[keys.CMD_PARAMS_CM] = params
    return system.parse(data)


def test_missing_config_maps_give_the_defaults() -> None:
    assert parse() == system.DEFAULT


def test_an_unknown_key_gives_a_warning_naming_it() -> None:
    config = parse({"no.such.key": "secret-value"})
    assert config.warnings == ("argocd-cm no.such.key: unknown key, ignored",)
    assert "secret-value" not in " ".join(config.warnings)


def test_an_unsupported_key_gives_a_warning_with_the_reason() -> None:
    config = parse({"resource.respectRBAC": "normal"}, {"controller.operation.processors": "5"})
    assert len(config.warnings) == 2
    assert config.warnings[0].startswith("argocd-cm resource.respectRBAC: not supported")
    assert "controller.status.processors" in config.warnings[1]


def test_keys_other_parts_read_are_not_warned_about() -> None:
    cm = {
        "url": "https://cd.example",
        "oidc.config": "name: x",
        "accounts.alice": "login",
        "admin.enabled": "false",
        "webhook.maxPayloadSizeMB": "10",
        "kustomize.buildOptions": "--enable-helm",
        "helm.valuesFileSchemes": "https",
        "resource.customizations.actions.apps_Deployment": "discovery.lua: ''",
        "exec.enabled": "true",
        "ui.bannercontent": "hi",
        "statusbadge.enabled": "true",
        "help.chatUrl": "https://chat",
        "users.anonymous.enabled": "false",
    }
    assert parse(cm).warnings == ()


def test_split_and_block_health_and_ignore_differences_are_read() -> None:
    cm = {
        "resource.customizations": (
            "apps/Deployment:\n"
            "  ignoreDifferences: |\n"
            "    jsonPointers:\n"
            "    - /spec/replicas\n"
            "example.com/Widget:\n"
            "  health.lua: return {status='Healthy'}\n"
        ),
        "resource.customizations.ignoreDifferences.all": "managedFieldsManagers: [kube-x]",
        "resource.customizations.ignoreDifferences.batch_Job": "jqPathExpressions: ['.x']",
        "resource.customizations.health.example.com_Gadget": "return {status='Degraded'}",
    }
    config = parse(cm)
    assert config.warnings == ()
    rules = config.ignore_rules
    assert [(r.group, r.kind) for r in rules] == [
        ("apps", "Deployment"),
        ("*", "*"),
        ("batch", "Job"),
    ]
    assert rules[0].json_pointers == ("/spec/replicas",)
    assert rules[1].selects(ResourceKey("", "ConfigMap", "ns", "x"))
    assert config.health.script_for(GroupKind("example.com", "Widget")) is not None
    assert config.health.script_for(GroupKind("example.com", "Gadget")) is not None


@pytest.mark.parametrize(
    ("cm", "params", "named"),
    [
        ({"timeout.reconciliation": "soon"}, None, "argocd-cm timeout.reconciliation"),
        ({"resource.customizations": "a: [b"}, None, "argocd-cm resource.customizations"),
        (
            {"resource.customizations.ignoreDifferences.apps_Deployment": "jsonPointers: x"},
            None,
            "argocd-cm resource.customizations.ignoreDifferences.apps_Deployment",
        ),
        ({"resource.exclusions": "{a: 1}"}, None, "argocd-cm resource.exclusions"),
        ({"application.resourceTrackingMethod": "magic"}, None, "resourceTrackingMethod"),
        (None, {"controller.status.processors": "-1"}, "controller.status.processors"),
        (None, {"controller.log.level": "loud"}, "controller.log.level"),
        ({"resource.compareoptions": "ignoreAggregatedRoles: maybe"}, None, "compareoptions"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_config_map_and_key(cm, params, named) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        parse(cm, params)


def test_timeouts_and_controller_parameters_are_read() -> None:
    config = parse(
        {
            "timeout.reconciliation": "60s",
            "timeout.reconciliation.jitter": "5s",
            "timeout.hard.reconciliation": "0",
        },
        {
            "controller.sync.timeout.seconds": "120",
            "controller.status.processors": "7",
            "controller.log.format": "json",
            "controller.log.level": "warn",
            "controller.repo.server.timeout.seconds": "90",
        },
    )
    assert config.resync_period == datetime.timedelta(seconds=60)
    assert config.resync_jitter == datetime.timedelta(seconds=5)
    assert config.hard_resync_period == datetime.timedelta(0)
    assert config.sync_timeout == datetime.timedelta(seconds=120)
    assert config.workers == 7
    assert (config.log_format, config.log_level) == ("json", "warning")
    assert config.repo_server_timeout == datetime.timedelta(seconds=90)


def test_exclusions_and_inclusions_match_groups_kinds_and_clusters() -> None:
    config = parse(
        {
            "resource.exclusions": "- apiGroups: ['*.example.com']\n  kinds: ['*']\n"
            "  clusters: ['https://other*']",
            "resource.inclusions": "- apiGroups: ['', 'apps', '*.example.com']",
        }
    )
    widget = GroupKind("a.example.com", "Widget")
    assert config.filtered_reason(widget, "https://other:6443") == "argocd-cm resource.exclusions"
    assert config.filtered_reason(widget, "https://kubernetes.default.svc") == ""
    assert (
        config.filtered_reason(GroupKind("batch", "Job")) == "not in argocd-cm resource.inclusions"
    )
    assert config.filtered_reason(GroupKind("", "Event")) != ""  # tether's defaults stay


def test_compare_options_are_honoured_or_warned_about() -> None:
    config = parse(
        {
            "resource.compareoptions": "ignoreAggregatedRoles: true\n"
            "ignoreResourceStatusField: crd\nignoreDifferencesOnResourceUpdates: true\nfoo: 1"
        }
    )
    assert config.normalize.ignore_aggregated_roles
    assert config.normalize.status_field is normalize.StatusField.CRD
    assert [w.split(": ")[1] for w in config.warnings] == [
        "foo",
        "ignoreDifferencesOnResourceUpdates true is not supported",
    ]


def test_the_tracking_method_and_label_key_are_read() -> None:
    config = parse(
        {
            "application.resourceTrackingMethod": "annotation+label",
            "application.instanceLabelKey": "example.com/app",
            "installationID": "blue",
        }
    )
    assert config.tracking == tracking.Tracking(
        tracking.TrackingMethod.ANNOTATION_AND_LABEL, "example.com/app", "blue"
    )


def test_use_open_libs_is_warned_about() -> None:
    config = parse(
        {
            "resource.customizations.health.apps_Deployment": "return nil",
            "resource.customizations.useOpenLibs.apps_Deployment": "true",
        }
    )
    assert any("useOpenLibs" in w for w in config.warnings)


def test_unsupported_block_fields_are_warned_about() -> None:
    config = parse({"resource.customizations": "apps/Deployment:\n  knownTypeFields: []\n"})
    assert config.warnings == (
        "argocd-cm resource.customizations: apps/Deployment.knownTypeFields: not supported "
        "(unsupported: server-side diff compares what the server stores)",
    )


def test_kinds_the_controller_reads_stay_watched_though_excluded_from_apps() -> None:
    config = parse({"resource.exclusions": "- kinds: ['*']\n"})
    secret = GroupKind("", "Secret")
    exclusions = (*cachepolicy.DEFAULT_EXCLUSIONS, *config.exclusions)
    assert config.filtered_reason(secret) == "argocd-cm resource.exclusions"
    assert cachepolicy.watch_filtered_reason(secret, "", exclusions) == ""
    job = GroupKind("batch", "Job")
    assert cachepolicy.watch_filtered_reason(job, "", exclusions) != ""
