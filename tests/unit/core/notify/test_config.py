"""argocd-notifications-cm read into a NotificationConfig."""

from __future__ import annotations

import pathlib

import yaml

from tether.core.notify import config

CATALOG = pathlib.Path(__file__).parents[4] / "deploy/notifications/argocd-notifications-cm.yaml"


def test_triggers_templates_services_and_defaults_are_read() -> None:
    parsed = config.parse(
        {
            "trigger.on-sync-failed": (
                "- when: app.status.operationState?.phase in ['Error', 'Failed']\n"
                "  oncePer: app.status.sync.revision\n"
                "  send: [app-sync-failed]\n"
            ),
            "template.app-sync-failed": "message: failed {{.app.metadata.name}}\n",
            "service.webhook.ops": "url: https://hooks.example/x\nbasicAuth: {password: $pw}\n",
            "service.slack": "token: $slack-token\n",
            "defaultTriggers": "- on-sync-failed\n",
            "defaultTriggers.slack": "[on-sync-succeeded]\n",
            "context": "argocdUrl: https://cd.example\n",
            "subscriptions": (
                "- recipients: [slack:team]\n  selector: env=prod\n  triggers: [on-sync-failed]\n"
            ),
        }
    )
    assert parsed.warnings == ()
    condition = parsed.triggers["on-sync-failed"].conditions[0]
    assert condition.send == ("app-sync-failed",)
    assert condition.once_per == "app.status.sync.revision"
    assert parsed.templates["app-sync-failed"].body["message"].startswith("failed")
    assert parsed.services["ops"].type == "webhook"
    assert parsed.services["slack"].settings == {"token": "$slack-token"}
    assert parsed.triggers_for("slack") == ("on-sync-succeeded",)
    assert parsed.triggers_for("ops") == ("on-sync-failed",)
    assert parsed.context == {"argocdUrl": "https://cd.example"}
    assert parsed.subscriptions[0].recipients == (("slack", "team"),)
    assert parsed.subscriptions[0].selector.matches({"env": "prod"})


def test_a_bad_key_is_a_warning_naming_it_and_the_rest_stays_in_force() -> None:
    parsed = config.parse(
        {
            "trigger.broken": "- send: [x]\n",
            "trigger.not-yaml": "- when: [\n",
            "service.teams": "recipientUrls: {}\n",
            "something": "else",
            "template.ok": "message: hi\n",
        }
    )
    assert set(parsed.templates) == {"ok"}
    assert parsed.triggers == {}
    text = "\n".join(parsed.warnings)
    for key in ("trigger.broken", "trigger.not-yaml", "service.teams", "something"):
        assert repr(key) in text


def test_secret_references_are_resolved_only_on_request_and_their_values_listed() -> None:
    settings = {"url": "https://x", "headers": [{"name": "Authorization", "value": "Bearer $tok"}]}
    secret = {"tok": "s3cr3t"}
    assert config.resolve(settings, secret)["headers"][0]["value"] == "Bearer s3cr3t"
    assert config.secret_values(settings, secret) == ("s3cr3t",)
    assert config.resolve({"a": "$missing"}, secret) == {"a": "$missing"}


def test_the_shipped_catalog_parses_with_every_standard_trigger_and_its_template() -> None:
    data = yaml.safe_load(CATALOG.read_text())["data"]
    parsed = config.parse(data)
    assert parsed.warnings == ()
    for trigger in (
        "on-sync-succeeded",
        "on-sync-failed",
        "on-sync-running",
        "on-health-degraded",
        "on-deployed",
        "on-sync-status-unknown",
        "on-created",
        "on-deleted",
    ):
        (condition,) = parsed.triggers[trigger].conditions
        (template,) = condition.send
        assert template in parsed.templates
