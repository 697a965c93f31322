"""Users' edits of Applications through the API: create, replace, patch.

A caller writes only what a user owns of an Application: ``spec``, labels, annotations and
finalizers. ``operation`` and ``status`` are never taken from a caller's body (an ``operation``
in a create would start a sync nobody authorised: CVE-2023-50726).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonpatch
import orjson

from tether import ports
from tether.core.app import policy
from tether.model import application
from tether.model.application import Application, parse_application
from tether.model.clusters import IN_CLUSTER_SERVER
from tether.model.errors import InvalidInputError
from tether.model.resources import metadata_of
from tether.services import apps
from tether.services.appwriter import AppWriter

USER_METADATA = ("labels", "annotations", "finalizers")
"""The metadata a user's edit sets; the rest (uid, resourceVersion, owners ...) is the API
server's or the controller's."""

PATCH_TYPES = ("json", "merge")


class ProjectChangedError(InvalidInputError):
    """The app moved to another project between the caller's permission check and the write."""


def user_body(obj: Mapping[str, Any], *, name: str, namespace: str) -> dict[str, Any]:
    """The Application a caller may write: ``spec`` and user metadata, nothing else."""
    meta = metadata_of(obj)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    for field in USER_METADATA:
        if meta.get(field):
            metadata[field] = copy.deepcopy(meta[field])
    return {
        "apiVersion": application.API_VERSION,
        "kind": application.KIND,
        "metadata": metadata,
        "spec": copy.deepcopy(obj.get("spec")),
    }


def validated(obj: Mapping[str, Any]) -> Application:
    """The body parsed by tether's model.

    Raises:
        InvalidInputError: The body is no valid Application; the message names the field.
    """
    if not isinstance(obj.get("spec"), Mapping):
        raise InvalidInputError(f"{application.KIND}: spec: Field required")
    return parse_application(obj)


async def problems(cluster: ports.Cluster, app: Application, control_ns: str) -> list[str]:
    """Why the app's project refuses it: a missing project, namespace, sources, destination.

    The API's ``validate`` (on by default): refused at the door, instead of written and then
    reported by the controller as an ``InvalidSpecError``. The destination is judged as
    written (its server, or its name); which cluster a name means is the controller's to find.
    """
    project = await apps.project_of(cluster, app, control_ns)
    if project is None:
        return [f"application references project {app.spec.project!r} which does not exist"]
    where = f"project {project.name!r}"
    found: list[str] = []
    if not policy.is_app_namespace_permitted(project, app.namespace, control_ns):
        found.append(f"namespace {app.namespace!r} is not in sourceNamespaces of {where}")
    found.extend(
        f"repository {source.repo_url!r} is not permitted in {where}"
        for source in app.effective_sources()
        if not policy.is_source_permitted(project, source.repo_url)
    )
    destination = app.spec.destination
    name = destination.name or ""
    server = destination.server or ("" if name else IN_CLUSTER_SERVER)
    namespace = destination.namespace or ""
    if not policy.is_destination_permitted(project, server, name, namespace):
        found.append(
            f"destination cluster {name or server!r} namespace {namespace!r} is not permitted "
            f"in {where}"
        )
    return found


def user_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a user's edit decides, for comparing an app with a create request."""
    meta = metadata_of(obj)
    return {
        "spec": obj.get("spec") or {},
        **{field: meta.get(field) or None for field in USER_METADATA},
    }


def same_user_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two Applications have the same spec, labels, annotations and finalizers."""
    return _canonical(user_fields(a)) == _canonical(user_fields(b))


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


async def create(
    cluster: ports.Cluster, body: Mapping[str, Any], field_manager: str
) -> dict[str, Any]:
    """Create the Application ``body`` (already a :func:`user_body`).

    Raises:
        ConflictError: It exists already (someone created it since it was read).
    """
    return await cluster.create(body, field_manager=field_manager)


async def replace(
    cluster: ports.Cluster,
    body: Mapping[str, Any],
    *,
    expected_project: str,
    field_manager: str,
) -> dict[str, Any]:
    """Set the stored app's spec and user metadata to ``body``'s; status and operation stay.

    Args:
        cluster: The API.
        body: A :func:`user_body`.
        expected_project: The project the caller's ``update`` was checked against.
        field_manager: Who writes.

    Raises:
        AppNotFoundError: The app is gone.
        ProjectChangedError: Its project is no longer ``expected_project``.
    """
    meta = metadata_of(body)

    def change(obj: dict[str, Any], app: Application) -> dict[str, Any] | None:
        if (app.spec.project or "default") != expected_project:
            raise ProjectChangedError(
                f"application {app.qualified_name} changed its project meanwhile; try again"
            )
        if same_user_fields(obj, body):
            return None
        metadata = dict(metadata_of(obj))
        for field in USER_METADATA:
            metadata[field] = copy.deepcopy(meta.get(field)) or None
        return {**obj, "metadata": metadata, "spec": copy.deepcopy(body["spec"])}

    stored, _ = await AppWriter(cluster, field_manager).update(
        str(meta["namespace"]), str(meta["name"]), change
    )
    return stored


def patched(obj: Mapping[str, Any], patch: str, patch_type: str) -> dict[str, Any]:
    """``obj`` with a caller's patch applied (a JSON patch, or a JSON merge patch).

    Raises:
        InvalidInputError: An unknown type, a patch that does not parse or apply, or one that
            touches ``status`` or ``operation``.
    """
    if patch_type not in PATCH_TYPES:
        raise InvalidInputError(f"patch type {patch_type!r}: use json or merge")
    try:
        document = orjson.loads(patch)
    except orjson.JSONDecodeError:
        raise InvalidInputError("patch: not valid JSON") from None
    original = copy.deepcopy(dict(obj))
    if patch_type == "merge":
        if not isinstance(document, dict):
            raise InvalidInputError("patch: a merge patch must be a JSON object")
        result = _merge(original, document)
    else:
        try:
            result = jsonpatch.JsonPatch(document).apply(original)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as exc:
            raise InvalidInputError(f"patch: {exc}") from None
    if not isinstance(result, dict):
        raise InvalidInputError("patch: the result is not an object")
    for owned in ("status", "operation"):
        if _canonical(result.get(owned)) != _canonical(obj.get(owned)):
            raise InvalidInputError(f"patch: {owned} cannot be changed through the API")
    return result


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged
