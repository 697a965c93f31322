"""One pass over an ApplicationSet: generate, plan under the fail-safe rules, write, report.

Every write is an Application of the set's, made with the ``tether-applicationset`` field
manager; every delete comes from ``core.appsets.plan``, which withholds deletes whenever a
pass looks broken (an error, an empty or much smaller result).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core import redact
from tether.core.appsets import build, plan
from tether.model import application, applicationset, project
from tether.model.errors import InvalidInputError, NotFoundError, TetherError
from tether.services.appsetgen import GenerationError, Generator

log = logging.getLogger(__name__)

API_VERSION = application.API_VERSION
FIELD_MANAGER = applicationset.FIELD_MANAGER

GIT_REQUEUE_S = 180.0
"""A set with a Git generator is regenerated every 3 minutes (Argo CD's default), webhooks aside."""

REFRESH_ANNOTATION = "argocd.argoproj.io/application-set-refresh"
"""On a set: its next pass resolves Git revisions afresh; the annotation is removed after it."""

MIN_REQUEUE_S = 10.0
"""A generator's ``requeueAfterSeconds`` below this is raised to it: no set polls in a hot loop."""

Apps = Mapping[str, Mapping[str, Any]]
"""A set's Applications by name, as read at the start of a pass."""

MAX_STATUS_RESOURCES = 5000
"""``status.resources`` lists at most this many apps (Argo CD caps the list too)."""


class AppSets:
    """Runs passes over the ApplicationSets of one cluster."""

    def __init__(
        self,
        cluster: ports.Cluster,
        generator: Generator,
        *,
        control_plane_namespace: str,
        clock: Callable[[], datetime.datetime],
    ) -> None:
        self._cluster = cluster
        self._generator = generator
        self._namespace = control_plane_namespace
        self._clock = clock

    async def reconcile(self, namespace: str, name: str) -> float | None:
        """One pass over the set ``namespace/name``; seconds until the next, ``None``: on change."""
        live = await self._cluster.get(API_VERSION, applicationset.KIND, name, namespace)
        if live is None or (live.get("metadata") or {}).get("deletionTimestamp"):
            return None  # the garbage collector deletes its apps through their ownerReferences
        result, apps = await self._pass(live)
        await self._write_status(live, result, apps)
        if REFRESH_ANNOTATION in ((live.get("metadata") or {}).get("annotations") or {}):
            await self._cluster.patch(
                API_VERSION,
                applicationset.KIND,
                name,
                namespace,
                patch={"metadata": {"annotations": {REFRESH_ANNOTATION: None}}},
                field_manager=FIELD_MANAGER,
            )
        if result.requeue_s is not None:
            return result.requeue_s
        return _requeue_after(live.get("spec") or {})

    async def _pass(self, live: Mapping[str, Any]) -> tuple[plan.Plan, Apps]:
        """The pass's plan, carried out, and the set's apps as they were before it."""
        meta = live.get("metadata") or {}
        namespace = str(meta.get("namespace", ""))
        try:
            appset = applicationset.parse_application_set(live)
            policy = plan.policy_of(live.get("spec") or {})
        except (InvalidInputError, ValueError) as err:
            return plan.error_plan("ApplicationValidationError", str(err)), {}
        strategy = appset.spec.strategy
        if strategy is not None and strategy.type not in (None, "", "AllAtOnce"):
            message = f"strategy.type {strategy.type!r} is not supported yet (only AllAtOnce)"
            return plan.error_plan("ApplicationValidationError", message), {}
        go = bool(appset.spec.go_template)
        options = appset.spec.go_template_options or []
        apps, _ = await self._cluster.list(API_VERSION, application.KIND, namespace)
        uid = str(meta.get("uid", ""))
        owned = {str(a["metadata"]["name"]): a for a in apps if build.is_owned_by(a, uid)}
        others = [str(a["metadata"]["name"]) for a in apps if not build.is_owned_by(a, uid)]
        projects_found, _ = await self._cluster.list(API_VERSION, project.KIND, self._namespace)
        # The default project exists even without its object, as everywhere in tether.
        projects = [project.DEFAULT_PROJECT_NAME] + [
            str(p["metadata"]["name"]) for p in projects_found
        ]
        try:
            wanted = await self._wanted(live, go, options, others, projects)
        except GenerationError as err:
            log.warning("ApplicationSet %s/%s: %s", namespace, meta.get("name"), err)
            return plan.error_plan(err.reason, redact.text(str(err))), owned
        wanted = [_keep_ignored(live, item, owned) for item in wanted]
        decided = plan.plan(wanted, owned, policy=policy, annotations=meta.get("annotations") or {})
        return await self._write(namespace, decided, owned, appset), owned

    async def _wanted(
        self,
        live: Mapping[str, Any],
        go: bool,
        options: Sequence[str],
        others: Sequence[str],
        projects: Sequence[str],
    ) -> list[plan.Wanted]:
        spec = live.get("spec") or {}
        annotations = (live.get("metadata") or {}).get("annotations") or {}
        refresh = REFRESH_ANNOTATION in annotations
        found = await self._generator.params(spec, go=go, options=options, refresh=refresh)
        patch_text = spec.get("templatePatch")
        if patch_text and not go:
            raise GenerationError(
                "ApplicationGenerationFromParamsError", "templatePatch needs goTemplate: true"
            )
        wanted: list[plan.Wanted] = []
        generators = spec.get("generators") or []
        for generator, params in (
            (g, p) for g, sets in zip(generators, found, strict=True) for p in sets
        ):
            # A top-level generator's own template overrides the set's, field by field.
            own = generator.get("template") if isinstance(generator, Mapping) else None
            template = build.merge_patch(spec.get("template") or {}, own or {})
            rendered = await self._generator.render(template, params, go=go, options=options)
            if patch_text:
                patch = await self._generator.patch_text(str(patch_text), params, options)
                rendered = build.with_patch(rendered, patch)
            wanted.append(build.application_of(live, rendered, others=others, projects=projects))
        names = [w.name for w in wanted if w.name]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise GenerationError(
                "ApplicationGenerationFromParamsError",
                f"the generators produced duplicate Application names: {', '.join(duplicates)}",
            )
        return wanted

    async def _write(
        self,
        namespace: str,
        decided: plan.Plan,
        owned: Mapping[str, Mapping[str, Any]],
        appset: applicationset.ApplicationSet,
    ) -> plan.Plan:
        failures: list[plan.Condition] = []
        for manifest in (*decided.creates, *decided.updates):
            what = (
                "CreateApplicationError"
                if manifest in decided.creates
                else "UpdateApplicationError"
            )
            try:
                await self._cluster.apply(manifest, field_manager=FIELD_MANAGER, force=True)
            except TetherError as err:
                failures.append(plan.Condition(plan.ERROR_OCCURRED, "True", what, str(err)))
        preserve = bool(
            appset.spec.sync_policy and appset.spec.sync_policy.preserve_resources_on_deletion
        )
        for name in decided.deletes:
            try:
                await self._delete(namespace, name, owned[name], preserve=preserve)
            except TetherError as err:
                failures.append(
                    plan.Condition(plan.ERROR_OCCURRED, "True", "DeleteApplicationError", str(err))
                )
        if decided.withheld:
            log.warning(
                "ApplicationSet %s/%s: kept %d Applications the generators no longer produce: %s",
                namespace,
                appset.name,
                len(decided.withheld),
                ", ".join(decided.withheld),
            )
        if not failures:
            return decided
        message = failures[-1].message + (
            f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        )
        conditions = [c for c in decided.conditions if c.type == plan.PARAMETERS_GENERATED]
        conditions += [
            plan.Condition(plan.ERROR_OCCURRED, "True", failures[-1].reason, message),
            plan.Condition(plan.RESOURCES_UP_TO_DATE, "False", failures[-1].reason, message),
        ]
        return dataclasses.replace(
            decided, conditions=tuple(conditions), requeue_s=plan.ERROR_REQUEUE_S
        )

    async def _delete(
        self, namespace: str, name: str, live: Mapping[str, Any], *, preserve: bool
    ) -> None:
        if preserve:
            current = [str(f) for f in (live.get("metadata") or {}).get("finalizers") or []]
            kept = plan.finalizers(current, preserve=True)
            if kept != current:
                await self._cluster.patch(
                    API_VERSION,
                    application.KIND,
                    name,
                    namespace,
                    patch={"metadata": {"finalizers": kept or None}},
                    field_manager=FIELD_MANAGER,
                )
        await self._cluster.delete(
            API_VERSION, application.KIND, name, namespace, propagation="Background"
        )

    async def _write_status(self, live: Mapping[str, Any], decided: plan.Plan, apps: Apps) -> None:
        meta = live.get("metadata") or {}
        old = live.get("status") or {}
        now = self._clock().strftime("%Y-%m-%dT%H:%M:%SZ")
        before = {c.get("type"): c for c in old.get("conditions") or [] if isinstance(c, Mapping)}
        conditions = []
        for c in decided.conditions:
            previous = before.get(c.type) or {}
            same = previous.get("status") == c.status
            conditions.append(
                {
                    "type": c.type,
                    "status": c.status,
                    "reason": c.reason,
                    "message": c.message,
                    "lastTransitionTime": previous.get("lastTransitionTime", now) if same else now,
                }
            )
        status: dict[str, Any] = {"conditions": conditions}
        if any(
            c.type == plan.PARAMETERS_GENERATED and c.status == "True" for c in decided.conditions
        ):
            names = sorted(set(decided.generated) | set(decided.withheld))
            status["resources"] = [
                _resource(str(meta.get("namespace")), n, apps.get(n))
                for n in names[:MAX_STATUS_RESOURCES]
            ]
            status["resourcesCount"] = len(names)
        if _same_status(old, status):
            return
        try:
            await self._cluster.patch(
                API_VERSION,
                applicationset.KIND,
                str(meta.get("name")),
                str(meta.get("namespace")),
                patch={"status": status},
                subresource="status",
                field_manager=FIELD_MANAGER,
            )
        except NotFoundError:
            return


def _resource(namespace: str, name: str, app: Mapping[str, Any] | None) -> dict[str, Any]:
    """One generated app in the set's ``status.resources``, with its sync status and health."""
    status = (app or {}).get("status") or {}
    entry: dict[str, Any] = {
        "group": application.GROUP,
        "version": application.VERSION,
        "kind": application.KIND,
        "namespace": namespace,
        "name": name,
    }
    sync = (status.get("sync") or {}).get("status")
    health = (status.get("health") or {}).get("status")
    if sync:
        entry["status"] = sync
    if health:
        entry["health"] = {"status": health}
    return entry


def _requeue_after(spec: Mapping[str, Any]) -> float | None:
    """When a set that passed cleanly is regenerated though nothing changed.

    The shortest ``requeueAfterSeconds`` its generators ask for, else 3 minutes with a Git
    generator, else never (list and clusters generators follow changes).
    """
    asked = [
        float(body["requeueAfterSeconds"])
        for generator in spec.get("generators") or []
        if isinstance(generator, Mapping)
        for body in generator.values()
        if isinstance(body, Mapping) and isinstance(body.get("requeueAfterSeconds"), int)
    ]
    if asked:
        return max(MIN_REQUEUE_S, min(asked))
    return GIT_REQUEUE_S if "repoURL" in str(spec.get("generators")) else None


def _keep_ignored(
    live: Mapping[str, Any], item: plan.Wanted, owned: Mapping[str, Mapping[str, Any]]
) -> plan.Wanted:
    """Fields the set's ``ignoreApplicationDifferences`` names keep their live values."""
    pointers = build.ignored_pointers(live, item.name)
    if not pointers or item.name not in owned:
        return item
    kept = build.keep_live(item.manifest, owned[item.name], pointers)
    return dataclasses.replace(item, manifest=kept)


def _same_status(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return all(old.get(k) == v for k, v in new.items())
