"""The repo-server's wire format: a render call and its answer, as JSON bytes.

A call carries an Application, how to render it and the few credentials it may use; the answer
is a ``Rendered`` or a ``RenderFailed``. A metadata call asks for one commit's
``RevisionMetadata`` the same way. Both ends use these functions. Decoding trusts nothing: every
field is type-checked, and a bad one is refused by name, never by quoting its value.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping
from typing import Any

import orjson

from tether.core.sources import renderconfig, repocreds
from tether.core.sources.rendered import Rendered, RenderFailed, RenderResult
from tether.core.sources.rendering import BuildOptions
from tether.model.application import Application, parse_application
from tether.model.errors import InvalidInputError
from tether.model.revisions import RevisionMetadata

DROPPED_APP_FIELDS = ("status", "operation")
"""Left out of a call: rendering never reads them, and a status may weigh a megabyte."""

_CREDENTIAL_TEXT = {
    # wire name -> RepoCredentials field; the wire names are those of Argo CD's Secrets.
    "url": "url",
    "type": "type",
    "name": "name",
    "project": "project",
    "username": "username",
    "password": "password",
    "bearerToken": "bearer_token",
    "sshPrivateKey": "ssh_private_key",
    "source": "source",
}
_CREDENTIAL_FLAGS = {
    "insecure": "insecure",
    "insecureIgnoreHostKey": "insecure_ignore_host_key",
    "enableOCI": "enable_oci",
    "insecureOCIForceHttp": "insecure_oci_force_http",
}


@dataclasses.dataclass(frozen=True)
class RenderCall:
    """One render a controller asks of a repo-server: ``ports.ManifestSource``'s arguments."""

    application: Application
    refresh: bool = False
    hard_refresh: bool = False
    revisions: tuple[str, ...] | None = None
    kube_version: str = ""
    api_versions: tuple[str, ...] = ()
    credentials: repocreds.CredentialStore = dataclasses.field(
        default_factory=repocreds.CredentialStore
    )
    """Only the entries the app's sources use, as its project sees them."""
    options: BuildOptions = dataclasses.field(default_factory=BuildOptions)
    """The operator's ``argocd-cm`` build options, which the repo-server cannot read itself."""


@dataclasses.dataclass(frozen=True)
class MetadataCall:
    """One commit's metadata asked of a repo-server (``ManifestSource.revision_metadata``).

    Carries the credentials of that app's sources, as a render call does.
    """

    application: Application
    revision: str
    source_index: int = 0
    credentials: repocreds.CredentialStore = dataclasses.field(
        default_factory=repocreds.CredentialStore
    )


def _application(app: Application) -> dict[str, Any]:
    wire = app.to_manifest()
    for name in DROPPED_APP_FIELDS:
        wire.pop(name, None)
    (wire.get("metadata") or {}).pop("managedFields", None)
    return wire


def _credentials_to_wire(store: repocreds.CredentialStore) -> dict[str, Any]:
    return {
        "repositories": [_credential_to_wire(c) for c in store.repositories],
        "templates": [_credential_to_wire(c) for c in store.templates],
    }


def _credentials_from_wire(obj: Mapping[str, Any]) -> repocreds.CredentialStore:
    credentials = _object(obj.get("credentials", {}), "credentials")
    return repocreds.CredentialStore(
        _credentials(credentials.get("repositories", []), "credentials.repositories"),
        _credentials(credentials.get("templates", []), "credentials.templates"),
    )


def encode_metadata_call(call: MetadataCall) -> bytes:
    """The call as the JSON body of ``POST /v1/revision-metadata``."""
    body = {
        "application": _application(call.application),
        "revision": call.revision,
        "sourceIndex": call.source_index,
        "credentials": _credentials_to_wire(call.credentials),
    }
    return orjson.dumps(body)


