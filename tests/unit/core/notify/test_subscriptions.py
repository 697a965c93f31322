"""Who is subscribed to an app: annotations on it and its project, and global subscriptions."""

from __future__ import annotations

from tether.core.notify import config, subscriptions
from tether.core.notify.subscriptions import Destination

CONFIG = config.parse(
    {
        "defaultTriggers": "[on-sync-failed, on-health-degraded]",
        "subscriptions": "- recipients: ['email:ops@example.com']\n  selector: tier=web\n",
    }
)


def test_trigger_and_service_annotations_split_recipients_on_semicolons() -> None:
    found = subscriptions.of(
        CONFIG,
        {"notifications.argoproj.io/subscribe.on-sync-succeeded.slack": "a; b ;"},
        {},
        {},
    )
    assert found.destinations == (
        Destination("on-sync-succeeded", "slack", "a"),
        Destination("on-sync-succeeded", "slack", "b"),
    )


def test_a_service_only_annotation_uses_the_default_triggers() -> None:
    found = subscriptions.of(CONFIG, {"notifications.argoproj.io/subscribe.slack": "c"}, {}, {})
    assert {d.trigger for d in found.destinations} == {"on-sync-failed", "on-health-degraded"}


def test_an_empty_value_is_one_empty_recipient() -> None:
    found = subscriptions.of(
        CONFIG, {"notifications.argoproj.io/subscribe.on-deployed.github": ""}, {}, {}
    )
    assert found.destinations == (Destination("on-deployed", "github", ""),)


def test_project_annotations_merge_with_the_apps_without_duplicates() -> None:
    key = "notifications.argoproj.io/subscribe.on-sync-failed.slack"
    found = subscriptions.of(CONFIG, {key: "a"}, {key: "a;b"}, {})
    assert [d.recipient for d in found.destinations] == ["a", "b"]


def test_the_subscriptions_annotation_lists_triggers_and_destinations() -> None:
    value = (
        "- trigger: [on-sync-succeeded, on-sync-failed]\n"
        "  destinations:\n"
        "  - service: webhook-ops\n"
        "  - service: slack\n"
        "    recipients: [dev]\n"
    )
    found = subscriptions.of(CONFIG, {subscriptions.SUBSCRIPTIONS: value}, {}, {})
    assert len(found.destinations) == 4
    assert Destination("on-sync-failed", "webhook-ops", "") in found.destinations


def test_global_subscriptions_apply_to_apps_their_selector_matches() -> None:
    assert subscriptions.of(CONFIG, {}, {}, {"tier": "db"}).destinations == ()
    found = subscriptions.of(CONFIG, {}, {}, {"tier": "web"})
    assert {d.recipient for d in found.destinations} == {"ops@example.com"}


def test_a_recipient_with_control_characters_is_ignored_with_a_warning() -> None:
    key = "notifications.argoproj.io/subscribe.on-sync-failed.email"
    found = subscriptions.of(CONFIG, {key: "a@example.com\r\nBcc: x@evil"}, {}, {})
    assert found.destinations == ()
    assert "control characters" in found.warnings[0]
    assert key in found.warnings[0]


def test_a_malformed_subscribe_key_is_a_warning() -> None:
    found = subscriptions.of(
        CONFIG, {"notifications.argoproj.io/subscribe.a.b.c": "x", "other": "y"}, {}, {}
    )
    assert found.destinations == ()
    assert len(found.warnings) == 1
