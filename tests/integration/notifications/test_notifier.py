"""The notifier's pass over one app, on the real control plane: ownership, oncePer, edge triggers.

No controller runs: the test writes the Application's status itself and asks for a pass, so each
de-duplication rule is seen on its own, with the real evaluator, receiver and annotation writes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.support import receivers, tetherenv
from tether import bootstrap
from tether.bootstrap.notifications import Notifications
from tether.model import application
from tether.model.resources import ResourceKey
from tether.settings import Settings

pytestmark = pytest.mark.timeout(60)

TEMPLATE = "message: '{{.app.status.sync.revision}}'\nwebhook:\n  hook: {method: POST, body: x}\n"
CONFIG = {
    "template.note": TEMPLATE,
    # oncePer: once per revision, whatever the condition does between.
    "trigger.on-synced": (
        "- when: app.status.sync.status == 'Synced'\n"
        "  oncePer: app.status.sync.revision\n"
        "  send: [note]\n"
    ),
    # No oncePer: again each time it turns true.
    "trigger.on-out-of-sync": "- when: app.status.sync.status == 'OutOfSync'\n  send: [note]\n",
}


def status(sync: str, revision: str) -> dict[str, Any]:
    return {"sync": {"status": sync, "revision": revision}, "reconciledAt": "2026-01-01T00:00:00Z"}


async def test_only_an_owned_app_is_notified_once_per_value_and_an_edge_trigger_re_arms(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    settings = Settings(app_namespaces=(ns,), cache_dir=str(tmp_path / "c"), freeze_gc=False)
    owned = {"yes": False}
    with receivers.http_receiver() as hook:
        hook_service = yaml.safe_dump({"url": hook.url})
        tetherenv.put_configmap(
            kube, ns, "argocd-notifications-cm", {**CONFIG, "service.webhook.hook": hook_service}
        )
        body = tetherenv.application("web", ns, "https://example.invalid/r.git", ".", ns)
        body["metadata"]["annotations"] = {
            "notifications.argoproj.io/subscribe.on-synced.hook": "",
            "notifications.argoproj.io/subscribe.on-out-of-sync.hook": "",
        }
        body["status"] = status("Synced", "aaa")
        tetherenv.create(kube, body)
        async with await bootstrap.runtime(settings, kubeconfig=crds.kubeconfig) as rt:
            wired = Notifications(rt, lambda _key: owned["yes"])
            await wired.start()
            key = (ns, "web")
            cache_key = ResourceKey(application.GROUP, application.KIND, ns, "web")

            async def settled_pass(version: str = "") -> None:
                """A pass once the cache holds the app at ``version`` (the last write) or later."""

                def caught_up() -> bool:
                    cached = rt.live.manifest(cache_key)
                    seen = int(((cached or {}).get("metadata") or {}).get("resourceVersion") or 0)
                    return cached is not None and seen >= int(version or 0)

                await tetherenv.eventually(caught_up, 20, "the cache catching up")
                await wired.notifier.process(key)

            def current_version() -> str:
                app = tetherenv.get(kube, tetherenv.Application, "web", ns)
                return str(app["metadata"]["resourceVersion"])

            def set_status(value: dict[str, Any]) -> str:
                tetherenv.patch_app(kube, ns, "web", {"status": value})
                return current_version()

            try:
                await settled_pass()
                assert hook.requests == []  # another replica's app
                owned["yes"] = True
                await settled_pass()
                assert len(hook.requests) == 1
                await settled_pass(current_version())
                assert len(hook.requests) == 1  # the state says it went
                # OutOfSync: the edge trigger fires; the oncePer one keeps its entry.
                await settled_pass(set_status(status("OutOfSync", "aaa")))
                assert len(hook.requests) == 2
                # Synced at the same revision: nothing (once per value); the edge trigger re-arms.
                await settled_pass(set_status(status("Synced", "aaa")))
                assert len(hook.requests) == 2
                await settled_pass(set_status(status("OutOfSync", "aaa")))
                assert len(hook.requests) == 3
                # A new revision: the oncePer trigger fires again.
                await settled_pass(set_status(status("Synced", "bbb")))
                assert len(hook.requests) == 4
                annotations = tetherenv.get(kube, tetherenv.Application, "web", ns)["metadata"][
                    "annotations"
                ]
                state = json.loads(annotations["notified.notifications.argoproj.io"])
                assert sorted(k.split(":")[0] for k in state if k.count(":") == 4) == ["aaa", "bbb"]
            finally:
                await wired.aclose()
    kube.close()
