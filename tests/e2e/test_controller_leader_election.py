"""Two `tether run` replicas with leader election: one leads, a standby takes over on its death."""

from __future__ import annotations

import pytest
from lightkube import ApiError
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: %s}
"""


def holder(kube, namespace: str) -> str:
    try:
        lease = kube.get(Lease, "tether-controller", namespace=namespace)
    except ApiError as err:
        if err.status.code == 404:
            return ""
        raise
    return str((lease.spec.holderIdentity if lease.spec else None) or "")


def application_writes(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "HTTP Request: PATCH" in line and "/applications/led" in line
    ]


def held_by(kube, namespace: str, replica: tetherenv.ControllerProcess) -> bool:
    return holder(kube, namespace).endswith(f"_{replica.pid}")


async def test_only_the_leader_reconciles_and_a_standby_takes_over_when_it_dies(
    full_cluster, full_namespace, tmp_path
):
    tetherenv.install_crds(full_cluster.kubeconfig)
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % "blue"})
    kube = tetherenv.client(full_cluster.kubeconfig)
    logs = tmp_path / "logs"
    logs.mkdir()

    def replica(name: str) -> tetherenv.ControllerProcess:
        return tetherenv.start_controller_process(
            full_cluster.kubeconfig,
            ns,
            tmp_path / f"cache-{name}",
            logs / f"{name}.log",
            resync_s=2,
            leader_election=True,
        )

    first = replica("first")
    second: tetherenv.ControllerProcess | None = None
    try:
        await tetherenv.eventually(lambda: held_by(kube, ns, first), 60, "the first leads")
        second = replica("second")
        standby = second
        tetherenv.create(
            kube,
            tetherenv.application(
                "led", ns, repo.url, "app", ns, syncPolicy={"automated": {"prune": True}}
            ),
        )
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, ns, "led"), 60, "Synced under the first"
        )
        await tetherenv.eventually(
            lambda: "waiting to lead" in standby.log(), 30, "the second waiting"
        )
        assert held_by(kube, ns, first)
        assert "leading as" not in standby.log()
        assert "leading as" in first.log()
        # Only the leader writes the Application (its client logs each request at -v).
        assert application_writes(first.log())
        assert not application_writes(standby.log())

        first.kill()  # no release: the standby must wait for the Lease to expire
        await tetherenv.eventually(
            lambda: held_by(kube, ns, standby), 45, "the second took the Lease"
        )
        # The Lease write lands before the log line that reports it: wait for both.
        await tetherenv.eventually(
            lambda: "leading as" in standby.log(), 15, "the second says it leads"
        )
        lease = kube.get(Lease, "tether-controller", namespace=ns)
        assert lease.spec is not None and (lease.spec.leaseTransitions or 0) >= 1

        sha = repo.commit({"app/cm.yaml": CM % "green"})
        await tetherenv.eventually(
            lambda: kube.get(ConfigMap, "settings", namespace=ns).data == {"color": "green"},
            45,
            "the new leader applied the commit",
        )
        await tetherenv.eventually(
            lambda: tetherenv.app_status(kube, ns, "led")["sync"].get("revision") == sha,
            30,
            "the status at the new commit",
        )
        assert "Traceback" not in standby.log()
    finally:
        first.kill()
        if second is not None:
            second.stop()
        repo.server.stop()
        kube.close()