def decode_metadata_call(body: bytes) -> MetadataCall:
    """Parse and check a metadata call.

    Raises:
        InvalidInputError: the body is not JSON or a field has the wrong shape (named).
    """
    obj = _object(_loads(body, "metadata request"), "metadata request")
    index = obj.get("sourceIndex", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise InvalidInputError("sourceIndex: expected a number")
    return MetadataCall(
        application=parse_application(obj.get("application")),
        revision=_text(obj, "revision"),
        source_index=index,
        credentials=_credentials_from_wire(obj),
    )


def encode_metadata(result: RevisionMetadata | str) -> bytes:
    """A commit's metadata, or why it could not be read, as the answer to a metadata call."""
    if isinstance(result, RevisionMetadata):
        return orjson.dumps({"metadata": result.to_json()})
    return orjson.dumps({"failed": {"message": result}})


def decode_metadata(body: bytes) -> RevisionMetadata | str:
    """A metadata answer: the metadata, or the repo-server's message why there is none.

    Raises:
        InvalidInputError: the body is not JSON or not one of the two outcomes.
    """
    obj = _object(_loads(body, "metadata answer"), "metadata answer")
    if set(obj) == {"metadata"}:
        return RevisionMetadata.from_json(_object(obj["metadata"], "metadata"))
    if set(obj) == {"failed"}:
        return _text(_object(obj["failed"], "failed"), "message", "failed.")
    raise InvalidInputError("metadata answer: expected exactly one of metadata, failed")


def encode_call(call: RenderCall) -> bytes:
    """The call as the JSON body of ``POST /v1/render``."""
    body = {
        "application": _application(call.application),
        "refresh": call.refresh,
        "hardRefresh": call.hard_refresh,
        "revisions": None if call.revisions is None else list(call.revisions),
        "kubeVersion": call.kube_version,
        "apiVersions": list(call.api_versions),
        "credentials": _credentials_to_wire(call.credentials),
        "buildOptions": {
            "kustomize": list(call.options.kustomize),
            "helmValueFileSchemes": list(call.options.helm_value_url_schemes),
        },
    }
    return orjson.dumps(body)


def decode_call(body: bytes) -> RenderCall:
    """Parse and check a render call.

    Raises:
        InvalidInputError: the body is not JSON or a field has the wrong shape (named).
    """
    obj = _object(_loads(body, "render request"), "render request")
    revisions = obj.get("revisions")
    return RenderCall(
        application=parse_application(obj.get("application")),
        refresh=_flag(obj, "refresh"),
        hard_refresh=_flag(obj, "hardRefresh"),
        revisions=None if revisions is None else _strings(revisions, "revisions"),
        kube_version=_text(obj, "kubeVersion"),
        api_versions=_strings(obj.get("apiVersions", []), "apiVersions"),
        credentials=_credentials_from_wire(obj),
        options=_options_from_wire(obj.get("buildOptions", {})),
    )


def _options_from_wire(value: object) -> BuildOptions:
    """Build options, checked again here.

    A caller holding the token is still refused a flag or scheme the operator could not set.
    """
    wire = _object(value, "buildOptions")
    unknown = sorted(set(wire) - {"kustomize", "helmValueFileSchemes"})
    if unknown:
        raise InvalidInputError(f"buildOptions: unknown fields {', '.join(unknown)}")
    kustomize = _strings(wire.get("kustomize", []), "buildOptions.kustomize")
    try:
        checked = renderconfig.parse_kustomize_build_options(shlex.join(kustomize))
    except ValueError as err:
        raise InvalidInputError(f"buildOptions.kustomize: {err}") from None
    if checked != kustomize:
        raise InvalidInputError("buildOptions.kustomize: not in its checked form")
    schemes = _strings(wire.get("helmValueFileSchemes", []), "buildOptions.helmValueFileSchemes")
    if any(scheme not in renderconfig.VALUE_FILE_SCHEMES for scheme in schemes):
        raise InvalidInputError("buildOptions.helmValueFileSchemes: a scheme tether refuses")
    return BuildOptions(kustomize, schemes)


def encode_result(result: RenderResult) -> bytes:
    """A render's outcome as the JSON answer to ``POST /v1/render``."""
    if isinstance(result, Rendered):
        return orjson.dumps(
            {
                "rendered": {
                    "manifests": list(result.manifests),
                    "revisions": list(result.revisions),
                }
            }
        )
    return orjson.dumps(
        {
            "failed": {
                "message": result.message,
                "revisions": list(result.revisions),
                "invalidInput": result.invalid_input,
            }
        }
    )


def decode_result(body: bytes) -> RenderResult:
    """Parse and check a render's outcome.

    Raises:
        InvalidInputError: the body is not JSON or not one of the two outcomes.
    """
    obj = _object(_loads(body, "render answer"), "render answer")
    if set(obj) == {"rendered"}:
        rendered = _object(obj["rendered"], "rendered")
        manifests = rendered.get("manifests")
        if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
            raise InvalidInputError("rendered.manifests: expected a list of objects")
        return Rendered(tuple(manifests), _strings(rendered.get("revisions"), "rendered.revisions"))
    if set(obj) == {"failed"}:
        failed = _object(obj["failed"], "failed")
        return RenderFailed(
            _text(failed, "message", "failed."),
            _strings(failed.get("revisions", []), "failed.revisions"),
            invalid_input=_flag(failed, "invalidInput", "failed."),
        )
    raise InvalidInputError("render answer: expected exactly one of rendered, failed")


def _credential_to_wire(creds: repocreds.RepoCredentials) -> dict[str, Any]:
    wire: dict[str, Any] = {name: getattr(creds, field) for name, field in _CREDENTIAL_TEXT.items()}
    wire.update({name: getattr(creds, field) for name, field in _CREDENTIAL_FLAGS.items()})
    return wire


def _credentials(value: object, where: str) -> tuple[repocreds.RepoCredentials, ...]:
    if not isinstance(value, list):
        raise InvalidInputError(f"{where}: expected a list")
    entries = []
    for index, item in enumerate(value):
        entry = _object(item, f"{where}[{index}]")
        unknown = sorted(set(entry) - set(_CREDENTIAL_TEXT) - set(_CREDENTIAL_FLAGS))
        if unknown:
            raise InvalidInputError(f"{where}[{index}]: unknown fields {', '.join(unknown)}")
        fields: dict[str, Any] = {
            field: _text(entry, name, f"{where}[{index}].")
            for name, field in _CREDENTIAL_TEXT.items()
        }
        fields.update(
            {
                field: _flag(entry, name, f"{where}[{index}].")
                for name, field in _CREDENTIAL_FLAGS.items()
            }
        )
        if not fields["url"]:
            raise InvalidInputError(f"{where}[{index}].url: required")
        fields["type"] = fields["type"] or "git"
        if fields["type"] not in repocreds.REPO_TYPES:
            raise InvalidInputError(f"{where}[{index}].type: unknown repository type")
        entries.append(repocreds.RepoCredentials(**fields))
    return tuple(entries)


def _loads(body: bytes, what: str) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidInputError(f"{what}: not valid JSON") from None


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: expected an object")
    return value


def _flag(obj: Mapping[str, Any], name: str, prefix: str = "") -> bool:
    value = obj.get(name, False)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{prefix}{name}: expected true or false")
    return value


def _text(obj: Mapping[str, Any], name: str, prefix: str = "") -> str:
    value = obj.get(name, "")
    if not isinstance(value, str):
        raise InvalidInputError(f"{prefix}{name}: expected a string")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{where}: expected a list of strings")
    return tuple(value)
