"""The text fields of a Secret as stored: ``data`` decoded, ``stringData`` on top.

Argo CD keeps repository and cluster credentials in labelled Secrets; both are read through
``fields_of``, whose errors name the Secret and the key, never a value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from tether.model.errors import InvalidInputError

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
"""The label Argo CD reads to tell its Secrets (repositories, clusters) from every other one."""


def secret_type(secret: Mapping[str, Any]) -> str:
    """The value of ``SECRET_TYPE_LABEL`` on a Secret, ``""`` when unlabelled."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return str(labels.get(SECRET_TYPE_LABEL, ""))


def source_of(secret: Mapping[str, Any]) -> str:
    """``namespace/name`` of a Secret, for messages."""
    metadata = secret.get("metadata") or {}
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"


def fields_of(secret: Mapping[str, Any], what: str) -> dict[str, str]:
    """Every field as text; ``stringData`` wins over ``data`` key by key, as on a write.

    Raises:
        InvalidInputError: a ``data`` value that is not base64 text, named as
            ``<what> Secret <namespace>/<name>: data.<key>``, its value never quoted.
    """
    fields: dict[str, str] = {}
    for key, raw in (secret.get("data") or {}).items():
        try:
            fields[key] = base64.b64decode(str(raw), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInputError(
                f"{what} Secret {source_of(secret)}: data.{key} is not valid base64 text"
            ) from None
    for key, value in (secret.get("stringData") or {}).items():
        fields[key] = str(value)
    return fields
