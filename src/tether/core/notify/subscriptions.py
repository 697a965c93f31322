"""Who hears what about an app: its annotations, its project's and the global subscriptions.

Annotations are tenant input: a recipient is a channel, an address or nothing, never a URL, so
one with control characters or past :data:`MAX_RECIPIENT` is refused with a warning.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import yaml

from tether.core.notify.config import NotificationConfig

PREFIX = "notifications.argoproj.io/"
SUBSCRIBE = PREFIX + "subscribe."
SUBSCRIPTIONS = PREFIX + "subscriptions"

MAX_RECIPIENT = 320
"""The longest e-mail address SMTP allows; channels and webhook names are far shorter."""

_BAD_RECIPIENT = re.compile(r"[\x00-\x1f\x7f]")


@dataclasses.dataclass(frozen=True, order=True)
class Destination:
    """One recipient of one service hearing one trigger."""

    trigger: str
    service: str
    recipient: str


@dataclasses.dataclass(frozen=True)
class Subscribed:
    """An app's destinations, and why some annotations were ignored."""

    destinations: tuple[Destination, ...]
    warnings: tuple[str, ...] = ()


def of(
    config: NotificationConfig,
    app_annotations: Mapping[str, str],
    project_annotations: Mapping[str, str],
    app_labels: Mapping[str, str],
) -> Subscribed:
    """Every destination for an app: both objects' annotations merged, then the global ones."""
    found: set[Destination] = set()
    warnings: list[str] = []
    for where, found_on in (
        ("Application", app_annotations),
        ("AppProject", project_annotations),
    ):
        for key, value in sorted(found_on.items()):
            try:
                found.update(_from_annotation(config, key, value))
            except ValueError as err:
                warnings.append(f"{where} annotation {key!r} ignored: {err}")
    for subscription in config.subscriptions:
        if not subscription.selector.matches(app_labels):
            continue
        for service, recipient in subscription.recipients:
            for trigger in subscription.triggers or config.triggers_for(service):
                found.add(Destination(trigger, service, recipient))
    return Subscribed(tuple(sorted(found)), tuple(warnings))


def _from_annotation(config: NotificationConfig, key: str, value: str) -> list[Destination]:
    if key == SUBSCRIPTIONS:
        return _from_list(value)
    if not key.startswith(SUBSCRIBE):
        return []
    parts = key.removeprefix(SUBSCRIBE).split(".")
    if len(parts) == 2 and all(parts):
        triggers: tuple[str, ...] = (parts[0],)
        service = parts[1]
    elif len(parts) == 1 and parts[0]:
        service = parts[0]
        triggers = config.triggers_for(service)
    else:
        raise ValueError("expected subscribe.<trigger>.<service> or subscribe.<service>")
    recipients = recipients_of(value)
    return [Destination(t, service, r) for t in triggers for r in recipients]


def _from_list(value: str) -> list[Destination]:
    try:
        loaded = yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise ValueError("not YAML") from err
    if not isinstance(loaded, list):
        raise ValueError("must be a YAML list")
    out: list[Destination] = []
    for item in loaded:
        if not isinstance(item, Mapping):
            raise ValueError("each subscription must be a mapping")
        triggers = item.get("trigger") or []
        triggers = triggers if isinstance(triggers, list) else [triggers]
        for dest in item.get("destinations") or []:
            if not isinstance(dest, Mapping) or not dest.get("service"):
                raise ValueError("each destination needs a service")
            recipients = dest.get("recipients") or [""]
            recipients = recipients if isinstance(recipients, list) else [recipients]
            for recipient in recipients:
                _check(str(recipient))
                out.extend(
                    Destination(str(t), str(dest["service"]), str(recipient)) for t in triggers
                )
    return out


def recipients_of(value: str) -> list[str]:
    """``rcpt1;rcpt2``, trimmed; an empty value is one empty recipient (webhook, github)."""
    recipients = [part.strip() for part in value.split(";") if part.strip()] or [""]
    for recipient in recipients:
        _check(recipient)
    return recipients


def _check(recipient: str) -> None:
    if len(recipient) > MAX_RECIPIENT:
        raise ValueError(f"a recipient is longer than {MAX_RECIPIENT} characters")
    if _BAD_RECIPIENT.search(recipient):
        raise ValueError("a recipient holds control characters")
