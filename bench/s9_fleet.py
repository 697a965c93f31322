"""S9 10,000 Applications: 10,000 apps of one ConfigMap and 100 apps of 50, auto-synced, created
at once on one controller with leader election on; time until all are Synced, the controller's
peak RSS and requests by verb; then a fresh controller (the same Lease) with a short resync period:
CPU per app per resync with nothing to write.

Baselines on the same control plane, after tether's phases: the floor (a bare lightkube client
creating each Application, server-side applying each of its objects and writing one status, 20 at
a time like tether's 20 workers) and ``kubectl apply --server-side`` once per app directory, run
over every ``KUBECTL_EVERY``-th app (the whole loop would take a quarter of an hour) and scaled to
the fleet: ``kubectl_sampled_every`` and ``kubectl_sampled_s`` say so.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

from bench import env, fleetrun, manyapps

SMALL, LARGE, OBJECTS_PER_LARGE = 10_000, 100, 50
KUBECTL_EVERY = 50 if env.QUICK else 10
"""The kubectl loop runs over every tenth app (every fiftieth in a quick run: it is the slowest
part of S9 and the quick run has minutes), small and large alike, then is scaled."""
DEST, FLOOR_APPS, FLOOR_DEST, KUBECTL_DEST = "s9-dest", "s9-floor", "s9-floor-dest", "s9-kubectl"
STEADY_RESYNC_S = 5.0 if env.QUICK else 40.0
"""The steady phase's resync period: long enough that every app's turn comes once a period
even at 10,000 apps and a few ms each (else the window measures a queue that never empties)."""
STEADY_JITTER_S = STEADY_RESYNC_S / 10
LEADER_ELECTION = os.environ.get("BENCH_S9_LEADER_ELECTION", "1") != "0"
"""On by default, as issue 16 asks; ``BENCH_S9_LEADER_ELECTION=0`` measures the rest when a
leader cannot keep its Lease (its event loop saturated at 10,000 apps on a loaded machine)."""
LEASE = "s9-bench"
POLL_S = 2.0 if env.QUICK else 10.0
"""How often the bench reads the controller's /metrics while waiting: each read parses every
Application in the controller (seconds of its CPU at 10,000 apps), so not every second."""


def layout(prefix: str = "s9", dest: str = DEST) -> manyapps.Layout:
    """S9's fleet (a tenth of it in a quick run; the large apps keep their 50 objects)."""
    return manyapps.Layout(
        small=env.scaled(SMALL),
        large=env.scaled(LARGE),
        objects_per_large=OBJECTS_PER_LARGE,
        prefix=prefix,
        dest=dest,
    )


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S9 on a control plane of its own."""
    with env.dev_cluster("full") as cluster:
        await env.install_crds(cluster.kubeconfig)
        return await _measure(cluster.kubeconfig, workdir / "s9")


async def _measure(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> dict[str, Any]:
    fleet = layout()
    kube = env.client(kubeconfig)
    repo, sha = manyapps.serve(fleet, workdir / "git")
    results: dict[str, Any] = {
        "apps": fleet.size,
        "small_apps": fleet.small,
        "large_apps": fleet.large,
        "objects": fleet.objects,
        "leader_election": LEADER_ELECTION,
    }
    try:
        await env.ensure_namespaces(kube, DEST, FLOOR_APPS, FLOOR_DEST, KUBECTL_DEST)
        # tether first, the baselines after: at full size on a loaded machine the baselines
        # take longer than tether, and a run cut short should still have tether's numbers.
        controllers = fleetrun.Controllers(
            kubeconfig,
            workdir,
            "s9",
            leader_election=LEADER_ELECTION,
            settings={"lease_name": LEASE},  # the steady phase's controller takes it over
            poll_s=POLL_S,
        )
        results |= await fleetrun.sync_phase(controllers, kube, fleet, repo.url, sha)
        env.log(f"S9 so far: {json.dumps(results)}")
        results |= await fleetrun.steady_phase(controllers, fleet, STEADY_RESYNC_S, STEADY_JITTER_S)
        env.log(f"S9 so far: {json.dumps(results)}")
        env.log(f"S9 floor: {fleet.size} apps, {fleet.objects} objects")
        floor_s = await manyapps.floor(kubeconfig, fleet, repo.url, sha, FLOOR_APPS, FLOOR_DEST)
        results |= {"floor_s": floor_s, "floor_ratio": results["tether_s"] / floor_s}
        env.log(f"S9 floor: {floor_s:.1f} s; kubectl loop over every {KUBECTL_EVERY}th app")
        sampled = manyapps.kubectl_sampled(
            kubeconfig, repo.work, fleet, KUBECTL_EVERY, KUBECTL_DEST
        )
        env.log(f"S9 kubectl: {sampled.seconds:.1f} s sampled, {sampled.scaled_s:.0f} s scaled")
        results |= {
            "kubectl_s": sampled.scaled_s,
            "kubectl_sampled_every": sampled.every,
            "kubectl_sampled_apps": sampled.apps,
            "kubectl_sampled_s": sampled.seconds,
            "kubectl_ratio": results["tether_s"] / sampled.scaled_s,
        }
    finally:
        await kube.aclose()
        repo.stop()
    return results
