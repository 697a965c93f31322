"""Credential plugins of cluster Secrets (``execProviderConfig``), run as ``kubectl`` runs them.

Only commands an administrator listed reach here (``ClusterRegistry.from_secrets`` skips the
rest). The plugin runs through the one process runner: no shell, a scrubbed environment plus the
Secret's ``env``, a timeout and bounded output. It prints an ExecCredential whose token or client
certificate stands in for the Secret's own credentials until it expires.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import time

from tether.adapters import _process
from tether.adapters.kube import errors
from tether.model import timestamps
from tether.model.clusters import ClusterEntry

EXEC_TIMEOUT_S = 30.0
"""How long a plugin may take: cloud CLIs fetch a token over the network."""

EXEC_OUTPUT_LIMIT = 1 << 20
"""An ExecCredential is a few kilobytes; more is not one."""

RENEW_MARGIN_S = 60.0
"""A plugin runs again this long before the token it gave expires."""


@dataclasses.dataclass(frozen=True)
class Resolved:
    """An entry whose plugin ran: its credentials filled in, and when they stop working."""

    entry: ClusterEntry
    expires_at: datetime.datetime | None

    def renew_at(self, now: datetime.datetime) -> float | None:
        """The ``time.monotonic()`` at which to run the plugin again; ``None``: never."""
        if self.expires_at is None:
            return None
        left = (self.expires_at - now).total_seconds() - RENEW_MARGIN_S
        return time.monotonic() + max(left, 0.0)


async def resolve(entry: ClusterEntry) -> Resolved:
    """Run ``entry``'s credential plugin, if it has one, and put what it gives in the entry.

    Raises:
        ClusterError: the plugin failed, timed out or printed no usable ExecCredential; the
            message names the cluster and the command, never what the plugin printed.
    """
    credentials = entry.credentials
    plugin = credentials.exec_provider if credentials is not None else None
    if credentials is None or plugin is None:
        return Resolved(entry, None)
    what = f"cluster {entry.name!r}: credential plugin {plugin.command!r}"
    # No terminal to prompt on: a plugin that needs a person must fail, not wait.
    info = {
        "apiVersion": plugin.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }
    env = _process.base_env({**dict(plugin.env), "KUBERNETES_EXEC_INFO": json.dumps(info)})
    try:
        done = await _process.run(
            [plugin.command, *plugin.args],
            env=env,
            timeout=EXEC_TIMEOUT_S,
            output_limit=EXEC_OUTPUT_LIMIT,
        )
    except (_process.ProcessError, OSError) as err:
        raise errors.ClusterError(f"{what} failed: {type(err).__name__}") from None
    try:
        status = json.loads(done.stdout)["status"]
        token = str(status.get("token") or "")
        cert = str(status.get("clientCertificateData") or "")
        key = str(status.get("clientKeyData") or "")
        expiry = status.get("expirationTimestamp")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise errors.ClusterError(f"{what} printed no ExecCredential") from None
    if not token and not (cert and key):
        raise errors.ClusterError(f"{what} gave neither a token nor a client certificate")
    filled = dataclasses.replace(
        credentials,
        bearer_token=token or credentials.bearer_token,
        # The entry keeps TLS data base64-encoded, as Argo CD's config does; plugins print PEM.
        cert_data=base64.b64encode(cert.encode()).decode() if cert else credentials.cert_data,
        key_data=base64.b64encode(key.encode()).decode() if key else credentials.key_data,
    )
    expires = timestamps.parse(expiry) if isinstance(expiry, str) else None
    return Resolved(dataclasses.replace(entry, credentials=filled), expires)
