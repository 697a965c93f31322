"""``argocd-notifications-cm`` read into one :class:`NotificationConfig` (pure; no secrets).

Service settings keep their ``$key`` references: values come from ``argocd-notifications-secret``
only when a message is sent (:func:`resolve`), so no parsed configuration ever holds a secret.
A bad entry is left out with a warning naming its key; the others stay in force.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

import yaml

from tether.core.app import selectors
from tether.model.errors import InvalidInputError

CONFIG_MAP = "argocd-notifications-cm"
SECRET = "argocd-notifications-secret"

SERVICE_TYPES: dict[str, str] = {
    # type -> why tether knows it
    "webhook": "any HTTP endpoint: method, path and body per template",
    "slack": "an incoming webhook URL, or chat.postMessage with a bot token",
    "email": "SMTP, via the Python standard library",
    "github": "commit statuses, with a token or GitHub App credentials",
}
"""The services tether sends to; another type in the ConfigMap is a warning, not an error."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")
_SECRET_REF = re.compile(r"\$([A-Za-z0-9_.-]+)")


@dataclasses.dataclass(frozen=True)
class Condition:
    """One condition of a trigger: when ``when`` holds, send ``send``, once per ``once_per``."""

    when: str
    send: tuple[str, ...]
    once_per: str = ""
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Trigger:
    """A named trigger: its conditions, in order (their index is part of the state key)."""

    name: str
    conditions: tuple[Condition, ...]


@dataclasses.dataclass(frozen=True)
class Template:
    """A message template: ``message`` and the per-service blocks, each string a Go template."""

    name: str
    body: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Service:
    """A configured service: ``service.<type>[.<name>]``; subscriptions name it by ``name``."""

    type: str
    name: str
    settings: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Subscription:
    """A global subscription: these recipients hear these triggers for the selected apps."""

    recipients: tuple[tuple[str, str], ...]
    triggers: tuple[str, ...]
    selector: selectors.Selector


@dataclasses.dataclass(frozen=True)
class NotificationConfig:
    """Everything ``argocd-notifications-cm`` says, minus what was refused (``warnings``)."""

    triggers: Mapping[str, Trigger] = dataclasses.field(default_factory=dict)
    templates: Mapping[str, Template] = dataclasses.field(default_factory=dict)
    services: Mapping[str, Service] = dataclasses.field(default_factory=dict)
    subscriptions: tuple[Subscription, ...] = ()
    default_triggers: tuple[str, ...] = ()
    default_triggers_by_service: Mapping[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict
    )
    context: Mapping[str, str] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def triggers_for(self, service: str) -> tuple[str, ...]:
        """The default triggers of a service (``defaultTriggers.<service>``, else the global)."""
        return self.default_triggers_by_service.get(service, self.default_triggers)


EMPTY = NotificationConfig()


def parse(data: Mapping[str, str]) -> NotificationConfig:
    """Read the ConfigMap's ``data``; never raises: bad keys become ``warnings``."""
    out: dict[str, Any] = {
        "triggers": {},
        "templates": {},
        "services": {},
        "by_service": {},
        "warnings": [],
    }
    fields: dict[str, Any] = {}
    for key in sorted(data):
        value = data[key]
        try:
            _read(key, value, out, fields)
        except (InvalidInputError, yaml.YAMLError, TypeError, ValueError) as err:
            out["warnings"].append(f"{CONFIG_MAP} key {key!r} ignored: {_short(err)}")
    return NotificationConfig(
        triggers=out["triggers"],
        templates=out["templates"],
        services=out["services"],
        subscriptions=tuple(fields.get("subscriptions", ())),
        default_triggers=tuple(fields.get("defaultTriggers", ())),
        default_triggers_by_service=out["by_service"],
        context=dict(fields.get("context", {})),
        warnings=tuple(out["warnings"]),
    )


def _read(key: str, value: str, out: dict[str, Any], fields: dict[str, Any]) -> None:
    kind, _, name = key.partition(".")
    if kind == "trigger" and name:
        out["triggers"][name] = _trigger(name, yaml.safe_load(value))
    elif kind == "template" and name:
        out["templates"][name] = Template(name, _mapping(yaml.safe_load(value), "a template"))
    elif kind == "service" and name:
        stype, _, sname = name.partition(".")
        if stype not in SERVICE_TYPES:
            raise InvalidInputError(f"service type {stype!r} is not supported")
        service = Service(stype, sname or stype, _mapping(yaml.safe_load(value), "a service"))
        out["services"][service.name] = service
    elif key == "subscriptions":
        fields["subscriptions"] = [_subscription(s) for s in _list(yaml.safe_load(value))]
    elif key == "defaultTriggers":
        fields["defaultTriggers"] = _names(yaml.safe_load(value))
    elif kind == "defaultTriggers" and name:
        out["by_service"][name] = tuple(_names(yaml.safe_load(value)))
    elif key == "context":
        loaded = _mapping(yaml.safe_load(value) or {}, "context")
        fields["context"] = {str(k): str(v) for k, v in loaded.items()}
    else:
        raise InvalidInputError("not a key of Argo CD Notifications")


def _trigger(name: str, loaded: object) -> Trigger:
    conditions = []
    for item in _list(loaded):
        spec = _mapping(item, "a trigger condition")
        when = spec.get("when")
        if not isinstance(when, str) or not when.strip():
            raise InvalidInputError("a condition has no 'when'")
        conditions.append(
            Condition(
                when=when,
                send=tuple(_names(spec.get("send") or [])),
                once_per=str(spec.get("oncePer") or ""),
                description=str(spec.get("description") or ""),
            )
        )
    if not conditions:
        raise InvalidInputError("a trigger needs at least one condition")
    return Trigger(name, tuple(conditions))


def _subscription(item: object) -> Subscription:
    spec = _mapping(item, "a subscription")
    recipients = []
    for text in _names(spec.get("recipients") or []):
        service, sep, recipient = text.partition(":")
        if not sep:
            raise InvalidInputError(f"recipient {text!r} is not <service>:<recipient>")
        recipients.append((service, recipient))
    selector = selectors.parse(str(spec.get("selector") or ""))
    return Subscription(tuple(recipients), tuple(_names(spec.get("triggers") or [])), selector)


def resolve(settings: Mapping[str, Any], secret: Mapping[str, str]) -> Mapping[str, Any]:
    """``settings`` with each ``$key`` replaced by the secret's value (an unknown key stays).

    Returns a new structure; call it only where a message is sent.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _SECRET_REF.sub(lambda m: secret.get(m.group(1), m.group(0)), value)
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    resolved: Mapping[str, Any] = walk(settings)
    return resolved


def secret_values(settings: Mapping[str, Any], secret: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values ``settings`` refer to: what a message about it must mask."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(secret[m] for m in _SECRET_REF.findall(value) if secret.get(m))
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(settings)
    return tuple(found)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a mapping")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInputError("must be a YAML list")
    return value


def _names(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = [str(item) for item in items]
    for name in names:
        if not _NAME.match(name.partition(":")[0]):
            raise InvalidInputError(f"{name!r} is not a valid name")
    return names


def _short(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]
