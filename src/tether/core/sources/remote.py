"""Which remote references a render may follow, and which network addresses tether never reaches.

Content in a repository can name other places: a kustomize remote base, a helm value file by URL.
Those bypass the AppProject's ``sourceRepos``, so they resolve only for hosts an administrator
listed (``RemotePolicy.hosts``, globs). Whatever the lists say, no fetch tether makes or starts
goes to a link-local or cloud-metadata address, and loopback only where local repositories are
allowed on purpose (tests, the demo). Pure: host names are resolved by a function the caller
passes in.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import urllib.parse
from collections.abc import Callable, Iterable

from tether.core import globs
from tether.model.errors import InvalidInputError

METADATA_HOSTS = frozenset(
    {
        # Cloud instance-metadata endpoints by name (their addresses are link-local anyway).
        "metadata",
        "metadata.google.internal",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        # Metadata services outside the link-local ranges.
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)

_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?!//)")
_HOST_PATH = re.compile(r"^(?P<host>[a-z0-9-]+(\.[a-z0-9-]+)+)/", re.IGNORECASE)

Resolver = Callable[[str], Iterable[str]]
"""A host name to the addresses it resolves to (the adapter passes ``socket.getaddrinfo``)."""


@dataclasses.dataclass(frozen=True)
class RemotePolicy:
    """Where remote references may go; set by the administrator, never by an Application."""

    hosts: tuple[str, ...] = ()
    """Host globs remote references may name (``github.com``, ``*.example.com``); none by
    default: a remote base or value file is refused until its host is listed."""
    allow_loopback: bool = False
    """Loopback addresses allowed (local repositories: tests and the demo only)."""


def host_of(reference: str) -> str | None:
    """The host a reference names: ``scheme://host/...``, ``git@host:path``, ``host.tld/path``.

    ``None`` for a reference that names no host (a local path).
    """
    if "://" in reference:
        try:
            host = urllib.parse.urlsplit(reference).hostname
        except ValueError:
            return ""
        return host or ""
    scp = _SCP_LIKE.match(reference)
    if scp is not None and "@" in reference.split(":", 1)[0]:
        return scp.group("host").lower()
    host_path = _HOST_PATH.match(reference)
    return host_path.group("host").lower() if host_path else None


def refuse_address(host: str, addresses: Iterable[str], policy: RemotePolicy, field: str) -> None:
    """Refuse a host that is, or resolves to, an address tether never reaches."""
    if host.lower().rstrip(".") in METADATA_HOSTS:
        raise InvalidInputError(f"{field}: {host!r} is a cloud metadata service")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        why = forbidden(address, policy)
        if why:
            raise InvalidInputError(f"{field}: {host!r} resolves to {why} address {address}")


def forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: RemotePolicy) -> str:
    """Why tether never connects to ``address`` ("" when it may)."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata"
    if address.is_link_local:
        return "a link-local"
    if address.is_unspecified or address.is_multicast:
        return "an unroutable"
    if address.is_loopback and not policy.allow_loopback:
        return "a loopback"
    return ""


def check_reference(reference: str, policy: RemotePolicy, resolve: Resolver, *, field: str) -> None:
    """Refuse a remote reference to a host not listed, or to an address never reached.

    Raises:
        InvalidInputError: naming ``field`` and the host, never the URL's credentials.
    """
    host = host_of(reference)
    if host is None:
        return
    if not host or not any(globs.match(pattern, host) for pattern in policy.hosts):
        raise InvalidInputError(
            f"{field}: remote reference to host {host!r}, which is not in the allowed remote "
            "hosts (an administrator's setting)"
        )
    refuse_address(host, _resolved(host, resolve), policy, field)


def _resolved(host: str, resolve: Resolver) -> list[str]:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return list(resolve(host))
    return [host.strip("[]")]
