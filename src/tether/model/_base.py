"""The pydantic base of the Argo CD-compatible API types: camelCase aliases, unknown fields kept.

Every API type derives from ``ArgoModel`` so that an Application read from the cluster and written
back loses nothing, even fields a newer Argo CD added that tether does not know yet.
"""

from __future__ import annotations

from typing import Any, NamedTuple

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

    def unknown_fields(self, where: str) -> list[UnknownField]:
        """Fields set here or below that no type declares: kept for round trips, never honoured.

        ``where`` is this object's path (``spec.source``); each finding names its full path.
        """
        fields = type(self).model_fields
        found = [
            UnknownField(f"{where}.{key}", tuple(sorted(f.alias or n for n, f in fields.items())))
            for key in sorted(self.model_extra or {})
        ]
        for name, field in fields.items():
            value = getattr(self, name)
            path = f"{where}.{field.alias or name}"
            if isinstance(value, ArgoModel):
                found += value.unknown_fields(path)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ArgoModel):
                        found += item.unknown_fields(f"{path}[{index}]")
        return found


class UnknownField(NamedTuple):
    """A field no type declares, with the names its object does declare (for the message)."""

    path: str
    known: tuple[str, ...]


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
