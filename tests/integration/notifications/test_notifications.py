"""Notifications from a running controller to real receivers on loopback.

Each test configures ``argocd-notifications-cm`` (the shipped catalog's triggers, with templates
and services of its own) and ``argocd-notifications-secret`` in the control-plane namespace,
subscribes Applications by annotation, and watches what the receivers get.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret

from tests.support import receivers, tetherenv

pytestmark = pytest.mark.timeout(240)

CATALOG = pathlib.Path(__file__).parents[3] / "deploy/notifications/argocd-notifications-cm.yaml"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {color: %s}\n"
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Valid_Name}\n"
SUBSCRIBE = "notifications.argoproj.io/subscribe."
TOKEN = "s3cr3t-hook-token"
HOOK_TEMPLATE = """
message: "{{.app.metadata.name}} synced"
webhook:
  hook:
    method: POST
    path: /sync/{{.app.metadata.name}}
    body: '{"revision": "{{.app.status.operationState.syncResult.revision}}"}'
"""


def catalog(**extra: str) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(CATALOG.read_text())["data"]
    return {**data, **extra}


def hook_service(url: str) -> str:
    return yaml.safe_dump(
        {"url": url, "headers": [{"name": "Authorization", "value": "Bearer $hook-token"}]}
    )


def configure(kube: Any, namespace: str, data: Mapping[str, str]) -> None:
    tetherenv.put_configmap(kube, namespace, "argocd-notifications-cm", data)
    secret = Secret(
        metadata=ObjectMeta(name="argocd-notifications-secret", namespace=namespace),
        stringData={"hook-token": TOKEN},
    )
    kube.create(secret)


def add_app(kube: Any, namespace: str, repo: tetherenv.ServedRepo, name: str, **annotations: str):
    # No retries: a failing sync fails at once.
    policy = {"automated": {}, "retry": {"limit": 0}}
    body = tetherenv.application(name, namespace, repo.url, name, namespace, syncPolicy=policy)
    body["metadata"]["annotations"] = {SUBSCRIBE + k: v for k, v in annotations.items()}
    tetherenv.create(kube, body)


def notified(kube: Any, namespace: str, name: str) -> dict[str, int]:
    app = tetherenv.get(kube, tetherenv.Application, name, namespace)
    annotations = app["metadata"].get("annotations") or {}
    loaded: dict[str, int] = json.loads(annotations.get("notified.notifications.argoproj.io", "{}"))
    return loaded


def metrics(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
        return str(response.read().decode())


async def test_a_synced_app_notifies_once_per_revision_and_the_token_never_shows(
    crds, full_namespace, tmp_path, caplog
):
    ns = full_namespace
    caplog.set_level(logging.DEBUG)
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"web/cm.yaml": CM % ("web", "blue")})
    with receivers.http_receiver() as hook:
        try:
            configure(
                kube,
                ns,
                catalog(
                    **{
                        "service.webhook.hook": hook_service(hook.url),
                        "template.app-sync-succeeded": HOOK_TEMPLATE,
                    }
                ),
            )
            add_app(kube, ns, repo, "web", **{"on-sync-succeeded.hook": ""})
            async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
                await tetherenv.eventually(lambda: hook.requests, 60, "the first message")
                first = hook.requests[0]
                assert (first.method, first.path) == ("POST", "/sync/web")
                assert first.headers["authorization"] == f"Bearer {TOKEN}"
                revision = json.loads(first.body)["revision"]
                assert len(revision) == 40
                # Resyncs rewrite the status; the same revision is not announced again.
                await asyncio.sleep(8)
                assert len(hook.requests) == 1
                second_sha = repo.commit({"web/cm.yaml": CM % ("web", "green")})
                await tetherenv.eventually(lambda: len(hook.requests) == 2, 60, "the 2nd message")
                assert json.loads(hook.requests[1].body)["revision"] == second_sha
                await tetherenv.eventually(
                    lambda: len(notified(kube, ns, "web")) == 2, 30, "two state entries"
                )
                keys = sorted(notified(kube, ns, "web"))
                assert any(k.startswith(f"{second_sha}:on-sync-succeeded:[0].") for k in keys)
                await asyncio.sleep(4)
                assert len(hook.requests) == 2
        finally:
            repo.server.stop()
            kube.close()
    assert TOKEN not in caplog.text


async def test_a_failed_sync_goes_to_slack_and_a_degraded_app_to_email(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    files = {"broken/cm.yaml": BROKEN, "sick/cm.yaml": CM % ("sick", "red")}
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    # A Lua health check makes the ConfigMap, and so the app, Degraded.
    tetherenv.put_configmap(
        kube,
        ns,
        "argocd-cm",
        {"resource.customizations.health.ConfigMap": 'return {status = "Degraded", message = "x"}'},
    )
    with receivers.http_receiver() as slack, receivers.smtp_receiver() as (smtp_port, mails):
        try:
            slack_service = yaml.safe_dump({"url": slack.url + "/services/T0/B0/x"})
            mail_service = yaml.safe_dump(
                {"host": "127.0.0.1", "port": smtp_port, "from": "cd@example.com"}
            )
            configure(
                kube,
                ns,
                catalog(**{"service.slack": slack_service, "service.email": mail_service}),
            )
            add_app(kube, ns, repo, "broken", **{"on-sync-failed.slack": "deploys"})
            add_app(kube, ns, repo, "sick", **{"on-health-degraded.email": "ops@example.com"})
            async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
                await tetherenv.eventually(lambda: slack.requests, 90, "the Slack message")
                payload = json.loads(slack.requests[0].body)
                assert payload["channel"] == "deploys"
                assert payload["text"].startswith("Sync of broken Failed")
                await tetherenv.eventually(lambda: mails, 90, "the e-mail")
                assert mails[0]["To"] == "ops@example.com"
                assert mails[0]["Subject"] == "Degraded: sick"
                assert mails[0].get_content().startswith("sick is Degraded")
                await asyncio.sleep(5)
                assert (len(slack.requests), len(mails)) == (1, 1)
        finally:
            repo.server.stop()
            kube.close()


async def test_a_receiver_down_at_first_gets_the_message_once_it_is_back(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"web/cm.yaml": CM % ("web", "blue")})
    with receivers.http_receiver(started=False) as hook:
        try:
            configure(
                kube,
                ns,
                catalog(
                    **{
                        "service.webhook.hook": hook_service(hook.url),
                        "template.app-sync-succeeded": HOOK_TEMPLATE,
                    }
                ),
            )
            add_app(kube, ns, repo, "web", **{"on-sync-succeeded.hook": ""})
            metrics_address = tetherenv.free_metrics_address()
            async with tetherenv.running_controller(
                crds.kubeconfig, ns, tmp_path / "cache", metrics_address=metrics_address
            ):
                await tetherenv.eventually(
                    lambda: 'succeeded="false"' in metrics(metrics_address), 60, "a failure"
                )
                assert notified(kube, ns, "web") == {}
                hook.start()
                await tetherenv.eventually(lambda: hook.requests, 60, "the late message")
                await tetherenv.eventually(lambda: notified(kube, ns, "web"), 30, "the state")
                await asyncio.sleep(3)
                assert len(hook.requests) == 1
        finally:
            repo.server.stop()
            kube.close()


async def test_a_bad_expression_is_reported_and_other_apps_reconcile_and_notify(
    crds, full_namespace, tmp_path, caplog
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    files = {"good/cm.yaml": CM % ("good", "blue"), "bad/cm.yaml": CM % ("bad", "blue")}
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    with receivers.http_receiver() as hook:
        try:
            configure(
                kube,
                ns,
                catalog(
                    **{
                        "service.webhook.hook": hook_service(hook.url),
                        "template.app-sync-succeeded": HOOK_TEMPLATE,
                        "trigger.on-broken": "- when: app.status.sync.status ==\n  send: [x]\n",
                        "template.app-bad": "message: '{{.app.metadata.name'\n",
                        "trigger.on-bad-template": "- when: 'true'\n  send: [app-bad]\n",
                    }
                ),
            )
            add_app(kube, ns, repo, "bad", **{"on-broken.hook": "", "on-bad-template.hook": ""})
            add_app(kube, ns, repo, "good", **{"on-sync-succeeded.hook": ""})
            metrics_address = tetherenv.free_metrics_address()
            async with tetherenv.running_controller(
                crds.kubeconfig, ns, tmp_path / "cache", metrics_address=metrics_address
            ):
                await tetherenv.eventually(lambda: hook.requests, 60, "the good app's message")
                assert hook.requests[0].path == "/sync/good"
                await tetherenv.eventually(
                    lambda: tetherenv.synced_healthy(kube, ns, "bad"), 60, "the bad app synced"
                )
                text = metrics(metrics_address)
                assert 'tether_notifications_errors_total{kind="expression"}' in text
                assert (
                    'argocd_notifications_deliveries_total{exported_service="hook",'
                    'succeeded="false",trigger="on-bad-template"} 1.0'
                ) in text
        finally:
            repo.server.stop()
            kube.close()
    assert caplog.text.count("trigger on-broken: expression failed: unexpected token") == 1
    assert "template 'app-bad'" in caplog.text
