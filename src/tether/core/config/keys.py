"""Every key of ``argocd-cm`` and ``argocd-cmd-params-cm`` tether knows, and what it does with each.

A key is honoured by the controller (``HONOURED``), read by another part of tether or by no part
on purpose (``ELSEWHERE``: never warned about here), or known and not honoured (``UNSUPPORTED``:
warned about, with the reason). A key in neither table is unknown and warned about too.
"""

from __future__ import annotations

import dataclasses
import enum

ARGOCD_CM = "argocd-cm"
CMD_PARAMS_CM = "argocd-cmd-params-cm"
KNOWN_HOSTS_CM = "argocd-ssh-known-hosts-cm"
TLS_CERTS_CM = "argocd-tls-certs-cm"
CONFIG_MAPS = (ARGOCD_CM, CMD_PARAMS_CM, KNOWN_HOSTS_CM, TLS_CERTS_CM)
"""The ConfigMaps the controller reads, in its control-plane namespace. The last two are whom
Git and Helm trust (``core.sources.renderconfig``), keyed by host names, so no table here."""


class Status(enum.Enum):
    """What tether does with a key."""

    HONOURED = "honoured"
    ELSEWHERE = "read elsewhere"
    UNSUPPORTED = "unsupported"


@dataclasses.dataclass(frozen=True)
class Known:
    """One key, or a family of keys when ``name`` ends with ``.`` (a prefix)."""

    name: str
    status: Status
    what: str
    """What it does (honoured, elsewhere) or why tether does not honour it (unsupported)."""


H, E, U = Status.HONOURED, Status.ELSEWHERE, Status.UNSUPPORTED

ARGOCD_CM_KEYS: tuple[Known, ...] = (
    # The controller's own.
    Known("resource.customizations", H, "per group/kind: health.lua, ignoreDifferences (block)"),
    Known("resource.customizations.health.", H, "a Lua health check for one group/kind"),
    Known("resource.customizations.useOpenLibs.", H, "accepted; 'true' is warned about (sandbox)"),
    Known("resource.customizations.ignoreDifferences.", H, "system-wide ignoreDifferences"),
    Known("resource.exclusions", H, "kinds never watched, compared, applied or pruned"),
    Known("resource.inclusions", H, "only these kinds are watched, compared, applied or pruned"),
    Known("resource.compareoptions", H, "ignoreAggregatedRoles, ignoreResourceStatusField"),
    Known("resource.sensitive.mask.annotations", H, "annotation values masked in every diff"),
    Known("application.resourceTrackingMethod", H, "annotation (default); others at start"),
    Known("application.instanceLabelKey", H, "the tracking label key (label methods)"),
    Known("installationID", H, "marks this installation's tracking annotations"),
    Known("timeout.reconciliation", H, "the periodic refresh (resync) period"),
    Known("timeout.reconciliation.jitter", H, "the random spread added to each resync"),
    Known("timeout.hard.reconciliation", H, "the periodic hard refresh (re-render) period"),
    # Other parts of tether, or features owned by other helpers of the same files.
    Known("resource.customizations.actions.", E, "resource actions (Lua), the API's"),
    Known("url", E, "the server's external URL, read by SSO"),
    Known("oidc.config", E, "SSO, read by the API server"),
    Known("oidc.tls.insecure.skip.verify", E, "SSO, read by the API server"),
    Known("dex.config", E, "Dex SSO: the API server's (tether talks to any OIDC issuer)"),
    Known("admin.enabled", E, "local accounts, read by the API server"),
    Known("accounts.", E, "local accounts, read by the API server"),
    Known("users.", E, "sessions and anonymous access, read by the API server"),
    Known("passwordPattern", E, "local accounts, read by the API server"),
    Known("webhook.", E, "Git webhooks, read by the API server"),
    Known("kustomize.buildOptions", H, "kustomize build flags, checked (renderconfig)"),
    Known("helm.valuesFileSchemes", H, "URL schemes of helm value files (https, http)"),
    Known("exec.", E, "the web terminal: an API server and UI feature"),
    Known("statusbadge.", E, "status badges: an API server feature"),
    Known("ui.", E, "banners and CSS of Argo CD's UI"),
    Known("help.", E, "help links of Argo CD's UI"),
    Known("ga.", E, "Google Analytics of Argo CD's UI"),
    Known("extension.config", E, "Argo CD UI proxy extensions"),
    # Known, and not honoured: warned about.
    Known(
        "resource.customizations.knownTypeFields.",
        U,
        "fields typed for the diff: server-side diff already compares what the server stores",
    ),
    Known(
        "resource.customizations.ignoreResourceUpdates.",
        U,
        "per-kind paths dropped from no-op update detection: tether drops only its fixed set",
    ),
    Known(
        "resource.ignoreResourceUpdatesEnabled",
        U,
        "tether always drops no-op updates of tracked objects; it cannot be turned off",
    ),
    Known("resource.respectRBAC", U, "tether watches every kind its credentials may list"),
    Known("resource.includeEventLabelKeys", U, "tether's Events carry no copied labels"),
    Known("resource.excludeEventLabelKeys", U, "tether's Events carry no copied labels"),
    Known("application.sync.impersonation.enabled", U, "sync impersonation is not implemented"),
    Known("repositories", U, "repositories come from labelled Secrets only"),
    Known("repository.credentials", U, "credential templates come from labelled Secrets only"),
    Known("helm.repositories", U, "helm repositories come from labelled Secrets only"),
    Known("cluster.inClusterEnabled", U, "the in-cluster destination cannot be turned off"),
    Known("globalProjects", U, "global projects are not implemented"),
    Known("server.rbac.log.enforce.enable", U, "RBAC decisions of logs are not implemented"),
    Known("additionalUrls", U, "SSO reads url only"),
    Known("configManagementPlugins", U, "removed in Argo CD 2.8: use plugin files, --plugin-dir"),
    Known("kustomize.version.", U, "removed from Argo CD; tether runs one kustomize"),
    Known("kustomize.buildOptions.", U, "tether runs one kustomize: set kustomize.buildOptions"),
    Known("kustomize.path.", U, "tether runs the one kustomize it was built with"),
)
"""``argocd-cm``: what tether does with each key (a name ending in ``.`` is a family)."""

