"""The Argo CD ``ApplicationSet`` resource (``argoproj.io/v1alpha1``) and its validating parser.

Generators and the Application template stay free-form mappings: each generator is read by
``tether.core.appsets`` (which refuses what it does not support, naming it), and the template is
templated string by string before it is checked as an Application.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from tether.model._base import ArgoModel, ObjectMeta
from tether.model.application import API_VERSION, GROUP, format_validation_error
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind

KIND = "ApplicationSet"
GROUP_KIND = GroupKind(GROUP, KIND)
FIELD_MANAGER = "tether-applicationset"
"""The field manager of every write the ApplicationSet controller makes."""


class ApplicationSetSyncPolicy(ArgoModel):
    """How generated Applications may change: the policy and whether workloads outlive them."""

    applications_sync: str | None = None
    preserve_resources_on_deletion: bool | None = None


class ApplicationSetStrategy(ArgoModel):
    """``AllAtOnce`` (the only one tether runs) or ``RollingSync`` (not supported yet)."""

    type: str | None = None
    rolling_sync: dict[str, Any] | None = None
    deletion_order: str | None = None


class ApplicationPreservedFields(ArgoModel):
    """Labels and annotations of generated apps that the set never overwrites."""

    annotations: list[str] | None = None
    labels: list[str] | None = None


class ApplicationSetIgnoreDifferences(ArgoModel):
    """Fields of generated apps (by app name, or all) that the set does not overwrite."""

    name: str | None = None
    json_pointers: list[str] | None = None
    jq_path_expressions: list[str] | None = None


class ApplicationSetSpec(ArgoModel):
    """What an ApplicationSet generates and how."""

    generators: list[dict[str, Any]]
    template: dict[str, Any]
    template_patch: str | None = None
    go_template: bool | None = None
    go_template_options: list[str] | None = None
    sync_policy: ApplicationSetSyncPolicy | None = None
    strategy: ApplicationSetStrategy | None = None
    preserved_fields: ApplicationPreservedFields | None = None
    ignore_application_differences: list[ApplicationSetIgnoreDifferences] | None = None
    apply_nested_selectors: bool | None = None


class ApplicationSetCondition(ArgoModel):
    """One status condition (``ErrorOccurred``, ``ParametersGenerated``, ``ResourcesUpToDate``)."""

    type: str
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition_time: str | None = None


class ApplicationSetStatus(ArgoModel):
    """The conditions and the generated apps of a set."""

    conditions: list[ApplicationSetCondition] | None = None
    resources: list[dict[str, Any]] | None = None
    resources_count: int | None = None
    application_status: list[dict[str, Any]] | None = None


class ApplicationSet(ArgoModel):
    """An Argo CD ApplicationSet."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta
    spec: ApplicationSetSpec
    status: ApplicationSetStatus | None = None

    @property
    def name(self) -> str:
        """The set's name."""
        return self.metadata.name or ""


def parse_application_set(obj: object) -> ApplicationSet:
    """Validate a decoded ApplicationSet manifest.

    Raises:
        InvalidInputError: The object is not a valid ApplicationSet; the message names it and
            every offending field.
    """
    if not isinstance(obj, Mapping):
        raise InvalidInputError(f"ApplicationSet: expected a mapping, got {type(obj).__name__}")
    meta = obj.get("metadata") or {}
    what = f"{KIND} {meta.get('namespace', '')}/{meta.get('name', '')}"
    if obj.get("apiVersion") not in (None, API_VERSION) or obj.get("kind") not in (None, KIND):
        raise InvalidInputError(f"{what}: expected {API_VERSION} {KIND}")
    try:
        return ApplicationSet.model_validate(dict(obj))
    except pydantic.ValidationError as error:
        raise InvalidInputError(format_validation_error(what, error)) from None
