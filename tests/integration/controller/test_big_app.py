"""A 5,000-object app on a real API server: it syncs, and its status stays under etcd's limit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(600)

OBJECTS = 5_000


def many_config_maps(count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: config-map-{i:05d}}}\n"
        f"data: {{n: '{i}'}}\n"
        for i in range(count)
    )


async def test_a_5000_object_app_syncs_with_a_status_under_the_size_limit(
    crds, full_namespace, tmp_path
):
    files = {"app/all.yaml": many_config_maps(OBJECTS)}
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        full_namespace,
        tmp_path,
        "big",
        files,
        resync_s=30.0,
        syncPolicy={"automated": {}},
    ) as (kube, _repo):
        status: dict[str, Any] = {}
        for _ in range(270):
            # Every 2 s, not eventually()'s 0.2 s: each read decodes a 1.3 MB object in this
            # process, beside the controller.
            await asyncio.sleep(2)
            status = await asyncio.to_thread(tetherenv.app_status, kube, full_namespace, "big")
            state = status.get("operationState") or {}
            if state.get("phase") == "Succeeded" and status["sync"]["status"] == "Synced":
                break
        else:
            raise AssertionError(f"the big app never got Synced: {status.get('operationState')}")
        size = len(json.dumps(status))
        assert size < 1_450_000, f"status is {size} bytes"
        assert len(status["operationState"]["syncResult"]["resources"]) == OBJECTS
        listed = status["resources"]
        assert 0 < len(listed) < OBJECTS
        [truncated] = [
            c for c in status.get("conditions", []) if c["type"] == "StatusTruncatedWarning"
        ]
        assert f"lists {len(listed)} of {OBJECTS} resources" in truncated["message"]
