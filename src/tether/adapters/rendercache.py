"""Rendered manifests on disk, shared by every process rendering over the same cache directory.

One file per render-cache key, named by the key's digest and holding the key itself and the
objects behind a SHA-256 of what follows it: a truncated, corrupted, foreign or renamed file is a
miss (and is removed), never objects for the wrong key. Written atomically (a private temporary
file renamed in place), so two processes writing one entry at once leave one whole file. Renders
may hold Secret values: files are 0600 in 0700 directories, and a file another user owns or could
write is never read. Pruned to a byte budget, least recently read first (a hit touches the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

log = logging.getLogger(__name__)

MAGIC = b"tether-rendered/1\n"
"""The format's first line; another version's (or anyone else's) file is a miss."""

_DIGEST_SIZE = hashlib.sha256().digest_size

MAX_DECODED_BYTES = 512 << 20
"""What one entry may inflate to: a render's tool output is at most 64 MiB of YAML, so more is
not ours, and a crafted file must not make the reader allocate without end."""

PRUNE_AFTER_WRITTEN = 4
"""Prune once a quarter of the budget was written since the last pruning, not only every period:
a burst of renders (a restart of a fleet) must not outgrow the budget until the next round."""

TEMP_PREFIX = ".tmp-"
"""A write in progress; one a killed process left behind goes after ``min_idle_s``."""


def entry_name(key: Sequence[str]) -> str:
    """The file name of ``key``: the SHA-256 of its parts (a key holds repository URLs)."""
    return hashlib.sha256(orjson.dumps(list(key))).hexdigest()


def encode(key: Sequence[str], objects: Sequence[Mapping[str, Any]]) -> bytes:
    """One entry's bytes: the magic, the checksum of the body, the compressed key and objects.

    Raises:
        ValueError: the objects would not read back equal (NaN and infinities become null,
            an explicit ``!!timestamp`` a string): such a render is not kept.
        TypeError: a value JSON cannot hold (``!!binary`` bytes, an integer beyond 64 bits).
    """
    raw = orjson.dumps({"key": list(key), "objects": list(objects)})
    if orjson.loads(raw)["objects"] != list(objects):
        raise ValueError("the render does not read back equal from JSON")
    body = zlib.compress(raw, 1)
    return MAGIC + hashlib.sha256(body).digest() + body


def decode(key: Sequence[str], data: bytes) -> list[dict[str, Any]] | None:
    """The objects ``data`` holds for ``key``; ``None`` when it is not a whole entry of ``key``."""
    if not data.startswith(MAGIC):
        return None
    checksum = data[len(MAGIC) : len(MAGIC) + _DIGEST_SIZE]
    body = data[len(MAGIC) + _DIGEST_SIZE :]
    if len(checksum) != _DIGEST_SIZE or hashlib.sha256(body).digest() != checksum:
        return None
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(body, MAX_DECODED_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None
        parsed = orjson.loads(raw)
    except (zlib.error, orjson.JSONDecodeError):
        return None
    if not isinstance(parsed, dict) or parsed.get("key") != list(key):
        return None
    objects = parsed.get("objects")
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        return None
    return objects


class DiskRenderCache:
    """A ``ports.RenderCache`` in ``directory``, at most ``max_bytes`` of files after pruning."""

    def __init__(self, directory: str, *, max_bytes: int, min_idle_s: float = 3600.0) -> None:
        self._directory = directory
        self._max_bytes = max_bytes
        self._min_idle_s = min_idle_s
        self._lock = threading.Lock()
        self._written = 0

    @property
    def directory(self) -> str:
        """Where the entries are."""
        return self._directory

    async def load(self, key: Sequence[str]) -> list[dict[str, Any]] | None:
        """The objects stored for ``key``; ``None`` when absent or not to be trusted."""
        try:
            return await asyncio.to_thread(self._load, key)
        except OSError as err:
            log.warning("reading the render cache on disk failed: %s", err.strerror or err)
            return None

    async def store(self, key: Sequence[str], objects: Sequence[Mapping[str, Any]]) -> None:
        """Keep ``objects`` for ``key``; a full or read-only disk only logs (renders go on)."""
        try:
            await asyncio.to_thread(self._store, key, objects)
        except (TypeError, ValueError) as err:
            log.debug("a render is not kept on disk: %s", err)
        except OSError as err:
            log.warning("writing the render cache on disk failed: %s", _reason(err))

    def _path(self, key: Sequence[str]) -> str:
        name = entry_name(key)
        return os.path.join(self._directory, name[:2], name)

    def _load(self, key: Sequence[str]) -> list[dict[str, Any]] | None:
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError:
            _remove(path)  # a symbolic link (ELOOP) or another's file: not ours to read
            return None
        try:
            info = os.fstat(fd)
            if not _private(info) or info.st_size > self._max_bytes:
                objects = None
            else:
                with os.fdopen(fd, "rb", closefd=False) as handle:
                    objects = decode(key, handle.read())
        finally:
            os.close(fd)
        if objects is None:
            log.warning("removed an unreadable render cache entry %s", os.path.basename(path))
            _remove(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # read now: the last to be pruned
        return objects

    def _store(self, key: Sequence[str], objects: Sequence[Mapping[str, Any]]) -> None:
        data = encode(key, objects)
        if len(data) > self._max_bytes:
            return  # bigger than the whole budget: pruning would delete it first anyway
        path = self._path(key)
        folder = os.path.dirname(path)
        os.makedirs(os.path.dirname(self._directory) or ".", exist_ok=True)
        _private_directory(self._directory)
        _private_directory(folder)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            # No fsync: a file a crash truncated fails its checksum and is rendered again.
            os.replace(temp, path)
        except BaseException:
            _remove(temp)
            raise
        with self._lock:
            self._written += len(data)
            due = self._written * PRUNE_AFTER_WRITTEN > self._max_bytes
        if due:
            self.prune(now=time.time())

    def prune(self, *, now: float) -> list[str]:
        """Delete the least recently used entries beyond the budget, and stale temporary files."""
        with self._lock:
            self._written = 0
        entries: list[tuple[float, int, str]] = []
        removed: list[str] = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self._directory) as folders:
            for folder in folders:
                if not folder.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError), os.scandir(folder.path) as files:
                    for item in files:
                        try:
                            info = item.stat(follow_symlinks=False)
                        except OSError:
                            continue
                        if item.name.startswith(TEMP_PREFIX):
                            if now - info.st_mtime >= self._min_idle_s:
                                _remove(item.path)
                                removed.append(item.path)
                            continue
                        entries.append((info.st_mtime, info.st_size, item.path))
        entries.sort(reverse=True)
        total = 0
        for _, size, path in entries:
            total += size
            if total > self._max_bytes:
                _remove(path)
                removed.append(path)
        return removed


def _private(info: os.stat_result) -> bool:
    """A regular file of this user that nobody else may write or read."""
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    )


def _private_directory(path: str) -> None:
    """``path`` as a directory only this user may enter (created, or narrowed if it is wider)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        info = os.stat(path, follow_symlinks=False)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise PermissionError(f"{path} is not a directory of this user") from None
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(path, 0o700)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _reason(err: Exception) -> str:
    # An OSError's message names the file (a digest); only its reason is worth a log line.
    return (err.strerror or str(err)) if isinstance(err, OSError) else str(err)
