"""Comparing desired with live state: one resource's diff, its sync status, and the app's.

Server-side diff when a dry-run result (``predicted``) is at hand, a two-way subset compare when
not. Every output is normalised and has Secret values masked.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import hashlib
from collections.abc import Collection, Hashable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

import jsonpatch
import orjson
import yaml

from tether.core.diff import ignore, managedfields, normalize, secrets, tracking
from tether.core.sync import hooks, ordering
from tether.model.app_status import ResourceStatus
from tether.model.resources import (
    Manifest,
    MutableManifest,
    ResourceKey,
    annotation,
    metadata_of,
    version_of,
)
from tether.model.status import SyncStatus

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class DiffReason(enum.Enum):
    """Why a diff looks the way it does: which branch of the comparison produced it."""

    MISSING = "missing from the cluster"
    EXTRANEOUS = "not in Git"
    SERVER_SIDE = "server-side diff against the dry-run result"
    TWO_WAY = "two-way diff of the fields Git sets"


@dataclasses.dataclass(frozen=True)
class DiffOptions:
    """Settings that shape every comparison."""

    normalize: normalize.NormalizeOptions = normalize.DEFAULT_OPTIONS
    sensitive_annotations: frozenset[str] = frozenset()
    """Annotation keys masked on every kind (argocd-cm ``resource.sensitive.mask.annotations``)."""
    field_manager: str = ""
    """The manager the dry-run applied as. When set, server-side diffs keep only the fields it
    owns in ``predicted`` (laid over live), so mutating webhooks never show as drift (Argo CD's
    default; leave empty for ``IncludeMutationWebhook=true``)."""


@dataclasses.dataclass(frozen=True)
class ResourceDiff:
    """The comparison of one resource, ready for a status, a cache or a screen.

    ``normalized_live`` and ``predicted_live`` are masked for Secrets, so are ``patch`` (a JSON
    patch from live to predicted) and ``text`` (a unified diff of the YAML of both).
    """

    key: ResourceKey
    modified: bool
    reason: DiffReason
    normalized_live: Mapping[str, Any] | None
    predicted_live: Mapping[str, Any] | None

    # Computed on first use: a refresh needs only `modified`, a screen needs the rest.
    @functools.cached_property
    def patch(self) -> tuple[Mapping[str, Any], ...]:
        """The JSON patch (RFC 6902) from normalised live to predicted, values masked."""
        if not self.modified and None not in (self.normalized_live, self.predicted_live):
            return ()
        made = jsonpatch.make_patch(self.normalized_live or {}, self.predicted_live or {})
        return tuple(made.patch)

    @functools.cached_property
    def text(self) -> str:
        """A unified diff of the YAML of both sides, values masked; ``""`` when equal."""
        if not self.modified and None not in (self.normalized_live, self.predicted_live):
            return ""
        return unified_text(self.key, self.normalized_live, self.predicted_live)


def compare(
    desired: Manifest | None,
    live: Manifest | None,
    *,
    predicted: Manifest | None = None,
    rules: Sequence[ignore.IgnoreRule] = (),
    jq: ignore.JqEvaluator | None = None,
    options: DiffOptions = DiffOptions(),
    tracked_by: tracking.Tracking | None = None,
) -> ResourceDiff:
    """Compare what Git wants with what the cluster has.

    Args:
        desired: the manifest from Git (with tracking), or ``None`` for an extraneous object.
        live: the object in the cluster, or ``None`` when it does not exist.
        predicted: the server-side-apply dry-run result of ``desired``; the server filled its
            defaults, so defaulting never shows as drift. Without it, only the fields ``desired``
            sets are compared (maps by desired keys, lists whole).
        rules: ignoreDifferences rules (app and system-wide); those selecting this object apply.
        jq: evaluator for jq path expressions, with its own deadline.
        options: normalisation and masking settings.
        tracked_by: when given, a live object tracked only by label takes ``desired``'s
            tracking annotation first, so switching tracking methods is not drift.

    Returns:
        The diff; ``modified`` is false for an extraneous object (its status is decided later).

    Raises:
        ValueError: both ``desired`` and ``live`` are ``None``.
        tether.core.diff.ignore.JqTimeoutError: a jq expression ran past its deadline.
    """
    subject = desired if desired is not None else live
    if subject is None:
        raise ValueError("compare needs a desired or a live object")
    key = ResourceKey.of(subject)
    if tracked_by is not None and desired is not None and live is not None:
        live = tracking.normalize_live_tracking(live, desired, tracked_by)
    ignores = ignore.prepare(rules, key, live)

    def prepare(obj: Manifest) -> MutableManifest:
        # The one copy of each side: everything after it changes the copy in place.
        normalized = normalize.normalize(obj, options.normalize)
        return normalized if ignores.empty else ignore.strip_in_place(normalized, ignores, jq)

    if desired is None:
        return _result(key, False, DiffReason.EXTRANEOUS, prepare(subject), None, options)
    if live is None:
        return _result(key, True, DiffReason.MISSING, None, prepare(desired), options)
    live_n = prepare(live)
    if predicted is not None:
        if options.field_manager:
            predicted = without_webhook_mutations(live, predicted, options.field_manager)
        predicted_n = prepare(predicted)
        reason = DiffReason.SERVER_SIDE
    else:
        predicted_n = overlay(live_n, prepare(desired))
        reason = DiffReason.TWO_WAY
    modified = normalize.canonical_json(predicted_n) != normalize.canonical_json(live_n)
    return _result(key, modified, reason, live_n, predicted_n, options)


# --- Memoised comparison -------------------------------------------------------------------

Memo = MutableMapping[Hashable, tuple[Hashable, ResourceDiff]]
"""Where ``compare_memoised`` keeps results: one per resource and rule set, with the key it was
computed for, so a newer result replaces the one it supersedes instead of piling up beside it.
The caller bounds it (an LRU)."""


def digest(obj: Manifest) -> str:
    """A digest of an object's content: equal objects give equal digests, whatever the key order."""
    return hashlib.blake2b(
        orjson.dumps(obj, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


def live_identity(live: Manifest) -> tuple[str, ...]:
    """What identifies the content of a live object, cheaply.

    The API server gives every write a new ``resourceVersion``, so uid and resourceVersion name
    one content; ``apiVersion`` is added because the same stored object reads differently through
    another served version. An object without a resourceVersion (not from a server) is digested.
    """
    meta = metadata_of(live)
    version = meta.get("resourceVersion")
    if not version:
        return ("digest", digest(live))
    return ("version", str(live.get("apiVersion", "")), str(meta.get("uid", "")), str(version))


def memo_key(
    desired: Manifest | None,
    live: Manifest | None,
    *,
    predicted: Manifest | None = None,
    rules: Sequence[ignore.IgnoreRule] = (),
    jq: ignore.JqEvaluator | None = None,
    options: DiffOptions = DiffOptions(),
    tracked_by: tracking.Tracking | None = None,
    desired_digest: str | None = None,
    predicted_digest: str | None = None,
) -> tuple[Hashable, ...]:
    """A key naming everything ``compare`` reads, so equal keys mean equal results.

    ``desired_digest`` and ``predicted_digest``, when given, must be ``digest`` of those objects
    (callers that already hashed them for another cache save the work).
    """
    subject = desired if desired is not None else live
    if subject is None:
        raise ValueError("compare needs a desired or a live object")
    if desired is not None and desired_digest is None:
        desired_digest = digest(desired)
    if predicted is not None and predicted_digest is None:
        predicted_digest = digest(predicted)
    return (
        ResourceKey.of(subject),
        tuple(rules),
        jq,
        options,
        tracked_by,
        desired_digest if desired is not None else None,
        live_identity(live) if live is not None else None,
        predicted_digest if predicted is not None else None,
    )


_SLOT_LENGTH = 5
"""The leading ``memo_key`` parts that name a memo slot: the resource and the rules, not the
contents, which change over time."""


def compare_memoised(
    memo: Memo,
    desired: Manifest | None,
    live: Manifest | None,
    *,
    predicted: Manifest | None = None,
    rules: Sequence[ignore.IgnoreRule] = (),
    jq: ignore.JqEvaluator | None = None,
    options: DiffOptions = DiffOptions(),
    tracked_by: tracking.Tracking | None = None,
    desired_digest: str | None = None,
    predicted_digest: str | None = None,
) -> ResourceDiff:
    """``compare``, answered from ``memo`` when nothing it reads has changed.

    An unchanged pair (the common case of a periodic resync) then costs a digest and a lookup
    instead of normalising, stripping and masking both objects again. Results are shared between
    calls, which is safe because nothing mutates a ``ResourceDiff``. Errors are never memoised.
    """
    key = memo_key(
        desired,
        live,
        predicted=predicted,
        rules=rules,
        jq=jq,
        options=options,
        tracked_by=tracked_by,
        desired_digest=desired_digest,
        predicted_digest=predicted_digest,
    )
    found = memo_lookup(memo, key)
    if found is not None:
        return found
    result = compare(
        desired,
        live,
        predicted=predicted,
        rules=rules,
        jq=jq,
        options=options,
        tracked_by=tracked_by,
    )
    memo_store(memo, key, result)
    return result


def memo_lookup(memo: Memo, key: tuple[Hashable, ...]) -> ResourceDiff | None:
    """The memoised diff for ``key`` (from ``memo_key``), or ``None``."""
    found = memo.get(key[:_SLOT_LENGTH])
    return found[1] if found is not None and found[0] == key else None


def memo_store(memo: Memo, key: tuple[Hashable, ...], result: ResourceDiff) -> None:
    """Remember ``result`` for ``key``, replacing what its slot held."""
    memo[key[:_SLOT_LENGTH]] = (key, result)


def without_webhook_mutations(live: Manifest, predicted: Manifest, manager: str) -> Manifest:
    """The dry-run result reduced to what ``manager`` applied, laid over ``live``.

    Fields ``manager`` owned in ``live`` but that ``predicted`` lacks were removed by the apply, so
    they go too. Without ownership data for ``manager``, ``predicted`` is returned unchanged.
    """
    applied = managedfields.owned_by(predicted, {manager})
    if applied.empty:
        return predicted
    dropped = [
        path
        for path in managedfields.paths(managedfields.owned_by(live, {manager}))
        if not managedfields.lookup(predicted, path)[0]
    ]
    # graft copies only along the paths it writes, so with nothing to drop the result may share
    # the rest with ``live``: callers must not change it in place (compare normalises a copy).
    base = managedfields.remove(live, managedfields.from_paths(dropped)) if dropped else live
    merged: Manifest = managedfields.graft(base, predicted, applied)
    return merged


def overlay(base: Any, top: Any) -> Any:
    """``top`` laid over ``base``: maps merge by ``top``'s keys, anything else is replaced."""
    if isinstance(base, Mapping) and isinstance(top, Mapping):
        merged = dict(base)
        for name, value in top.items():
            merged[name] = overlay(base.get(name), value)
        return merged
    return top


def _result(
    key: ResourceKey,
    modified: bool,
    reason: DiffReason,
    live: MutableManifest | None,
    predicted: MutableManifest | None,
    options: DiffOptions,
) -> ResourceDiff:
    # Mask first: the patch and the text are built only from masked objects. With nothing to
    # mask, mask_pair would only copy objects built for this result alone.
    if options.sensitive_annotations or secrets.is_secret(live) or secrets.is_secret(predicted):
        live, predicted = secrets.mask_pair(
            live, predicted, sensitive_annotations=options.sensitive_annotations
        )
    return ResourceDiff(
        key=key,
        modified=modified,
        reason=reason,
        normalized_live=live,
        predicted_live=predicted,
    )


def to_yaml(obj: Mapping[str, Any] | None) -> str:
    """YAML with sorted keys, ``""`` for no object: the form diffs are shown in."""
    if obj is None:
        return ""
    return yaml.dump(dict(obj), Dumper=_Dumper, sort_keys=True, default_flow_style=False)


def unified_text(
    key: ResourceKey, live: Mapping[str, Any] | None, predicted: Mapping[str, Any] | None
) -> str:
    """A unified diff of one resource, live to predicted; ``""`` when they are equal."""
    lines = difflib.unified_diff(
        to_yaml(live).splitlines(keepends=True),
        to_yaml(predicted).splitlines(keepends=True),
        fromfile=f"live/{key}",
        tofile=f"desired/{key}",
    )
    return "".join(lines)


# --- Sync status ---------------------------------------------------------------------------

COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"
IGNORE_EXTRANEOUS = "IgnoreExtraneous"


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class HookKind(enum.Enum):
    """How the hook annotations classify an object, for status purposes."""

    RESOURCE = "resource"
    HOOK = "hook"
    SKIP = "skip"
    """``Skip`` alone: never applied, no status."""
    IGNORED = "ignored"
    """Hook annotations with no type Argo knows: neither applied nor shown."""


_KIND_OF_ROLE: dict[hooks.Role, HookKind] = {
    hooks.Role.RESOURCE: HookKind.RESOURCE,
    hooks.Role.HOOK: HookKind.HOOK,
    hooks.Role.SKIPPED: HookKind.SKIP,
    hooks.Role.IGNORED: HookKind.IGNORED,
}


def hook_kind(obj: Manifest) -> HookKind:
    """Classify ``obj`` by its Argo CD or Helm hook annotations (``hooks.classify``'s rules)."""
    return _KIND_OF_ROLE[hooks.classify(obj).role]


def sync_wave(obj: Manifest | None) -> int:
    """The sync wave: ``sync-wave``, else Helm's ``hook-weight``, else 0; garbage reads as 0."""
    return 0 if obj is None else ordering.wave_of(obj)


def resource_status(
    diff: ResourceDiff,
    desired: Manifest | None,
    live: Manifest | None,
    *,
    tracked_by: tracking.Tracking = tracking.DEFAULT_TRACKING,
) -> ResourceStatus:
    """Decide one resource's sync status (Argo CD's rules, in their order); health is left unset.

    Args:
        diff: from ``compare`` for this pair.
        desired: the manifest from Git, or ``None``.
        live: the live object, or ``None``.
        tracked_by: the installation's tracking settings, for the self-reference check.
    """
    obj = live if live is not None else desired
    assert obj is not None  # compare() refused a pair of two Nones.
    kind_source = desired if desired is not None else live
    assert kind_source is not None
    classified = hook_kind(kind_source)
    is_hook = classified is HookKind.HOOK
    self_referenced = live is None or tracking.is_self_referenced(live, tracked_by, desired=desired)
    base = ResourceStatus(
        key=diff.key,
        version=version_of(obj),
        status=None,
        hook=is_hook,
        sync_wave=sync_wave(desired if desired is not None else live),
    )
    if is_hook or classified in (HookKind.SKIP, HookKind.IGNORED) or not self_referenced:
        return base
    modified = diff.modified or desired is None or live is None
    return dataclasses.replace(
        base,
        status=SyncStatus.OUT_OF_SYNC if modified else SyncStatus.SYNCED,
        requires_pruning=desired is None and live is not None,
    )


def counts_against_sync(status: ResourceStatus, live: Manifest | None) -> bool:
    """Whether a resource makes its Application OutOfSync.

    Every OutOfSync resource does, except one that only waits for pruning while its live object
    says ``compare-options: IgnoreExtraneous``.
    """
    if status.status is not SyncStatus.OUT_OF_SYNC:
        return False
    options = annotation(live, COMPARE_OPTIONS) if live is not None else ""
    return not (status.requires_pruning and IGNORE_EXTRANEOUS in _csv(options))


def app_sync_status(counted: Iterable[bool]) -> SyncStatus:
    """The Application's ``status.sync.status``: OutOfSync when any resource counts against it."""
    return SyncStatus.OUT_OF_SYNC if any(counted) else SyncStatus.SYNCED


def status_entries(statuses: Collection[ResourceStatus]) -> list[dict[str, Any]]:
    """``status.resources[]``: entries sorted by group, kind, namespace and name."""
    return [s.to_json() for s in sorted(statuses, key=lambda s: s.key)]
