"""The rendering configuration in force, as the live ConfigMaps last said it.

``argocd-cm`` gives the build options every render carries; ``argocd-ssh-known-hosts-cm`` and
``argocd-tls-certs-cm`` whom this process's Git and Helm trust (embedded mode; a repo-server
reads its own files instead). The ConfigMap watcher hands each new version to ``apply_*``; the
Git adapter, the renderer and the repo-server client ask ``build_options()`` and ``trust()`` on
every use, so a change applies to the next fetch or render without a restart.
"""

from __future__ import annotations

from collections.abc import Mapping

from tether.core.sources import renderconfig
from tether.core.sources.rendering import DEFAULT_BUILD_OPTIONS, BuildOptions

ARGOCD_CM = "argocd-cm"
KNOWN_HOSTS_CM = "argocd-ssh-known-hosts-cm"
TLS_CERTS_CM = "argocd-tls-certs-cm"
CONFIGMAPS = (ARGOCD_CM, KNOWN_HOSTS_CM, TLS_CERTS_CM)
"""The ConfigMaps (in the control-plane namespace) this configuration is read from."""


class RenderConfig:
    """The current build options and host trust.

    Tether's defaults (nothing allowed, nothing trusted) until the ConfigMaps are read.
    """

    def __init__(
        self,
        options: BuildOptions = DEFAULT_BUILD_OPTIONS,
        trust: renderconfig.HostTrust = renderconfig.NO_TRUST,
    ) -> None:
        self._options = options
        self._trust = trust
        self._known_hosts_cm: Mapping[str, str] | None = None
        self._tls_certs_cm: Mapping[str, str] | None = None

    def build_options(self) -> BuildOptions:
        """The build options in force now."""
        return self._options

    def trust(self) -> renderconfig.HostTrust:
        """The SSH host keys and TLS CAs in force now."""
        return self._trust

    def apply(self, name: str, data: Mapping[str, str] | None) -> list[str]:
        """Take a new version of ConfigMap ``name`` (``None``: it was deleted).

        Returns warnings for the caller to report, each naming its ConfigMap and key.

        ConfigMaps other than ``CONFIGMAPS`` are ignored.
        """
        if name == ARGOCD_CM:
            return self.apply_argocd_cm(data or {})
        if name == KNOWN_HOSTS_CM:
            self._known_hosts_cm = data
        elif name == TLS_CERTS_CM:
            self._tls_certs_cm = data
        else:
            return []
        self._trust, warnings = renderconfig.host_trust(self._known_hosts_cm, self._tls_certs_cm)
        return warnings

    def apply_argocd_cm(self, data: Mapping[str, str]) -> list[str]:
        """``argocd-cm``'s rendering keys; returns warnings (unsupported rendering keys too)."""
        self._options, warnings = renderconfig.build_options(data)
        return warnings + renderconfig.unsupported_keys(data)