CMD_PARAMS_KEYS: tuple[Known, ...] = (
    Known("controller.sync.timeout.seconds", H, "an operation's time limit; 0 none (live)"),
    Known("controller.status.processors", H, "concurrent app reconciles (tether's workers)"),
    Known("controller.log.format", H, "text or json (at start)"),
    Known("controller.log.level", H, "debug, info, warn or error (at start)"),
    Known("controller.repo.server.timeout.seconds", H, "one render's time limit (at start)"),
    Known(
        "controller.operation.processors",
        U,
        "one pool runs operations (first) and comparisons: set controller.status.processors",
    ),
    Known(
        "controller.repo.server",
        U,
        "a tether repo-server needs a token file: use --repo-server and its flags",
    ),
    Known(
        "controller.sharding.algorithm",
        U,
        "tether shards Applications, not clusters, by rendezvous hashing: tether run --sharding",
    ),
    Known("controller.", U, "not implemented by tether's controller"),
    Known("application.namespaces", U, "use tether run --namespaces"),
    Known("server.", U, "Argo CD's API server: configure tether server with its flags"),
    Known("reposerver.", U, "Argo CD's repo-server: configure tether repo-server with its flags"),
    Known("applicationsetcontroller.", U, "ApplicationSets are not implemented"),
    Known(
        "notificationscontroller.",
        U,
        "notifications run in tether's controller: see argocd-notifications-cm",
    ),
    Known("dexserver.", U, "tether runs no Dex"),
    Known("commitserver.", U, "source hydration is not implemented"),
    Known("hydrator.", U, "source hydration is not implemented"),
    Known("redis.", U, "tether keeps no Redis"),
    Known("otlp.", U, "OpenTelemetry export is not implemented"),
)
"""``argocd-cmd-params-cm``: Argo CD reads these at pod start; see docs/configuration.md."""

TABLES: dict[str, tuple[Known, ...]] = {ARGOCD_CM: ARGOCD_CM_KEYS, CMD_PARAMS_CM: CMD_PARAMS_KEYS}


def lookup(config_map: str, key: str) -> Known | None:
    """The entry for ``key``: its exact name first, else the longest family that holds it."""
    best: Known | None = None
    for known in TABLES.get(config_map, ()):
        if known.name == key:
            return known
        family = known.name.endswith(".") and key.startswith(known.name)
        if family and (best is None or len(known.name) > len(best.name)):
            best = known
    return best


def warnings(config_map: str, data_keys: list[str]) -> list[str]:
    """One warning per unknown or unsupported key, naming it (never its value)."""
    out = []
    for key in sorted(data_keys):
        known = lookup(config_map, key)
        if known is None:
            out.append(f"{config_map} {key}: unknown key, ignored")
        elif known.status is Status.UNSUPPORTED:
            out.append(f"{config_map} {key}: not supported by tether, ignored ({known.what})")
    return out
