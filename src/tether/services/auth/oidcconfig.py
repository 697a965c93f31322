"""The SSO settings in force: ``argocd-cm`` parsed, its secret references and the server key read.

Read through ``ports.Cluster`` from the control-plane namespace and kept for a few seconds, so a
burst of requests costs one read and an edit applies without a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable

from tether import ports
from tether.core.auth import oidcconfig
from tether.core.auth.oidcconfig import OidcConfigError, SecretRef, SsoSettings
from tether.model import secretdata

log = logging.getLogger(__name__)

CACHE_S = 5.0
"""How long one reading of the ConfigMap and Secrets serves requests."""

PART_OF_LABEL = "app.kubernetes.io/part-of"
"""A ``$name:key`` reference may only name a Secret labelled as Argo CD's (value ``argocd``)."""


@dataclasses.dataclass(frozen=True)
class SsoConfig:
    """The settings with ``clientSecret`` resolved; ``repr`` shows no secret."""

    settings: SsoSettings
    client_secret: str = dataclasses.field(default="", repr=False)
    secret_key: bytes = dataclasses.field(default=b"", repr=False)
    """``server.secretkey`` of ``argocd-secret``; empty when absent."""


class SsoConfigReader:
    """Reads and briefly caches the SSO configuration of one control-plane namespace."""

    def __init__(
        self,
        cluster: ports.Cluster,
        namespace: str,
        clock: Callable[[], datetime.datetime],
        cache_s: float = CACHE_S,
    ) -> None:
        self._cluster = cluster
        self._namespace = namespace
        self._clock = clock
        self._cache_s = cache_s
        self._cached: tuple[datetime.datetime, SsoConfig] | None = None
        self._lock = asyncio.Lock()
        self._warned: set[str] = set()

    async def current(self) -> SsoConfig:
        """The configuration in force.

        Raises:
            OidcConfigError: ``oidc.config`` is unusable or names a secret that is missing.
        """
        async with self._lock:
            now = self._clock()
            if self._cached is not None and (now - self._cached[0]).total_seconds() < self._cache_s:
                return self._cached[1]
            config = await self._read()
            self._cached = (now, config)
            return config

    async def _read(self) -> SsoConfig:
        cm = await self._cluster.get("v1", "ConfigMap", oidcconfig.CONFIGMAP, self._namespace)
        data = {str(k): str(v) for k, v in ((cm or {}).get("data") or {}).items()}
        settings = oidcconfig.parse(data)
        for warning in settings.warnings:
            if warning not in self._warned:
                self._warned.add(warning)
                log.warning("%s", warning)
        main = await self._secret_fields(oidcconfig.SECRET, labelled=False)
        secret_key = main.get(oidcconfig.SERVER_SECRET_KEY, "").encode()
        client_secret = ""
        if settings.oidc is not None:
            ref = settings.oidc.client_secret
            client_secret = await self._resolve(ref, main) if isinstance(ref, SecretRef) else ref
        return SsoConfig(settings, client_secret=client_secret, secret_key=secret_key)

    async def _resolve(self, ref: SecretRef, main: dict[str, str]) -> str:
        fields = main if ref.secret == oidcconfig.SECRET else await self._secret_fields(ref.secret)
        if ref.key not in fields:
            raise OidcConfigError(
                f"{oidcconfig.CONFIGMAP} oidc.config clientSecret: Secret "
                f"{self._namespace}/{ref.secret} has no key {ref.key!r}"
            )
        return fields[ref.key]

    async def _secret_fields(self, name: str, *, labelled: bool = True) -> dict[str, str]:
        secret = await self._cluster.get("v1", "Secret", name, self._namespace)
        if secret is None:
            return {}
        labels = (secret.get("metadata") or {}).get("labels") or {}
        if labelled and labels.get(PART_OF_LABEL) != "argocd":
            raise OidcConfigError(
                f"Secret {self._namespace}/{name} is referenced from {oidcconfig.CONFIGMAP} but "
                f"is not labelled {PART_OF_LABEL}: argocd"
            )
        return secretdata.fields_of(secret, "SSO")
