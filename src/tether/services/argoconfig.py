"""Argo CD's ConfigMaps in the control-plane namespace, watched: the configuration in force, live.

One list+watch of the namespace's ConfigMaps (``core.cluster.reflection``'s state machine: resume,
re-list after 410 Gone, back off), keeping the ``data`` of the names it is asked about. Each change
of one of them is parsed again (``core.config.system.parse``); a good result replaces the
configuration in force and is told to subscribers, a bad one is logged and the last good one stays.
Warnings are logged once per change, naming keys, never values.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from tether import ports
from tether.core.cluster import reflection
from tether.core.config import keys, system
from tether.core.config.system import SystemConfig
from tether.model.errors import KubeApiError
from tether.model.resources import name_of

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
BACKOFF_JITTER = 0.2
"""Up to 20 % added to a backoff, as the other reflectors do."""


class Parsed(Protocol):
    """What a parse gives: a frozen configuration, with warnings about what it left out."""

    @property
    def warnings(self) -> Sequence[str]:
        """Each ignored key and why (never a value)."""
        ...


ConfigT = TypeVar("ConfigT", bound=Parsed)


class ConfigMaps(Generic[ConfigT]):
    """A configuration in force, parsed from ``names`` (ConfigMaps) in ``namespace``.

    ``parse`` may raise ``system.ConfigError`` to refuse a change as a whole.
    """

    def __init__(
        self,
        cluster: ports.Cluster,
        namespace: str,
        *,
        names: Sequence[str],
        parse: Callable[[system.ConfigData], ConfigT],
        default: ConfigT,
    ) -> None:
        self._cluster = cluster
        self._namespace = namespace
        self._names = tuple(names)
        self._parse = parse
        self._data: dict[str, dict[str, str]] = {}
        self._current = default
        self._error = ""
        self._subscribers: list[Callable[[ConfigT], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        self._rng = random.Random()

    # ---- reading ------------------------------------------------------------------------------

    @property
    def current(self) -> ConfigT:
        """The last good configuration (the defaults until one is read)."""
        return self._current

    @property
    def error(self) -> str:
        """Why the latest change was refused (``""``: it was read), naming the ConfigMap and key."""
        return self._error

    def data(self, name: str) -> Mapping[str, str]:
        """The latest ``data`` of one watched ConfigMap (empty when it does not exist)."""
        return dict(self._data.get(name, {}))

    def subscribe(self, subscriber: Callable[[ConfigT], None]) -> Callable[[], None]:
        """Hear every good change from now on (called in the event loop; must not block).

        Returns the function that stops it.
        """
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    # ---- life ---------------------------------------------------------------------------------

    async def load(self) -> ConfigT:
        """Read the ConfigMaps once (before the watch starts): what start-up settings come from."""
        data: dict[str, dict[str, str]] = {}
        for name in self._names:
            try:
                obj = await self._cluster.get("v1", "ConfigMap", name, self._namespace)
            except KubeApiError as err:
                # Forbidden, say: start with the defaults and say so; the watch retries.
                log.warning("cannot read ConfigMap %s/%s: %s", self._namespace, name, err)
                continue
            if obj is not None:
                data[name] = _data_of(obj)
        self._data = data
        self._reparse()
        return self._current

    def start(self) -> None:
        """Start the watch (in the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._reflect())

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until the ConfigMaps have been listed once."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    async def stop(self) -> None:
        """Stop watching; the configuration in force stays."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- the reflector ------------------------------------------------------------------------

    async def _reflect(self) -> None:
        state, action = reflection.start()
        while True:
            observed: reflection.Input
            match action:
                case reflection.List():
                    observed = await self._list()
                case reflection.Watch(resource_version=rv):
                    state, observed = await self._watch(state, rv)
                case reflection.Sleep(seconds=seconds):
                    await asyncio.sleep(seconds * (1 + self._rng.random() * BACKOFF_JITTER))
                    observed = reflection.Waited()
                case reflection.Stop(reason=reason):
                    log.warning(
                        "stopped watching ConfigMaps in %s: %s; the configuration in force stays",
                        self._namespace,
                        reason,
                    )
                    self._synced.set()
                    return
                case _:  # pragma: no cover - Apply is consumed inside _watch
                    raise AssertionError(action)
            state, action = reflection.step(state, observed)

    async def _list(self) -> reflection.Input:
        try:
            items, version = await self._cluster.list("v1", "ConfigMap", self._namespace)
        except KubeApiError as exc:
            return reflection.Failed(exc.code, exc.reason)
        except Exception as exc:  # a broken connection: retried with backoff
            log.info("listing ConfigMaps in %s failed: %s", self._namespace, type(exc).__name__)
            return reflection.Failed()
        fresh = {name_of(obj): _data_of(obj) for obj in items if name_of(obj) in self._names}
        if fresh != self._data:
            self._data = fresh
            self._reparse()
        self._synced.set()
        return reflection.Listed(version)

    async def _watch(
        self, state: reflection.State, version: str
    ) -> tuple[reflection.State, reflection.Input]:
        try:
            async for kind, obj in self._cluster.watch(
                "v1", "ConfigMap", self._namespace, resource_version=version
            ):
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
                if kind in (ADDED, MODIFIED, DELETED):
                    self._apply(kind, obj)
                elif kind != "BOOKMARK":
                    continue
                state, _ = reflection.step(state, reflection.Event(kind, rv))
        except KubeApiError as exc:
            return state, reflection.Failed(exc.code, exc.reason)
        except Exception as exc:  # a dropped connection: resume from the version
            log.info("watch of ConfigMaps in %s broke: %s", self._namespace, type(exc).__name__)
            return state, reflection.Failed()
        return state, reflection.Closed()

    def _apply(self, kind: str, obj: Mapping[str, Any]) -> None:
        name = name_of(obj)
        if name not in self._names:
            return
        if kind == DELETED:
            if self._data.pop(name, None) is None:
                return
        else:
            data = _data_of(obj)
            if self._data.get(name) == data:
                return  # metadata-only change, or the same version after a resumed watch
            self._data[name] = data
        self._reparse()

    def _reparse(self) -> None:
        try:
            parsed = self._parse(self._data)
        except system.ConfigError as err:
            self._error = str(err)
            log.error("configuration refused, the last good one stays in force: %s", err)
            return
        self._error = ""
        if parsed == self._current:
            return
        for warning in parsed.warnings:
            log.warning("%s", warning)
        self._current = parsed
        log.info(
            "configuration in force from %s",
            ", ".join(sorted(self._data)) or "defaults (no Argo CD ConfigMap found)",
        )
        for subscriber in list(self._subscribers):
            try:
                subscriber(parsed)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("a configuration subscriber failed")


class ArgoConfig(ConfigMaps[SystemConfig]):
    """Argo CD's own ConfigMaps (``keys.CONFIG_MAPS``): the ``SystemConfig`` in force."""

    def __init__(
        self,
        cluster: ports.Cluster,
        namespace: str,
        *,
        names: Sequence[str] = keys.CONFIG_MAPS,
        parse: Callable[[system.ConfigData], SystemConfig] = system.parse,
    ) -> None:
        super().__init__(cluster, namespace, names=names, parse=parse, default=system.DEFAULT)


def _data_of(obj: Mapping[str, Any]) -> dict[str, str]:
    data = obj.get("data") or {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, Mapping) else {}
