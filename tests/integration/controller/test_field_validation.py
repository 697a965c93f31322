"""Fields the API server's schema does not know fail the sync, naming the field.

Found: no ``fieldValidation`` was sent, so a create or replace (``Replace=true``, hooks) left
the API server's default, ``Warn``: a misspelt field in Git was dropped with a response header
nobody reads, and the sync succeeded. Strict is the default now, as for ``kubectl apply``;
``Validate=false`` turns it off, as in Argo CD. (Server-side apply refuses unknown fields
whatever ``fieldValidation`` says, so applied objects were never affected.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {argocd.argoproj.io/sync-options: "%s"}
  %s
data: {a: "%s"}
"""

RETRYING_AT_HEAD = {
    "automated": {},
    # Retries pick up the fixed commit instead of waiting out the failed one's backoff.
    "retry": {"limit": -1, "refresh": True, "backoff": {"duration": "1s", "maxDuration": "2s"}},
}


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[[dict[str, str]], tetherenv.ServedRepo]]:
    """Serve one repository of ``files`` for the test; its server stops afterwards."""
    served: list[tetherenv.ServedRepo] = []

    def start(files: dict[str, str]) -> tetherenv.ServedRepo:
        served.append(tetherenv.serve_repo(tmp_path / "git", files))
        return served[-1]

    try:
        yield start
    finally:
        for repo in served:
            repo.server.stop()


def config_map(name: str, *, options: str = "", typo: bool = False, value: str = "1") -> str:
    return CM % (name, options, "lables: {team: ml}" if typo else "", value)


def live_data(kube: Any, name: str, namespace: str) -> dict[str, str] | None:
    try:
        found = kube.get(ConfigMap, name, namespace=namespace)
    except ApiError as err:
        if err.status.code == 404:
            return None
        raise
    assert not (found.metadata.labels or {}), "the unknown field reached the cluster"
    return dict(found.data or {})


def failed_naming(kube: Any, namespace: str, name: str, field: str) -> str | None:
    """The operation's message once its sync of an object failed naming ``field``.

    An automated sync retries (Argo CD's default) while the message keeps naming the field.
    """
    state = tetherenv.app_status(kube, namespace, name).get("operationState") or {}
    results = (state.get("syncResult") or {}).get("resources") or []
    message = str(state.get("message") or "")
    failed = any(r.get("status") == "SyncFailed" and field in r.get("message", "") for r in results)
    return message if failed and field in message else None


async def test_a_misspelt_field_fails_the_sync_naming_it_until_validate_false_says_otherwise(
    crds, kube, serve, full_namespace, tmp_path
):
    ns = full_namespace
    files = {
        "app/replaced.yaml": config_map("replaced", options="Replace=true", typo=True),
        "app/plain.yaml": config_map("plain"),
    }
    repo = serve(files)
    tetherenv.create(
        kube,
        tetherenv.application("strict", ns, repo.url, "app", ns, syncPolicy=RETRYING_AT_HEAD),
    )
    async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
        message = await tetherenv.eventually(
            lambda: failed_naming(kube, ns, "strict", "lables"), 60, "a failure naming lables"
        )
        assert "unknown field" in message
        # The check failed before anything was written: the valid object waits too.
        assert live_data(kube, "replaced", ns) is None
        assert live_data(kube, "plain", ns) is None
        assert tetherenv.sync_status(kube, ns, "strict") == "OutOfSync"

        options = "Replace=true,Validate=false"
        repo.commit({"app/replaced.yaml": config_map("replaced", options=options, typo=True)})
        await tetherenv.eventually(
            lambda: live_data(kube, "replaced", ns), 60, "created with Validate=false"
        )
        assert live_data(kube, "plain", ns) == {"a": "1"}


async def test_a_typo_added_to_a_replaced_object_fails_its_sync_and_changes_nothing(
    crds, kube, serve, full_namespace, tmp_path
):
    ns = full_namespace
    repo = serve({"app/cm.yaml": config_map("settings", options="Replace=true")})
    tetherenv.create(
        kube,
        tetherenv.application("later", ns, repo.url, "app", ns, syncPolicy={"automated": {}}),
    )
    async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "later"), 60)
        repo.commit(
            {"app/cm.yaml": config_map("settings", options="Replace=true", typo=True, value="2")}
        )
        await tetherenv.eventually(
            lambda: failed_naming(kube, ns, "later", "lables"), 60, "a failure naming lables"
        )
        assert tetherenv.sync_status(kube, ns, "later") == "OutOfSync"
        assert live_data(kube, "settings", ns) == {"a": "1"}


async def test_a_forced_dry_run_never_deletes_an_object_whose_immutable_field_changed(
    crds, kube, serve, full_namespace, tmp_path
):
    ns = full_namespace
    frozen = CM % ("frozen", "", "", "1") + "immutable: true\n"
    repo = serve({"app/cm.yaml": frozen})
    tetherenv.create(kube, tetherenv.application("frozen", ns, repo.url, "app", ns))
    async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
        tetherenv.start_sync(kube, ns, "frozen")
        await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "frozen"), 60)
        uid = kube.get(ConfigMap, "frozen", namespace=ns).metadata.uid
        repo.commit({"app/cm.yaml": frozen.replace('a: "1"', 'a: "2"')})
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "frozen") == "OutOfSync", 60
        )
        tetherenv.start_sync(
            kube, ns, "frozen", dryRun=True, syncStrategy={"apply": {"force": True}}
        )
        done = await tetherenv.eventually(lambda: tetherenv.finished_app(kube, ns, "frozen"), 60)
        assert "immutable" in done["status"]["operationState"]["message"]
        live = kube.get(ConfigMap, "frozen", namespace=ns)
        assert (live.metadata.uid, live.data) == (uid, {"a": "1"}), "a dry run replaced it"
