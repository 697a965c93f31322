"""argocd-cm edited while the controller runs: health checks, ignoreDifferences, exclusions apply.

Each test changes Argo CD's ConfigMap in the control-plane namespace (the test's own) and watches
the Application's status move, with no restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, ServiceAccount
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tuned}\ndata: {color: blue}\n"
SA = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\n"
LONG_RESYNC_S = 900.0
"""Far beyond every wait: only the ConfigMap's change can move the status."""


def set_config(
    kube: Client, namespace: str, data: Mapping[str, str], name: str = "argocd-cm"
) -> None:
    """Create or replace a ConfigMap's data, as ``kubectl apply`` of a new version would."""
    try:
        current = kube.get(ConfigMap, name, namespace=namespace)
    except ApiError as err:
        if err.status.code != 404:
            raise
        kube.create(ConfigMap(metadata=ObjectMeta(name=name, namespace=namespace), data=dict(data)))
        return
    current.data = dict(data)
    kube.replace(current)


def status(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    return tetherenv.app_status(kube, namespace, name)


def health(kube: Client, namespace: str, name: str) -> tuple[str, str]:
    """The app's health status and its ConfigMap's health message."""
    app = status(kube, namespace, name)
    resources: list[dict[str, Any]] = app.get("resources") or []
    resource = next((r for r in resources if r["kind"] == "ConfigMap"), {})
    verdict = resource.get("health") or {}
    return (app.get("health") or {}).get("status", ""), verdict.get("message", "")


def conditions(kube: Client, namespace: str, name: str) -> dict[str, str]:
    found = status(kube, namespace, name).get("conditions") or []
    return {c["type"]: c.get("message", "") for c in found}


async def test_a_lua_health_check_in_argocd_cm_applies_and_a_bad_one_keeps_the_last_good(
    crds, full_namespace, tmp_path, caplog
):
    ns = full_namespace
    caplog.set_level(logging.INFO)
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "lua",
        {"app/cm.yaml": CM},
        resync_s=LONG_RESYNC_S,
        syncPolicy={"automated": {}},
    ) as (kube, _):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "lua"), 60, "Healthy")
        # The split form, for the core group's ConfigMap.
        set_config(
            kube,
            ns,
            {
                "resource.customizations.health.ConfigMap": (
                    'return {status = "Degraded", message = "color is " .. obj.data.color}'
                )
            },
        )
        await tetherenv.eventually(
            lambda: health(kube, ns, "lua") == ("Degraded", "color is blue"),
            30,
            "Degraded by the split-form Lua check",
        )
        # The block form replaces it.
        block = {"ConfigMap": {"health.lua": 'return {status = "Suspended", message = "held"}'}}
        set_config(kube, ns, {"resource.customizations": yaml.safe_dump(block)})
        await tetherenv.eventually(
            lambda: health(kube, ns, "lua") == ("Suspended", "held"),
            30,
            "Suspended by the block-form Lua check",
        )
        # A block that is not YAML is refused, naming the key; the last good check stays.
        set_config(kube, ns, {"resource.customizations": "ConfigMap: [health.lua"})
        await tetherenv.eventually(
            lambda: "argocd-cm resource.customizations: not valid YAML" in caplog.text,
            30,
            "the refusal logged",
        )
        assert health(kube, ns, "lua") == ("Suspended", "held")
        # Removing the check brings the built-in verdict back (ConfigMaps have no health).
        set_config(kube, ns, {"unknown.key": "x"})
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, ns, "lua"), 30, "Healthy again"
        )
        assert "argocd-cm unknown.key: unknown key, ignored" in caplog.text


@pytest.mark.parametrize(
    "config",
    [
        {"resource.customizations.ignoreDifferences.ConfigMap": "jsonPointers: [/data/color]"},
        {"resource.customizations.ignoreDifferences.all": "jqPathExpressions: [.data.color]"},
        {
            "resource.customizations": yaml.safe_dump(
                {"ConfigMap": {"ignoreDifferences": "jsonPointers:\n- /data/color\n"}}
            )
        },
    ],
    ids=["split", "all", "block"],
)
async def test_a_system_wide_ignore_difference_in_argocd_cm_makes_drift_synced(
    crds, full_namespace, tmp_path, config
):
    ns = full_namespace
    async with tetherenv.app_under_controller(
        crds.kubeconfig, ns, tmp_path, "drift", {"app/cm.yaml": CM}, resync_s=LONG_RESYNC_S
    ) as (kube, _):
        tetherenv.start_sync(kube, ns, "drift")
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, ns, "drift"), 60, "Synced"
        )
        kube.patch(
            ConfigMap, "tuned", {"data": {"color": "red"}}, namespace=ns, patch_type=PatchType.MERGE
        )
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "drift") == "OutOfSync", 30, "drift seen"
        )
        set_config(kube, ns, config)
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "drift") == "Synced",
            30,
            "Synced once the field is ignored",
        )


async def test_an_excluded_kind_is_skipped_with_a_warning_and_never_pruned(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "excl",
        {"app/cm.yaml": CM, "app/sa.yaml": SA},
        resync_s=LONG_RESYNC_S,
        syncPolicy={"automated": {"prune": True}},
    ) as (kube, repo):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "excl"), 60, "Synced")
        set_config(
            kube,
            ns,
            {"resource.exclusions": "- apiGroups: ['']\n  kinds: [ServiceAccount]\n"},
        )
        await tetherenv.eventually(
            lambda: (
                "Resource /ServiceAccount robot is excluded in the settings"
                in conditions(kube, ns, "excl").get("ExcludedResourceWarning", "")
            ),
            30,
            "ExcludedResourceWarning naming the ServiceAccount",
        )
        kinds = {r["kind"] for r in status(kube, ns, "excl").get("resources") or []}
        assert kinds == {"ConfigMap"}
        # Gone from Git: an excluded kind is not pruned either (automated prune is on).
        repo.commit({"app/sa.yaml": None, "app/cm.yaml": CM.replace("blue", "green")})
        tetherenv.patch_app(
            kube,
            ns,
            "excl",
            {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
        )
        await tetherenv.eventually(
            lambda: tetherenv.get(kube, ConfigMap, "tuned", ns)["data"]["color"] == "green",
            60,
            "the new commit synced",
        )
        assert tetherenv.exists(kube, ServiceAccount, "robot", ns)


async def test_inclusions_leave_out_every_kind_they_do_not_list(crds, full_namespace, tmp_path):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    try:
        # Before the controller starts: only ConfigMaps are watched and managed.
        set_config(kube, ns, {"resource.inclusions": "- apiGroups: ['']\n  kinds: [ConfigMap]\n"})
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "incl",
        {"app/cm.yaml": CM, "app/sa.yaml": SA},
        resync_s=LONG_RESYNC_S,
        # Self-heal: the revision stays the same, only what tether manages of it grows.
        syncPolicy={"automated": {"selfHeal": True}},
    ) as (kube, _):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "incl"), 60, "Synced")
        assert "ServiceAccount robot" in conditions(kube, ns, "incl")["ExcludedResourceWarning"]
        assert tetherenv.exists(kube, ConfigMap, "tuned", ns)
        assert not tetherenv.exists(kube, ServiceAccount, "robot", ns)
        # Lifted: the ServiceAccount is watched (its watch starts) and synced.
        set_config(kube, ns, {})
        await tetherenv.eventually(
            lambda: tetherenv.exists(kube, ServiceAccount, "robot", ns), 60, "synced once included"
        )
        await tetherenv.eventually(
            lambda: "ExcludedResourceWarning" not in conditions(kube, ns, "incl"),
            30,
            "the warning cleared",
        )
