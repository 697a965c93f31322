"""The controller survives a kube-apiserver restart: watches recover, nothing is re-applied."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {color: %s}
"""


@pytest.fixture
def restart_namespace(crds) -> Iterator[str]:
    """A namespace deleted with a client made after the restart.

    The shared ``full_namespace`` fixture's client keeps a connection to the stopped server.
    """
    with tetherenv.fresh_namespace(crds.kubeconfig, "t-apiserver-restart") as name:
        yield name


def exists(kube, name: str, namespace: str) -> bool:
    return tetherenv.exists(kube, ConfigMap, name, namespace)


def tether_apply_times(kube, namespace: str) -> dict[str, str]:
    return {
        str(o.metadata.name): str(
            [m.time for m in o.metadata.managedFields or [] if m.manager == "tether"]
        )
        for o in kube.list(ConfigMap, namespace=namespace)
    }


async def test_after_an_apiserver_restart_nothing_is_reapplied_and_changes_are_still_seen(
    crds, restart_namespace, tmp_path
):
    ns = restart_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/a.yaml": CM % ("a", "blue"), "app/b.yaml": CM % ("b", "green")},
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "steady",
                ns,
                repo.url,
                "app",
                ns,
                syncPolicy={"automated": {"prune": True, "selfHeal": True}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=3.0
        ) as controller:
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "steady"), 60, "Synced"
            )
            versions = tetherenv.resource_versions(kube, ConfigMap, ns)
            applied = tether_apply_times(kube, ns)

            await tetherenv.restart_apiserver(crds.directory)
            assert not controller.done()
            # Several resync periods pass with the controller reconnected.
            await asyncio.sleep(10)
            assert not controller.done()
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "steady"), 30, "Synced after"
            )
            assert tetherenv.resource_versions(kube, ConfigMap, ns) == versions
            assert tether_apply_times(kube, ns) == applied

            # The cache follows the cluster again: a hand deletion is seen and healed (a stale
            # cache would still hold the object and see nothing to do).
            kube.delete(ConfigMap, "b", namespace=ns)
            await tetherenv.eventually(lambda: exists(kube, "b", ns), 30, "b restored")

            # And Git changes are still applied.
            repo.commit({"app/a.yaml": CM % ("a", "red")})
            await tetherenv.eventually(
                lambda: kube.get(ConfigMap, "a", namespace=ns).data == {"color": "red"},
                30,
                "the commit applied after the restart",
            )
    finally:
        repo.server.stop()
        kube.close()
