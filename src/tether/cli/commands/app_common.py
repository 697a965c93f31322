"""What every ``tether app`` command shares: the cluster options, the runtime, friendly errors."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import click
import yaml

from tether import bootstrap
from tether.cli.commands import connection
from tether.core.app import selectors
from tether.model.errors import ClusterError, InvalidInputError, KubeApiError
from tether.model.operation import SyncOperationResource
from tether.settings import Settings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_NAMESPACE = "tether"

_UNREACHABLE = ("talking to the API", "opening a watch")
"""How the kube adapter words a request that never got an HTTP answer."""


@dataclasses.dataclass(frozen=True)
class Target:
    """Which cluster and namespace a command works on."""

    kubeconfig: str | None
    namespace: str
    control_plane_namespace: str

    @property
    def settings(self) -> Settings:
        """Settings whose control-plane namespace matches the controller's (tracking names)."""
        namespaces = dict.fromkeys((self.control_plane_namespace, self.namespace))
        return Settings(app_namespaces=tuple(namespaces))


def target_options(func: F) -> F:
    """Add ``--kubeconfig``, ``-n/--namespace``, ``--control-plane-namespace``, and the choice.

    The choice: an API server or core mode (``connection.connection_options``).
    """
    decorators = [
        click.option(
            "--kubeconfig",
            envvar="KUBECONFIG",
            default=None,
            help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod's "
            "service account).",
        ),
        click.option(
            "-n",
            "--namespace",
            envvar="TETHER_NAMESPACE",
            default=DEFAULT_NAMESPACE,
            show_default=True,
            help="The Application's namespace.",
        ),
        click.option(
            "--control-plane-namespace",
            default=DEFAULT_NAMESPACE,
            show_default=True,
            help="The controller's first namespace (Applications elsewhere are tracked as "
            "<namespace>_<name>).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return connection.connection_options(func)


def given_namespace(namespace: str) -> str:
    """``namespace`` if the user chose it (``-n`` or ``$TETHER_NAMESPACE``), else ``""``.

    An API server's default namespace is its control plane's, which need not be ours.
    """
    source = click.get_current_context().get_parameter_source("namespace")
    return "" if source in (None, click.core.ParameterSource.DEFAULT) else namespace


def target_of(kubeconfig: str | None, namespace: str, control_plane_namespace: str) -> Target:
    """The ``Target`` of the three shared options."""
    return Target(kubeconfig, namespace, control_plane_namespace)


def label_matcher(selector: str) -> Callable[[Mapping[str, Any]], bool]:
    """Whether an Application's labels match ``selector`` (every app when it is empty)."""
    if not selector:
        return lambda _obj: True
    parsed = selectors.parse(selector)
    return lambda obj: parsed.matches((obj.get("metadata") or {}).get("labels"))


def username() -> str:
    """Who requests an operation (``initiatedBy.username``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "tether-cli"


@contextlib.asynccontextmanager
async def connect(target: Target, *, start_cache: bool = False) -> AsyncIterator[bootstrap.Runtime]:
    """A runtime for the target's cluster, closed afterwards."""
    try:
        rt = await bootstrap.runtime(
            target.settings, kubeconfig=target.kubeconfig, start_cache=False
        )
    except ClusterError:
        raise  # already says what is missing (no configuration at all, a Pod without its token)
    except Exception as err:  # lightkube's ConfigError and file errors; entry points cannot
        # import the adapter's error types, and nothing but configuration loading runs here.
        where = target.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise ClusterError(f"cannot load the kubeconfig {where}: {err}") from err
    try:
        if start_cache:
            await rt.live_start()
        yield rt
    finally:
        await rt.close()


def run(target: Target, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``, naming the API server when it could not be reached."""
    try:
        return asyncio.run(work)
    except ClusterError as err:
        if not isinstance(err, KubeApiError) and any(m in str(err) for m in _UNREACHABLE):
            server = server_of(target.kubeconfig)
            raise ClusterError(f"cannot reach the Kubernetes API server {server}: {err}") from err
        raise


def server_of(kubeconfig: str | None) -> str:
    """The API server URL of the kubeconfig's current context (for messages only)."""
    path = kubeconfig or (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    path = path or os.path.expanduser("~/.kube/config")
    try:
        config = yaml.safe_load(pathlib.Path(path).read_text())
        context_name = config.get("current-context")
        context = _named(config.get("contexts"), context_name).get("context") or {}
        cluster = _named(config.get("clusters"), context.get("cluster")).get("cluster") or {}
        return str(cluster.get("server") or f"(no server in {path})")
    except (OSError, yaml.YAMLError, AttributeError):
        return f"(from {path})"


def _named(items: Any, name: Any) -> Mapping[str, Any]:
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name") == name:
            return item
    return {}


def parse_resource(text: str) -> SyncOperationResource:
    """``GROUP:KIND:NAME`` or ``GROUP:KIND:NAMESPACE/NAME`` (Argo CD's ``--resource``).

    Raises:
        InvalidInputError: The text has not three ``:``-separated fields with a kind and a name.
    """
    parts = text.split(":")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise InvalidInputError(
            f"--resource {text!r}: expected GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME "
            "(GROUP may be empty, as in :Service:web)"
        )
    group, kind, rest = parts
    namespace, _, name = rest.rpartition("/")
    if not name:
        raise InvalidInputError(f"--resource {text!r}: the name is empty")
    fields: dict[str, Any] = {"kind": kind, "name": name}
    if group:
        fields["group"] = group
    if namespace:
        fields["namespace"] = namespace
    return SyncOperationResource(**fields)
