"""Secrets that fail to sync never show their values: not in status, Events, logs or diffs.

The API server refuses a TLS Secret without its keys, data that is not base64, and a change to
an immutable Secret. Each failure is reported, and a sweep of everything tether wrote or
printed finds none of the values, in plain, JSON-escaped or base64 form.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import subprocess
import sys
from typing import Any

import pytest
from lightkube.resources.core_v1 import Event

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

TLS_VALUE = f"tls-canary-{secrets.token_hex(6)}"
BAD_B64 = f"!!-b64-canary-{secrets.token_hex(6)}"
FIRST = f"first-canary-{secrets.token_hex(6)}"
SECOND = f"second-canary-{secrets.token_hex(6)}"

TLS = f"""apiVersion: v1
kind: Secret
metadata: {{name: tls}}
type: kubernetes.io/tls
stringData: {{password: {TLS_VALUE}}}
"""
NOT_BASE64 = f"""apiVersion: v1
kind: Secret
metadata: {{name: garbled}}
data: {{token: "{BAD_B64}"}}
"""
IMMUTABLE = """apiVersion: v1
kind: Secret
metadata: {name: frozen}
immutable: true
stringData: {password: %s}
"""


def forms(value: str) -> list[str]:
    encoded = base64.b64encode(value.encode()).decode()
    return [value, json.dumps(value)[1:-1], encoded[:-4]]


def finished(kube, namespace: str, name: str) -> dict[str, Any] | None:
    """The operation's final state once it is over, else ``None``."""
    app = tetherenv.finished_app(kube, namespace, name)
    return app["status"]["operationState"] if app else None


async def test_secrets_the_api_server_refuses_never_show_their_values(
    crds, full_namespace, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/frozen.yaml": IMMUTABLE % FIRST})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("vault", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "vault") == "OutOfSync",
                60,
                "compared",
            )
            tetherenv.start_sync(kube, ns, "vault")
            first = await tetherenv.eventually(
                lambda: finished(kube, ns, "vault"), 60, "the first sync"
            )
            assert first["phase"] == "Succeeded", first

            repo.commit(
                {
                    "app/frozen.yaml": IMMUTABLE % SECOND,
                    "app/tls.yaml": TLS,
                    "app/garbled.yaml": NOT_BASE64,
                }
            )
            tetherenv.patch_app(
                kube,
                ns,
                "vault",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}},
            )
            await tetherenv.eventually(
                lambda: len(tetherenv.app_status(kube, ns, "vault").get("resources") or []) >= 2,
                60,
                "the new commit compared",
            )
            tetherenv.start_sync(kube, ns, "vault")
            state = await tetherenv.eventually(
                lambda: finished(kube, ns, "vault"), 90, "the failing sync"
            )
            assert state["phase"] == "Failed", state
            failed = {r["name"]: r["message"] for r in state["syncResult"]["resources"]}
            assert set(failed) == {"frozen", "garbled", "tls"}, failed
            assert "Invalid (fields: data[tls.crt], data[tls.key])" in failed["tls"]
            diff = subprocess.run(
                [
                    sys.executable, "-m", "tether", "app", "diff", "vault",
                    "--kubeconfig", str(crds.kubeconfig), "-n", ns,
                    "--control-plane-namespace", ns,
                ],
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        assert "frozen" in diff.stdout, diff.stdout + diff.stderr
        app = json.dumps(tetherenv.get(kube, tetherenv.Application, "vault", ns))
        events = json.dumps([e.to_dict() for e in kube.list(Event, namespace=ns)])
        assert "frozen" in app and "tls" in app
        for where, text in {
            "the Application (status, operation, conditions)": app,
            "the namespace's Events": events,
            "the controller's log": caplog.text,
            "tether app diff": diff.stdout + diff.stderr,
        }.items():
            for value in (TLS_VALUE, BAD_B64, FIRST, SECOND):
                for form in forms(value):
                    assert form not in text, f"{value} shows in {where}"
    finally:
        repo.server.stop()
        kube.close()
