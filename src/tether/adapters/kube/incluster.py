"""Which API server and credentials to use when no kubeconfig is named, in a Pod included.

The order is client-go's: ``$KUBECONFIG``, then ``~/.kube/config``, then the Pod's service
account (``KUBERNETES_SERVICE_HOST``/``_PORT`` and the token, CA and namespace files the kubelet
mounts). A token read from a file (the service account's, or a kubeconfig's ``tokenFile``) is
read again as soon as the file changes, because the kubelet rotates bound tokens (about hourly)
and an old one stops working when it expires or its Pod goes.
"""

from __future__ import annotations

import base64
import logging
import os
import pathlib
from collections.abc import Generator, Mapping

import httpx2
from lightkube.config.kubeconfig import KubeConfig
from lightkube.config.models import Cluster, User

from tether.adapters.kube import errors

log = logging.getLogger(__name__)

SERVICE_ACCOUNT_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a Pod's service account (``token``, ``ca.crt``, ``namespace``);
read at call time, so tests point it at a directory of their own."""

HOST_ENV = "KUBERNETES_SERVICE_HOST"
PORT_ENV = "KUBERNETES_SERVICE_PORT"
"""The API server's address as the kubelet gives it to every container."""


def load(
    kubeconfig: pathlib.Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    account_dir: pathlib.Path | None = None,
) -> KubeConfig:
    """The configuration to connect with: ``kubeconfig`` when named, else as client-go finds one.

    Raises:
        ClusterError: nothing to connect with, or an in-cluster account missing its files.
    """
    if kubeconfig:
        return KubeConfig.from_file(kubeconfig)
    env = os.environ if environ is None else environ
    if env.get("KUBECONFIG"):
        return KubeConfig.from_file(env["KUBECONFIG"])
    home_config = pathlib.Path(env.get("HOME") or os.path.expanduser("~")) / ".kube" / "config"
    if home_config.is_file():
        return KubeConfig.from_file(home_config)
    in_pod = in_cluster(env, account_dir or SERVICE_ACCOUNT_DIR)
    if in_pod is None:
        raise errors.ClusterError(
            "no Kubernetes configuration: no --kubeconfig, no $KUBECONFIG, no ~/.kube/config, "
            f"and not in a Pod (${HOST_ENV} is unset)"
        )
    return in_pod


def in_cluster(env: Mapping[str, str], account_dir: pathlib.Path) -> KubeConfig | None:
    """The Pod's own configuration; ``None`` outside a Pod (its environment variables unset)."""
    host, port = env.get(HOST_ENV, ""), env.get(PORT_ENV, "")
    if not host or not port:
        return None
    token, ca = account_dir / "token", account_dir / "ca.crt"
    for needed in (token, ca):
        if not needed.is_file():
            raise errors.ClusterError(
                f"in a Pod (${HOST_ENV} is set) but {needed} is missing: is the service "
                "account token mounted (automountServiceAccountToken)?"
            )
    namespace_file = account_dir / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return KubeConfig.from_one(
        cluster=Cluster(server=f"https://{host}:{port}", certificate_auth=str(ca)),
        user=User(token_file=str(token)),
        namespace=namespace,
    )


class TokenFileAuth(httpx2.Auth):
    """A bearer token read from a file, read again whenever the file changes and after a 401.

    Each request checks the file's identity (one ``stat``): the kubelet swaps in a new file at
    80% of a token's life, so the new token is used from the next request on, before the old
    one is refused. This matters more than a retry after a 401: the API server closes an
    HTTP/2 connection that failed authentication, so a retry on it fails too. One instance is
    shared by a transport's clients. A failed re-read keeps the token held; a first read that
    fails is a ``ClusterError``.
    """

    def __init__(self, path: pathlib.Path | str) -> None:
        self.path = pathlib.Path(path)
        self._token = ""
        self._seen: tuple[int, int, int] | None = None
        self.reads = 0
        """Reads of the file that found a token (tests and diagnostics)."""

    def bearer(self, *, fresh: bool = False) -> str:
        """The ``Authorization`` value, re-reading the file when it changed or when ``fresh``."""
        try:
            stat = self.path.stat()
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if fresh or seen != self._seen or not self._token:
                token = self.path.read_text().strip()
                if token:
                    self._token, self._seen = token, seen
                    self.reads += 1
        except OSError as exc:
            if not self._token:
                raise errors.ClusterError(
                    f"cannot read the token file {self.path}: {exc.strerror}"
                ) from exc
            log.warning("cannot re-read the token file %s: %s", self.path, exc.strerror)
        return f"Bearer {self._token}"

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Send with the current token; after a 401, once more if the file holds a new one."""
        sent = self.bearer()
        request.headers["Authorization"] = sent
        response = yield request
        if response.status_code != 401:
            return
        again = self.bearer(fresh=True)
        if again != sent:
            request.headers["Authorization"] = again
            yield request


def kubeconfig_cluster(
    kubeconfig: pathlib.Path | str | None, context: str | None = None
) -> tuple[str, str, bool]:
    """The API server URL, CA (base64 PEM, ``""`` for none) and insecure flag of a context.

    What ``tether cluster add`` records for the controller to reach that cluster again.
    """
    single = load(kubeconfig).get(context)
    if single is None:
        raise errors.ClusterError(f"kubeconfig has no context {context or '(current)'}")
    cluster = single.cluster
    ca = cluster.certificate_auth_data or ""
    if not ca and cluster.certificate_auth:
        path = pathlib.Path(cluster.certificate_auth)
        if single.fname is not None and not path.is_absolute():
            path = pathlib.Path(single.fname).parent / path
        ca = base64.b64encode(path.read_bytes()).decode()
    return cluster.server, ca, bool(cluster.insecure)
