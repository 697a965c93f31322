"""The operator's configuration files, re-read when they change: known hosts, TLS CAs, plugins.

A repo-server reads these from files (mounted ConfigMaps, as Argo CD's repo-server does), and a
controller reads plugin files the same way. A mounted ConfigMap changes by a symlink swap, so
each use compares what ``stat`` says of every file (following links) with what it saw last, and
reads again only when that changed: no watcher thread, and a change applies at the next use.
Warnings are logged once per change, naming the file and the reason.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from tether.core.sources import cmp, kubeyaml, renderconfig
from tether.core.sources.rendering import PluginSpec
from tether.model.errors import InvalidInputError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1 << 20
"""A known_hosts file, a CA bundle or a plugin file over a MiB is a mistake, not configuration."""

T = TypeVar("T")

_Stamp = tuple[tuple[str, int, int, int], ...]


class _Reloading(Generic[T]):
    """A value read from some paths, read again when any of them changes."""

    def __init__(self, paths: Callable[[], list[str]], read: Callable[[], tuple[T, list[str]]]):
        self._paths = paths
        self._read = read
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._value: T | None = None

    def __call__(self) -> T:
        stamp = _stamp(self._paths())
        with self._lock:
            if self._value is None or stamp != self._stamp:
                value, warnings = self._read()
                for warning in warnings:
                    log.warning("%s", warning)
                self._value, self._stamp = value, stamp
            return self._value


def _stamp(paths: list[str]) -> _Stamp:
    found = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            found.append((path, -1, -1, -1))
            continue
        found.append((path, st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(found)


def _entries(directory: str) -> list[str]:
    """The files of a directory as a mounted ConfigMap has them (``..data`` and dotfiles out)."""
    try:
        names = sorted(n for n in os.listdir(directory) if not n.startswith("."))
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]


def _read_text(path: str) -> str:
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
    return data.decode("utf-8")


def host_trust(known_hosts_file: str, tls_certs_dir: str) -> Callable[[], renderconfig.HostTrust]:
    """The trust of a known_hosts file and a directory laid out as ``argocd-tls-certs-cm``.

    The directory holds one PEM file per host name. Both are read again whenever they change;
    empty paths trust nothing.
    """

    def paths() -> list[str]:
        listed = [known_hosts_file] if known_hosts_file else []
        if tls_certs_dir:
            listed += [tls_certs_dir, *_entries(tls_certs_dir)]
        return listed

    def read() -> tuple[renderconfig.HostTrust, list[str]]:
        warnings: list[str] = []
        known = ""
        if known_hosts_file:
            try:
                text = _read_text(known_hosts_file)
            except (OSError, ValueError) as err:
                warnings.append(f"{known_hosts_file}: cannot be read ({_why(err)}); no SSH host "
                                "is trusted")  # fmt: skip
            else:
                known, found = renderconfig.parse_known_hosts(text, known_hosts_file)
                warnings += found
        data: dict[str, str] = {}
        for path in _entries(tls_certs_dir) if tls_certs_dir else []:
            try:
                data[os.path.basename(path)] = _read_text(path)
            except (OSError, ValueError) as err:
                warnings.append(f"{path}: cannot be read ({_why(err)}); ignored")
        certs, found = renderconfig.parse_tls_certs(data, tls_certs_dir)
        return renderconfig.HostTrust(known, certs), warnings + found

    return _Reloading(paths, read)


def plugins(directories: Sequence[str]) -> Callable[[], tuple[PluginSpec, ...]]:
    """The ``ConfigManagementPlugin`` files (``*.yaml``, ``*.yml``) of ``directories``.

    In order; read again whenever one changes.
    """

    def files() -> list[str]:
        return [
            path
            for directory in directories
            for path in _entries(directory)
            if path.endswith((".yaml", ".yml"))
        ]

    def paths() -> list[str]:
        return [*directories, *files()]

    def read() -> tuple[tuple[PluginSpec, ...], list[str]]:
        documents: list[tuple[str, list[object]]] = []
        warnings: list[str] = []
        for path in files():
            try:
                docs = kubeyaml.parse_yaml(_read_text(path).encode(), path)
            except (OSError, ValueError, InvalidInputError) as err:
                warnings.append(f"{path}: cannot be read ({_why(err)}); ignored")
                continue
            documents.append((path, list(docs)))
        found, more = cmp.parse_plugins(documents)
        return found, warnings + more

    return _Reloading(paths, read)


def _why(err: Exception) -> str:
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    return str(err)[:200]
