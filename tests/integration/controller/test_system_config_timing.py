"""argocd-cm's timeouts and tracking, argocd-cmd-params-cm's controller settings, against a real
control plane: what applies live, what at start, and flags given explicitly winning."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.integration.controller.test_system_config import set_config
from tests.support import tetherenv
from tether import bootstrap
from tether.core.diff import tracking
from tether.settings import Settings

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tuned}\ndata: {color: %s}\n"


def revision(kube, namespace: str, name: str) -> str:
    return str(tetherenv.app_status(kube, namespace, name).get("sync", {}).get("revision") or "")


async def test_timeout_reconciliation_overrides_the_default_and_changes_live(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    try:
        # The default (here 3 s, not given as a flag) gives way to the ConfigMap's hour.
        set_config(kube, ns, {"timeout.reconciliation": "1h", "timeout.reconciliation.jitter": "0"})
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "slow",
        {"app/cm.yaml": CM % "blue"},
        syncPolicy={"automated": {}},
    ) as (kube, repo):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "slow"), 60, "Synced")
        first = revision(kube, ns, "slow")
        new = repo.commit({"app/cm.yaml": CM % "green"})
        await asyncio.sleep(8)  # more than two resyncs of the default, far less than an hour
        assert revision(kube, ns, "slow") == first
        set_config(kube, ns, {"timeout.reconciliation": "2s", "timeout.reconciliation.jitter": "0"})
        await tetherenv.eventually(
            lambda: revision(kube, ns, "slow") == new, 30, "the new commit, within the new period"
        )
        await tetherenv.eventually(
            lambda: tetherenv.get(kube, ConfigMap, "tuned", ns)["data"]["color"] == "green",
            30,
            "the new commit synced",
        )


async def test_timeout_hard_reconciliation_re_resolves_and_re_renders(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    try:
        set_config(kube, ns, {"timeout.reconciliation": "0"})  # zero: no periodic refresh
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "hard",
        {"app/cm.yaml": CM % "blue"},
        syncPolicy={"automated": {}},
    ) as (kube, repo):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "hard"), 60, "Synced")
        first = revision(kube, ns, "hard")
        new = repo.commit({"app/cm.yaml": CM % "green"})
        await asyncio.sleep(6)
        assert revision(kube, ns, "hard") == first
        set_config(kube, ns, {"timeout.reconciliation": "0", "timeout.hard.reconciliation": "2s"})
        await tetherenv.eventually(
            lambda: revision(kube, ns, "hard") == new, 30, "the new commit from a hard refresh"
        )


GATED = """apiVersion: v1
kind: ConfigMap
metadata: {name: gate, annotations: {argocd.argoproj.io/sync-wave: "0"}}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: after, annotations: {argocd.argoproj.io/sync-wave: "1"}}
data: {a: "1"}
"""
HOLD_GATE = """if obj.metadata.name == "gate" then
  return {status = "Progressing", message = "held by a test"}
end
return {status = "Healthy"}
"""


async def test_controller_sync_timeout_seconds_ends_a_running_sync(crds, full_namespace, tmp_path):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    try:
        # The first wave never becomes healthy (a Lua check), so the sync waits for ever.
        set_config(kube, ns, {"resource.customizations.health.ConfigMap": HOLD_GATE})
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig, ns, tmp_path, "gated", {"app/all.yaml": GATED}, resync_s=900
    ) as (kube, _):
        tetherenv.start_sync(kube, ns, "gated")
        await tetherenv.eventually(
            lambda: tetherenv.exists(kube, ConfigMap, "gate", ns), 60, "the first wave applied"
        )
        await asyncio.sleep(3)
        assert tetherenv.finished_app(kube, ns, "gated") is None  # still waiting
        set_config(
            kube,
            ns,
            {"controller.sync.timeout.seconds": "2"},
            name="argocd-cmd-params-cm",
        )
        app = await tetherenv.eventually(
            lambda: tetherenv.finished_app(kube, ns, "gated"), 30, "the sync ended"
        )
        state = app["status"]["operationState"]
        assert state["phase"] in ("Failed", "Error")
        assert "timeout of 2s" in state["message"]
        assert not tetherenv.exists(kube, ConfigMap, "after", ns)


async def test_the_tracking_method_and_label_key_apply_at_start_and_a_change_waits_for_restart(
    crds, full_namespace, tmp_path, caplog
):
    ns = full_namespace
    caplog.set_level(logging.WARNING, logger="tether")
    kube = tetherenv.client(crds.kubeconfig)
    try:
        set_config(
            kube,
            ns,
            {
                "application.resourceTrackingMethod": "annotation+label",
                "application.instanceLabelKey": "example.com/app",
                "installationID": "blue",
            },
        )
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        ns,
        tmp_path,
        "tracked",
        {"app/cm.yaml": CM % "blue"},
        syncPolicy={"automated": {}},
    ) as (kube, _):
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, ns, "tracked"), 60, "Synced"
        )
        meta = tetherenv.get(kube, ConfigMap, "tuned", ns)["metadata"]
        assert meta["labels"]["example.com/app"] == "tracked"
        assert meta["annotations"][tracking.TRACKING_ID].startswith("tracked:/ConfigMap:")
        assert meta["annotations"][tracking.INSTALLATION_ID] == "blue"
        set_config(kube, ns, {"application.resourceTrackingMethod": "label"})
        await tetherenv.eventually(
            lambda: "tether keeps tracking by annotation+label" in caplog.text,
            30,
            "the change waits for a restart, and says so",
        )
        assert tetherenv.synced_healthy(kube, ns, "tracked")


async def test_cmd_params_set_start_settings_unless_a_flag_was_given(crds, full_namespace):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    try:
        set_config(
            kube,
            ns,
            {
                "controller.status.processors": "7",
                "controller.log.format": "json",
                "controller.log.level": "debug",
                "controller.repo.server.timeout.seconds": "90",
                "controller.sync.timeout.seconds": "600",
            },
            name="argocd-cmd-params-cm",
        )
    finally:
        kube.close()
    settings = Settings(app_namespaces=(ns,), freeze_gc=False)
    async with await bootstrap.runtime(
        settings, kubeconfig=crds.kubeconfig, start_cache=False, system_config=True
    ) as rt:
        effective = rt.settings
    assert effective.workers == 7
    assert (effective.log_format, effective.log_level) == ("json", "debug")
    assert effective.repo_server_timeout == datetime.timedelta(seconds=90)
    assert effective.sync_timeout == datetime.timedelta(seconds=600)
    # `tether run --workers 3`: the flag wins over the ConfigMap.
    flagged = dataclasses.replace(settings, workers=3, explicit=frozenset({"workers"}))
    async with await bootstrap.runtime(
        flagged, kubeconfig=crds.kubeconfig, start_cache=False, system_config=True
    ) as rt:
        assert rt.settings.workers == 3
        assert rt.settings.log_format == "json"
