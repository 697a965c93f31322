"""Three sharded controller replicas split the apps; one killed, the others take its apps over.

Who wrote what comes from the API server's audit log (the full tier logs writes to ConfigMaps
and Applications): each replica names itself in its User-Agent, ``tether-controller/<replica>``.
"""

from __future__ import annotations

import collections
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv
from tether import bootstrap
from tether.controller.sharding import PROJECT_SHARD_ANNOTATION
from tether.model import project

pytestmark = pytest.mark.timeout(300)

APPS = 30
PINNED = 3
"""app-0 to app-2 are in a project pinned to replica 2 (``shard-2``)."""
REPLICAS = ("shard-0", "shard-1", "shard-2")
AGENT = "tether-controller/"


def configmap(index: int, revision: str) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\n"
        f"metadata: {{name: cm-{index}}}\ndata: {{revision: {revision}}}\n"
    )


def files(revision: str) -> dict[str, str]:
    return {f"app-{i}/cm.yaml": configmap(i, revision) for i in range(APPS)}


def all_at(kube: Any, namespace: str, revision: str, sha: str) -> bool:
    for i in range(APPS):
        status = tetherenv.synced_healthy(kube, namespace, f"app-{i}")
        if status is None or status.get("sync", {}).get("revision") != sha:
            return False
        cm = tetherenv.get(kube, ConfigMap, f"cm-{i}", namespace)
        if (cm.get("data") or {}).get("revision") != revision:
            return False
    return True


def writes(audit_log: Path, namespace: str) -> dict[str, list[dict[str, Any]]]:
    """Each app's writes by a replica, as the API server audited them, by audit ID."""
    found: dict[str, dict[str, dict[str, Any]]] = collections.defaultdict(dict)
    for line in audit_log.read_text().splitlines():
        event = json.loads(line)
        ref = event.get("objectRef") or {}
        if ref.get("namespace") != namespace or not event.get("userAgent", "").startswith(AGENT):
            continue
        name = str(ref.get("name") or "")
        app = name.replace("cm-", "app-", 1) if ref.get("resource") == "configmaps" else name
        record = found[app].setdefault(event["auditID"], {"stages": set()})
        record["stages"].add(event["stage"])
        record["writer"] = event["userAgent"].removeprefix(AGENT)
        record["received"] = event["requestReceivedTimestamp"]
        if event["stage"] == "ResponseComplete":
            record["completed"] = event["stageTimestamp"]
    return {
        app: sorted(by_id.values(), key=lambda record: record["received"])
        for app, by_id in found.items()
    }


def writers_in_turn(records: list[dict[str, Any]]) -> list[str]:
    turns: list[str] = []
    for record in records:
        if not turns or turns[-1] != record["writer"]:
            turns.append(record["writer"])
    return turns


async def test_replicas_split_the_apps_and_survivors_take_over_a_killed_ones_without_overlap(
    crds: bootstrap.DevCluster, full_namespace: str, tmp_path: Path
) -> None:
    assert crds.audit_log is not None
    repo = tetherenv.serve_repo(tmp_path / "git", files("v1"))
    kube = tetherenv.client(crds.kubeconfig)
    replicas: dict[str, tetherenv.ControllerProcess] = {}
    try:
        pinned = project.default_project(full_namespace)
        pinned["metadata"] = {
            "name": "pinned",
            "namespace": full_namespace,
            "annotations": {PROJECT_SHARD_ANNOTATION: "2"},
        }
        tetherenv.create(kube, pinned)
        for i in range(APPS):
            tetherenv.create(
                kube,
                tetherenv.application(
                    f"app-{i}",
                    full_namespace,
                    repo.url,
                    f"app-{i}",
                    full_namespace,
                    project="pinned" if i < PINNED else "default",
                    syncPolicy={"automated": {}},
                ),
            )
        for replica in REPLICAS:
            replicas[replica] = tetherenv.start_controller_process(
                crds.kubeconfig,
                full_namespace,
                tmp_path / f"cache-{replica}",
                tmp_path / f"{replica}.log",
                resync_s=3,
                extra_args=("--sharding", "--replica-name", replica, "--no-api", "--workers", "4"),
            )
        first = repo.seed.shas["initial"]
        await tetherenv.eventually(
            lambda: all_at(kube, full_namespace, "v1", first), 150, "every app Synced at v1"
        )
        owners = {
            app: records[-1]["writer"]
            for app, records in writes(crds.audit_log, full_namespace).items()
        }
        assert set(owners.values()) == set(REPLICAS), owners  # the apps are spread over all three
        assert {owners[f"app-{i}"] for i in range(PINNED)} == {"shard-2"}  # the project's pin

        victim = "shard-2"
        replicas[victim].kill()
        second = repo.commit(files("v2"), "v2")
        await tetherenv.eventually(
            lambda: all_at(kube, full_namespace, "v2", second), 150, "every app Synced at v2"
        )

        audited = writes(crds.audit_log, full_namespace)
        taken = [app for app, owner in owners.items() if owner == victim]
        # The pinned apps among them: their replica is gone, so they are hashed over the others.
        assert {f"app-{i}" for i in range(PINNED)} <= set(taken)
        for app in taken:
            assert audited[app][-1]["writer"] != victim  # a survivor wrote it at v2
        for app, records in audited.items():
            for record in records:
                # Every write that started finished (the killed replica's included).
                assert "ResponseComplete" in record["stages"], (app, record)
            # Writers take turns, never overlapping: every write of one turn ended before the
            # next writer's first began. (A replica whose Lease lapses, a process stalled for
            # 15 s on a loaded machine, loses its apps and wins them back 15 s after it renews:
            # A..A B..B A..A, each turn closed before the next.)
            ended = ""
            for before, after in itertools.pairwise(records):
                ended = max(ended, before.get("completed", ""))
                if before["writer"] != after["writer"]:
                    assert ended <= after["received"], (app, writers_in_turn(records), after)
    finally:
        for process in replicas.values():
            process.stop()
        repo.server.stop()
        kube.close()
