"""The pydantic base of the Argo CD-compatible API types: camelCase aliases, unknown fields kept.

Every API type derives from ``ArgoModel`` so that an Application read from the cluster and written
back loses nothing, even fields a newer Argo CD added that tether does not know yet.
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import alias_generators

IRREGULAR_ALIASES: dict[str, str] = {
    # Argo CD spells these acronyms in capitals; plain camelCase would give `repoUrl` and so on.
    "repo_url": "repoURL",
    "external_urls": "externalURLs",
    "key_id": "keyID",
}


def _alias(field_name: str) -> str:
    return IRREGULAR_ALIASES.get(field_name) or alias_generators.to_camel(field_name)


class ArgoModel(pydantic.BaseModel):
    """Base of every Argo CD API type.

    Fields are snake_case in Python and camelCase on the wire. ``strict`` refuses coercions (a
    string ``"true"`` for a boolean) that the real API server would reject too, so what validates
    here dumps back to exactly the input. ``frozen`` because the core never mutates a decoded
    object in place; use ``model_copy(update=...)``.
    """

    model_config = pydantic.ConfigDict(
        extra="allow",
        alias_generator=_alias,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        strict=True,
        frozen=True,
    )

    def to_manifest(self) -> dict[str, Any]:
        """The object as a plain mapping with wire names, keeping only the fields that were set."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class ObjectMeta(ArgoModel):
    """The metadata fields tether reads; everything else the API server sets is kept as-is."""

    name: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
    deletion_timestamp: str | None = None
    resource_version: str | None = None
    uid: str | None = None
