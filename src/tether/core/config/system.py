"""``argocd-cm`` and ``argocd-cmd-params-cm`` into one frozen :class:`SystemConfig`, with warnings.

A value tether cannot read (a bad duration, bad YAML, a Lua customization naming no kind) is a
:class:`ConfigError` naming the ConfigMap, the key and the reason: the caller keeps the last good
configuration. Unknown and unsupported keys are warnings (``keys``), never errors.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import yaml

from tether.core.cluster import cachepolicy
from tether.core.config import keys
from tether.core.config.keys import ARGOCD_CM, CMD_PARAMS_CM
from tether.core.diff import normalize, tracking
from tether.core.diff.ignore import IgnoreRule
from tether.core.health import lua
from tether.core.sources import renderconfig, rendering
from tether.core.sync import backoff
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind, Manifest, ResourceKey

M = TypeVar("M", bound=Manifest)

ConfigData = Mapping[str, Mapping[str, str]]
"""ConfigMap name → its ``data``; a missing ConfigMap is absent (its keys take their defaults)."""

BLOCK_KEY = lua.BLOCK_KEY
IGNORE_PREFIX = "resource.customizations.ignoreDifferences."
OPEN_LIBS_PREFIX = "resource.customizations.useOpenLibs."
BLOCK_FIELDS: dict[str, str] = {
    # What each field of a ``resource.customizations`` entry is, and who reads it.
    "health.lua": "a Lua health check: honoured",
    "health.lua.useOpenLibs": "honoured as accepted ('true' is warned about)",
    "ignoreDifferences": "ignoreDifferences for the kind: honoured",
    "actions": "Lua resource actions: read by the API",
    "knownTypeFields": "unsupported: server-side diff compares what the server stores",
    "ignoreResourceUpdates": "unsupported: tether drops only its fixed no-op update paths",
}
"""Fields of one ``resource.customizations`` entry; others are warned about as unknown."""

TRACKING_METHODS = {method.value: method for method in tracking.TrackingMethod}
LOG_FORMATS = ("text", "json")
LOG_LEVELS = {"debug": "debug", "info": "info", "warn": "warning", "warning": "warning"} | {
    "error": "error"
}
"""argocd-cmd-params-cm log levels (logrus' names) → tether's ``Settings.log_level``."""

_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)


NO_SCRIPTS = lua.LuaHealthOverrides()


class ConfigError(InvalidInputError):
    """A value of a ConfigMap tether cannot read; the message names the ConfigMap and key."""


@dataclasses.dataclass(frozen=True)
class SystemConfig:
    """Everything the controller takes from Argo CD's ConfigMaps; defaults when unset.

    ``None`` (or ``""``) means "not set": the command line's value (or its default) stays.
    """

    health: lua.LuaHealthOverrides = NO_SCRIPTS
    ignore_rules: tuple[IgnoreRule, ...] = ()
    """System-wide ignoreDifferences, before every app's own."""
    exclusions: tuple[cachepolicy.Exclusion, ...] = ()
    """``resource.exclusions``, added to tether's defaults (``cachepolicy.DEFAULT_EXCLUSIONS``)."""
    inclusions: tuple[cachepolicy.Exclusion, ...] = ()
    """``resource.inclusions``: when any, only kinds they match are watched and managed."""
    normalize: normalize.NormalizeOptions = normalize.DEFAULT_OPTIONS
    sensitive_annotations: frozenset[str] = frozenset()
    tracking: tracking.Tracking = tracking.DEFAULT_TRACKING
    resync_period: datetime.timedelta | None = None
    resync_jitter: datetime.timedelta | None = None
    hard_resync_period: datetime.timedelta | None = None
    """``timeout.hard.reconciliation``; zero turns it off."""
    sync_timeout: datetime.timedelta | None = None
    """``controller.sync.timeout.seconds``; zero means no limit."""
    workers: int | None = None
    log_format: str = ""
    log_level: str = ""
    repo_server_timeout: datetime.timedelta | None = None
    build_options: rendering.BuildOptions = rendering.DEFAULT_BUILD_OPTIONS
    """``kustomize.buildOptions``, ``helm.valuesFileSchemes``: carried by every render."""
    host_trust: renderconfig.HostTrust = renderconfig.NO_TRUST
    """``argocd-ssh-known-hosts-cm``, ``argocd-tls-certs-cm``: whom this process's Git and Helm
    trust when it renders itself (a repo-server reads its own files)."""
    warnings: tuple[str, ...] = ()
    """Unknown or unsupported keys and values, one sentence each naming the key."""

    def filtered_reason(self, group_kind: GroupKind, server: str = "") -> str:
        """Why this configuration leaves a kind out (``""``: it is in)."""
        return cachepolicy.filtered_reason(
            group_kind, server, (*cachepolicy.DEFAULT_EXCLUSIONS, *self.exclusions), self.inclusions
        )

    def without_excluded(self, objects: Sequence[M], server: str = "") -> tuple[list[M], str]:
        """The objects exclusions and inclusions leave in, and a message naming the others.

        As Argo CD's ``ExcludedResourceWarning``: an excluded object is never applied.
        """
        kept, named = [], []
        for obj in objects:
            key = ResourceKey.of(obj)
            if self.filtered_reason(key.group_kind, server):
                named.append(
                    f"Resource {key.group}/{key.kind} {key.name} is excluded in the settings"
                )
            else:
                kept.append(obj)
        more = len(named) - MAX_EXCLUDED_NAMED
        return kept, "; ".join(named[:MAX_EXCLUDED_NAMED]) + (
            f"; and {more} more" if more > 0 else ""
        )


MAX_EXCLUDED_NAMED = 20
"""Excluded resources a warning names one by one; more are counted."""

DEFAULT = SystemConfig()


def parse(data: ConfigData) -> SystemConfig:
    """Read both ConfigMaps.

    Raises:
        ConfigError: a value cannot be read; the message names the ConfigMap, key and reason.
    """
    cm = data.get(ARGOCD_CM) or {}
    params = data.get(CMD_PARAMS_CM) or {}
    warned: list[str] = []
    for name in keys.TABLES:
        warned.extend(keys.warnings(name, list((data.get(name) or {}).keys())))
    block = _yaml(cm, BLOCK_KEY, {}) if cm.get(BLOCK_KEY, "").strip() else {}
    if not isinstance(block, Mapping):
        raise _error(ARGOCD_CM, BLOCK_KEY, "must be a map of group/Kind to customizations")
    warned.extend(_block_warnings(block))
    try:
        health = lua.LuaHealthOverrides.from_config_map(cm)
    except InvalidInputError as err:
        raise ConfigError(str(err)) from err
    warned.extend(
        f"{ARGOCD_CM} resource.customizations: useOpenLibs for {s.pattern} is ignored: tether's "
        "Lua sandbox always offers the same safe libraries"
        for s in health.scripts
        if s.use_open_libs
    )
    compare, compare_warnings = _compare_options(cm)
    warned.extend(compare_warnings)
    try:
        build_options, found = renderconfig.build_options(cm)
    except InvalidInputError as err:
        raise ConfigError(str(err)) from None
    trust, trust_warnings = renderconfig.host_trust(
        data.get(keys.KNOWN_HOSTS_CM), data.get(keys.TLS_CERTS_CM)
    )
    warned.extend([*found, *trust_warnings])
    return SystemConfig(
        health=health,
        ignore_rules=_ignore_rules(cm, block),
        exclusions=_filters(cm, "resource.exclusions"),
        inclusions=_filters(cm, "resource.inclusions"),
        normalize=compare,
        sensitive_annotations=frozenset(
            a.strip()
            for a in cm.get("resource.sensitive.mask.annotations", "").split(",")
            if a.strip()
        ),
        tracking=_tracking(cm),
        resync_period=_duration(cm, "timeout.reconciliation"),
        resync_jitter=_duration(cm, "timeout.reconciliation.jitter"),
        hard_resync_period=_duration(cm, "timeout.hard.reconciliation"),
        sync_timeout=_seconds(params, "controller.sync.timeout.seconds"),
        workers=_positive(params, "controller.status.processors"),
        log_format=_choice(params, "controller.log.format", {f: f for f in LOG_FORMATS}),
        log_level=_choice(params, "controller.log.level", LOG_LEVELS),
        repo_server_timeout=_seconds(params, "controller.repo.server.timeout.seconds"),
        build_options=build_options,
        host_trust=trust,
        warnings=tuple(dict.fromkeys(warned)),
    )


def _error(config_map: str, key: str, reason: str) -> ConfigError:
    return ConfigError(f"{config_map} {key}: {reason}")


def _yaml(data: Mapping[str, str], key: str, default: object, config_map: str = ARGOCD_CM) -> Any:
    text = data.get(key, "")
    if not text.strip():
        return default
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise _error(config_map, key, f"not valid YAML{where}") from None


def _block_warnings(block: Mapping[Any, Any]) -> list[str]:
    out = []
    for pattern, fields in block.items():
        if not isinstance(fields, Mapping):
            raise _error(ARGOCD_CM, BLOCK_KEY, f"{pattern}: must be a map of customizations")
        for field in fields:
            what = BLOCK_FIELDS.get(str(field))
            if what is None:
                out.append(f"{ARGOCD_CM} {BLOCK_KEY}: {pattern}.{field}: unknown field, ignored")
            elif what.startswith("unsupported"):
                out.append(f"{ARGOCD_CM} {BLOCK_KEY}: {pattern}.{field}: not supported ({what})")
    return out


def _ignore_rules(cm: Mapping[str, str], block: Mapping[Any, Any]) -> tuple[IgnoreRule, ...]:
    """``ignoreDifferences`` of the block, then the split keys (``all`` and per group/kind)."""
    rules = []
    for pattern, fields in sorted(block.items(), key=lambda item: str(item[0])):
        entry = fields.get("ignoreDifferences") if isinstance(fields, Mapping) else None
        if entry is None:
            continue
        where = f"{BLOCK_KEY} {pattern}.ignoreDifferences"
        if isinstance(entry, str):
            try:
                entry = yaml.safe_load(entry) or {}
            except yaml.YAMLError:
                raise _error(ARGOCD_CM, where, "not valid YAML") from None
        rules.append(_rule(str(pattern), entry, where))
    for key in sorted(cm):
        if key.startswith(IGNORE_PREFIX):
            group_kind = key.removeprefix(IGNORE_PREFIX)
            if not group_kind:
                raise _error(ARGOCD_CM, key, "names no group and kind")
            rules.append(_rule(group_kind, _yaml(cm, key, {}) or {}, key))
    return tuple(rules)


def _rule(group_kind: str, entry: object, where: str) -> IgnoreRule:
    if not isinstance(entry, Mapping):
        raise _error(ARGOCD_CM, where, "must be a map with jsonPointers, jqPathExpressions ...")
    for field in ("jsonPointers", "jqPathExpressions", "managedFieldsManagers"):
        value = entry.get(field)
        if value is not None and not isinstance(value, list):
            raise _error(ARGOCD_CM, where, f"{field} must be a list")
    try:
        return IgnoreRule.from_settings(group_kind, entry)
    except InvalidInputError as err:
        raise _error(ARGOCD_CM, where, str(err)) from None


def _filters(cm: Mapping[str, str], key: str) -> tuple[cachepolicy.Exclusion, ...]:
    """Argo CD's list of ``{apiGroups, kinds, clusters}`` globs; an empty list matches any."""
    entries = _yaml(cm, key, []) or []
    if not isinstance(entries, list):
        raise _error(ARGOCD_CM, key, "must be a list of {apiGroups, kinds, clusters}")
    out = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise _error(ARGOCD_CM, key, f"entry {position} must be a map")
        lists = []
        for field in ("apiGroups", "kinds", "clusters"):
            value = entry.get(field) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _error(ARGOCD_CM, key, f"entry {position}: {field} must be a list of strings")
            lists.append(tuple(value) or ("*",))
        out.append(cachepolicy.Exclusion(lists[0], lists[1], f"argocd-cm {key}", clusters=lists[2]))
    return tuple(out)


COMPARE_OPTIONS = (
    "ignoreAggregatedRoles",
    "ignoreResourceStatusField",
    "ignoreDifferencesOnResourceUpdates",
)


def _compare_options(cm: Mapping[str, str]) -> tuple[normalize.NormalizeOptions, list[str]]:
    key = "resource.compareoptions"
    options = _yaml(cm, key, {}) or {}
    if not isinstance(options, Mapping):
        raise _error(ARGOCD_CM, key, "must be a map")
    warned = [
        f"{ARGOCD_CM} {key}: {name}: unknown option, ignored"
        for name in options
        if name not in COMPARE_OPTIONS
    ]
    roles = options.get("ignoreAggregatedRoles", False)
    if not isinstance(roles, bool):
        raise _error(ARGOCD_CM, key, "ignoreAggregatedRoles must be true or false")
    raw_status = str(options.get("ignoreResourceStatusField", "all") or "all")
    if raw_status == "off":
        raw_status = "none"  # Argo CD's older spelling
    try:
        status = normalize.StatusField(raw_status)
    except ValueError:
        raise _error(ARGOCD_CM, key, "ignoreResourceStatusField must be all, crd or none") from None
    if options.get("ignoreDifferencesOnResourceUpdates") is True:
        # Argo CD's default, stated: tether's no-op update filter drops status-only changes
        # that keep health, never ignored fields (more refreshes, the same results). False,
        # Argo CD's opt-out, is what tether does.
        warned.append(
            f"{ARGOCD_CM} {key}: ignoreDifferencesOnResourceUpdates true is not supported: "
            "changes of ignored fields still wake their app"
        )
    return normalize.NormalizeOptions(status_field=status, ignore_aggregated_roles=roles), warned


def _tracking(cm: Mapping[str, str]) -> tracking.Tracking:
    raw = cm.get("application.resourceTrackingMethod", "").strip() or "annotation"
    method = TRACKING_METHODS.get(raw)
    if method is None:
        raise _error(
            ARGOCD_CM,
            "application.resourceTrackingMethod",
            "must be annotation, label or annotation+label",
        )
    label = cm.get("application.instanceLabelKey", "").strip() or tracking.INSTANCE_LABEL
    if not _LABEL_KEY.match(label):
        raise _error(ARGOCD_CM, "application.instanceLabelKey", "not a valid label key")
    return tracking.Tracking(
        method=method, label_key=label, installation_id=cm.get("installationID", "").strip()
    )


def _duration(data: Mapping[str, str], key: str) -> datetime.timedelta | None:
    raw = data.get(key, "").strip()
    if not raw:
        return None
    value = backoff.go_duration(raw)
    if value is None:
        raise _error(ARGOCD_CM, key, "not a duration such as 180s or 3m")
    return value


def _seconds(data: Mapping[str, str], key: str) -> datetime.timedelta | None:
    raw = data.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > backoff.MAX_DURATION.total_seconds():
        raise _error(CMD_PARAMS_CM, key, "must be a whole number of seconds")
    return datetime.timedelta(seconds=int(raw))


def _positive(data: Mapping[str, str], key: str) -> int | None:
    raw = data.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= 10_000:
        raise _error(CMD_PARAMS_CM, key, "must be a whole number from 1 to 10000")
    return int(raw)


def _choice(data: Mapping[str, str], key: str, allowed: Mapping[str, str]) -> str:
    raw = data.get(key, "").strip()
    if not raw:
        return ""
    if raw not in allowed:
        raise _error(CMD_PARAMS_CM, key, "must be one of " + ", ".join(allowed))
    return allowed[raw]
