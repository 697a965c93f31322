"""Argo CD's cluster Secrets: the destinations apps may deploy to, and how to reach them.

A Secret labelled ``argocd.argoproj.io/secret-type: cluster`` names a cluster (``name``,
``server``), limits what tether may manage there (``namespaces``, ``clusterResources``) and holds
the credentials (``config``, Argo CD's ``ClusterConfig`` JSON). Errors name the Secret and the
field, never a value. The cluster tether runs in is always an entry, even without a Secret.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from tether.model import secretdata
from tether.model.errors import InvalidInputError

SECRET_TYPE = "cluster"
"""The value of ``secretdata.SECRET_TYPE_LABEL`` on a cluster Secret."""

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"
"""The cluster tether runs in, by URL and by name; a Secret for that URL may rename it."""

NO_COMMANDS = "tether runs no commands from cluster Secrets"

REFUSED_CONFIG = {
    "awsAuthConfig": NO_COMMANDS + " (Argo CD runs argocd-k8s-auth for it)",
    "proxyUrl": "tether's client connects directly; a proxy would be silently bypassed",
}
"""Fields of ``config`` refused whenever set, with the reason shown to the user."""

REFUSED_TLS = {
    "serverName": "the client verifies the certificate against the server URL's host only",
}
"""Fields of ``config.tlsClientConfig`` refused whenever set."""

KNOWN_CONFIG = {
    "bearerToken",
    "username",
    "password",
    "tlsClientConfig",
    "disableCompression",
    "execProviderConfig",
}
KNOWN_EXEC = {"command", "args", "env", "apiVersion", "installHint"}

EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
"""The ExecCredential versions a plugin may speak (what kubectl accepts)."""


@dataclasses.dataclass(frozen=True)
class ExecProvider:
    """A credential plugin (``execProviderConfig``): run only if an administrator allows it.

    tether runs ``command`` with ``args`` and ``env`` (nothing else inherited but the basics)
    and reads an ExecCredential from its output, as ``kubectl`` does with a kubeconfig's
    ``exec`` user.
    """

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = EXEC_API_VERSIONS[0]


KNOWN_TLS = {"insecure", "caData", "certData", "keyData"}


@dataclasses.dataclass(frozen=True)
class ClusterCredentials:
    """How to authenticate to a cluster and trust it; ``repr`` shows no secret value.

    The TLS data is base64-encoded PEM, as Go marshals ``[]byte`` and kubeconfigs hold it.
    """

    bearer_token: str = ""
    username: str = ""
    password: str = ""
    insecure: bool = False
    ca_data: str = ""
    cert_data: str = ""
    key_data: str = ""
    exec_provider: ExecProvider | None = None
    """A plugin that gives the token (or client certificate) when connecting."""

    def secret_values(self) -> frozenset[str]:
        """Every value a message must never show."""
        values = (self.bearer_token, self.password, self.key_data, self.cert_data)
        return frozenset(v for v in values if v)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{field.name}={'***' if getattr(self, field.name) else ''!s}"
            if field.name not in ("insecure", "exec_provider")
            else f"{field.name}={getattr(self, field.name)!r}"
            for field in dataclasses.fields(self)
        )
        return f"ClusterCredentials({shown})"


@dataclasses.dataclass(frozen=True)
class ClusterEntry:
    """One destination cluster as tether knows it."""

    name: str
    server: str
    namespaces: tuple[str, ...] = ()
    """The only namespaces tether may manage there; empty means all of them."""
    cluster_resources: bool = False
    """Whether cluster-scoped objects may be managed (only consulted when ``namespaces`` is set)."""
    credentials: ClusterCredentials | None = None
    """``None`` for the cluster tether runs in: its own client is used."""
    secret: str = ""
    """``namespace/name`` of the Secret the entry came from (``""`` for the built-in one)."""
    shard: str = ""
    """Argo CD's ``shard`` field: the controller replica its apps go to when sharding
    (a number N names the replica ``...-N``); empty: hashed."""

    @property
    def is_in_cluster(self) -> bool:
        """Whether this is the cluster tether runs in."""
        return self.server == IN_CLUSTER_SERVER

    def manages_namespace(self, namespace: str) -> bool:
        """Whether ``namespace`` is one tether may manage on this cluster."""
        return not self.namespaces or namespace in self.namespaces

    @property
    def manages_cluster_scoped(self) -> bool:
        """Whether cluster-scoped objects may be managed on this cluster."""
        return not self.namespaces or self.cluster_resources


IN_CLUSTER = ClusterEntry(name=IN_CLUSTER_NAME, server=IN_CLUSTER_SERVER)


def is_cluster_secret(secret: Mapping[str, Any]) -> bool:
    """Whether a Secret is labelled as an Argo CD cluster Secret."""
    return secretdata.secret_type(secret) == SECRET_TYPE


def from_secret(secret: Mapping[str, Any]) -> ClusterEntry:
    """Decode one cluster Secret.

    Raises:
        InvalidInputError: a missing server, malformed or refused ``config``; the message names
            the Secret and the field, never a value.
    """
    source = secretdata.source_of(secret)
    fields = secretdata.fields_of(secret, "cluster")
    # Argo CD keys clusters by the URL without its trailing slashes.
    server = fields.get("server", "").strip().rstrip("/")
    if not server:
        raise InvalidInputError(f"cluster Secret {source}: server is missing")
    if not server.startswith(("https://", "http://")):
        raise InvalidInputError(f"cluster Secret {source}: server is not an http(s) URL")
    name = fields.get("name", "").strip()
    if not name:
        name = IN_CLUSTER_NAME if server == IN_CLUSTER_SERVER else server
    namespaces = tuple(
        dict.fromkeys(ns.strip() for ns in fields.get("namespaces", "").split(",") if ns.strip())
    )
    credentials = None
    if server != IN_CLUSTER_SERVER:
        credentials = _credentials(fields.get("config", ""), source)
    return ClusterEntry(
        name=name,
        server=server,
        namespaces=namespaces,
        cluster_resources=fields.get("clusterResources", "").strip() == "true",
        credentials=credentials,
        secret=source,
        shard=fields.get("shard", "").strip(),
    )


def _credentials(config_text: str, source: str) -> ClusterCredentials:
    where = f"cluster Secret {source}: config"
    try:
        config = json.loads(config_text) if config_text.strip() else {}
    except ValueError:
        raise InvalidInputError(f"{where} is not JSON") from None
    if not isinstance(config, dict):
        raise InvalidInputError(f"{where} is not a JSON object")
    tls = config.get("tlsClientConfig") or {}
    if not isinstance(tls, dict):
        raise InvalidInputError(f"{where}.tlsClientConfig is not a JSON object")
    _refuse(config, REFUSED_CONFIG, KNOWN_CONFIG, where)
    _refuse(tls, REFUSED_TLS, KNOWN_TLS, f"{where}.tlsClientConfig")
    if config.get("disableCompression"):
        raise InvalidInputError(f"{where}.disableCompression is not supported by tether")
    credentials = ClusterCredentials(
        bearer_token=_text(config, "bearerToken", where),
        username=_text(config, "username", where),
        password=_text(config, "password", where),
        insecure=_flag(tls, "insecure", f"{where}.tlsClientConfig"),
        ca_data=_pem(tls, "caData", f"{where}.tlsClientConfig"),
        cert_data=_pem(tls, "certData", f"{where}.tlsClientConfig"),
        key_data=_pem(tls, "keyData", f"{where}.tlsClientConfig"),
        exec_provider=_exec_provider(
            config.get("execProviderConfig"), f"{where}.execProviderConfig"
        ),
    )
    if bool(credentials.cert_data) != bool(credentials.key_data):
        raise InvalidInputError(f"{where}.tlsClientConfig needs both certData and keyData")
    if bool(credentials.username) != bool(credentials.password):
        raise InvalidInputError(f"{where} needs both username and password")
    return credentials


def _exec_provider(config: Any, where: str) -> ExecProvider | None:
    if not config:
        return None
    if not isinstance(config, dict):
        raise InvalidInputError(f"{where} is not a JSON object")
    _refuse(config, {}, KNOWN_EXEC, where)
    command = _text(config, "command", where)
    if not command:
        raise InvalidInputError(f"{where}.command is missing")
    args = config.get("args") or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise InvalidInputError(f"{where}.args is not a list of strings")
    env: list[tuple[str, str]] = []
    raw_env = config.get("env") or []
    if isinstance(raw_env, dict):  # Argo CD's ExecProviderConfig keeps env as a map
        raw_env = [{"name": k, "value": v} for k, v in raw_env.items()]
    for index, item in enumerate(raw_env if isinstance(raw_env, list) else [None]):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInputError(f"{where}.env[{index}] is not a name and a value")
        env.append((item["name"], str(item.get("value") or "")))
    api_version = _text(config, "apiVersion", where) or EXEC_API_VERSIONS[0]
    if api_version not in EXEC_API_VERSIONS:
        raise InvalidInputError(f"{where}.apiVersion {api_version[:80]!r} is not supported")
    return ExecProvider(command, tuple(args), tuple(env), api_version)


def _refuse(
    fields: Mapping[str, Any], refused: Mapping[str, str], known: Iterable[str], where: str
) -> None:
    for field, reason in refused.items():
        if fields.get(field):
            raise InvalidInputError(f"{where}.{field} is refused: {reason}")
    for field in sorted(set(fields) - set(known) - set(refused)):
        # Unknown is refused, not ignored: the field could change how the cluster is reached.
        raise InvalidInputError(f"{where}.{field} is not supported by tether")


def _text(fields: Mapping[str, Any], field: str, where: str) -> str:
    value = fields.get(field) or ""
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}.{field} is not a string")
    return value


def _flag(fields: Mapping[str, Any], field: str, where: str) -> bool:
    value = fields.get(field, False)
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}.{field} is not true or false")
    return value


def _pem(fields: Mapping[str, Any], field: str, where: str) -> str:
    value = _text(fields, field, where)
    if not value:
        return ""
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise InvalidInputError(f"{where}.{field} is not base64") from None
    if b"-----BEGIN " not in decoded:
        raise InvalidInputError(f"{where}.{field} is not base64-encoded PEM")
    return value


@dataclasses.dataclass(frozen=True)
class ClusterRegistry:
    """Every known cluster, and why Secrets were skipped; built whole from the Secrets."""

    entries: tuple[ClusterEntry, ...] = (IN_CLUSTER,)
    problems: tuple[str, ...] = ()
    """One message per skipped Secret, naming it and the field."""

    @classmethod
    def from_secrets(
        cls, secrets: Iterable[Mapping[str, Any]], *, exec_commands: Collection[str] = ()
    ) -> ClusterRegistry:
        """The in-cluster entry plus one per good cluster Secret; bad ones skipped and named.

        ``exec_commands`` are the credential plugins an administrator allows
        (``tether run --allow-cluster-exec``): a Secret naming any other is skipped.
        """
        by_server: dict[str, ClusterEntry] = {}
        problems: list[str] = []
        for secret in secrets:
            if not is_cluster_secret(secret):
                continue
            try:
                entry = from_secret(secret)
            except InvalidInputError as err:
                problems.append(str(err))
                continue
            plugin = entry.credentials.exec_provider if entry.credentials else None
            if plugin is not None and plugin.command not in exec_commands:
                problems.append(
                    f"cluster Secret {entry.secret}: config.execProviderConfig.command "
                    f"{plugin.command[:120]!r} is refused: {NO_COMMANDS} unless an administrator "
                    "allows that command (tether run --allow-cluster-exec)"
                )
                continue
            if entry.server in by_server:
                problems.append(
                    f"cluster Secret {entry.secret}: server is already that of cluster Secret "
                    f"{by_server[entry.server].secret}; ignored"
                )
                continue
            by_server[entry.server] = entry
        in_cluster = by_server.pop(IN_CLUSTER_SERVER, IN_CLUSTER)
        return cls((in_cluster, *by_server.values()), tuple(problems))

    @property
    def in_cluster(self) -> ClusterEntry:
        """The cluster tether runs in (``from_secrets`` keeps it first)."""
        return self.entries[0]

    def by_server(self, server: str) -> ClusterEntry | None:
        """The entry of an API server URL (trailing slashes ignored), if known."""
        wanted = server.rstrip("/")
        return next((e for e in self.entries if e.server == wanted), None)

    def by_name(self, name: str) -> list[ClusterEntry]:
        """Every entry with this name (more than one is an error for whoever asks)."""
        return [e for e in self.entries if e.name == name]

    def find(self, name_or_server: str) -> list[ClusterEntry]:
        """The entries a person means by ``name_or_server``: by name, else by server URL."""
        by_server = self.by_server(name_or_server)
        return self.by_name(name_or_server) or ([by_server] if by_server is not None else [])

    def secret_values(self) -> frozenset[str]:
        """Every credential held, for scrubbing messages."""
        return frozenset().union(
            *(e.credentials.secret_values() for e in self.entries if e.credentials is not None)
        )
