"""Rendered manifests on disk: the codec, what is never trusted, atomic writes, byte pruning."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

from tether.adapters import rendercache

KEY = ("https://git.example/r.git", "a" * 40, "apps/web", "digest", "helm=v3.16.2")
OBJECTS = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}}]
MIB = 1 << 20


def entry_path(directory: Path, key: tuple[str, ...] = KEY) -> Path:
    name = rendercache.entry_name(key)
    return directory / name[:2] / name


def test_an_entry_decodes_to_its_objects_for_its_own_key_only():
    data = rendercache.encode(KEY, OBJECTS)
    assert rendercache.decode(KEY, data) == OBJECTS
    assert rendercache.decode((*KEY[:4], "helm=v3.17.0"), data) is None


def test_a_truncated_corrupted_or_foreign_entry_decodes_to_nothing():
    data = rendercache.encode(KEY, OBJECTS)
    flipped = bytearray(data)
    flipped[-3] ^= 0x01
    assert rendercache.decode(KEY, data[:-5]) is None
    assert rendercache.decode(KEY, bytes(flipped)) is None
    assert rendercache.decode(KEY, b"not an entry at all") is None
    assert rendercache.decode(KEY, b"") is None


def test_an_entry_whose_checksum_matches_but_holds_no_list_of_objects_decodes_to_nothing():
    import hashlib
    import zlib

    import orjson

    body = zlib.compress(orjson.dumps({"key": list(KEY), "objects": ["a string"]}))
    data = rendercache.MAGIC + hashlib.sha256(body).digest() + body
    assert rendercache.decode(KEY, data) is None


def test_an_entry_that_inflates_beyond_the_limit_decodes_to_nothing(monkeypatch):
    monkeypatch.setattr(rendercache, "MAX_DECODED_BYTES", 1024)
    big = [{"kind": "ConfigMap", "data": {"x": "a" * 4096}}]
    assert rendercache.decode(KEY, rendercache.encode(KEY, big)) is None


def test_file_names_differ_for_keys_differing_in_any_part():
    names = {rendercache.entry_name((*KEY[:i], "other", *KEY[i + 1 :])) for i in range(len(KEY))}
    assert len(names | {rendercache.entry_name(KEY)}) == len(KEY) + 1


async def test_a_stored_render_is_loaded_by_a_new_instance_over_the_same_directory(tmp_path):
    await rendercache.DiskRenderCache(str(tmp_path / "m"), max_bytes=MIB).store(KEY, OBJECTS)
    again = rendercache.DiskRenderCache(str(tmp_path / "m"), max_bytes=MIB)
    assert await again.load(KEY) == OBJECTS
    assert await again.load((*KEY[:4], "helm=v3.17.0")) is None


async def test_entries_are_private_files_in_private_directories(tmp_path):
    directory = tmp_path / "m"
    await rendercache.DiskRenderCache(str(directory), max_bytes=MIB).store(KEY, OBJECTS)
    path = entry_path(directory)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


async def test_a_directory_made_readable_to_others_is_narrowed_again_on_the_next_write(tmp_path):
    directory = tmp_path / "m"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    await rendercache.DiskRenderCache(str(directory), max_bytes=MIB).store(KEY, OBJECTS)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700


async def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    await cache.store(KEY, OBJECTS)
    path = entry_path(tmp_path)
    path.write_bytes(path.read_bytes()[:-10])
    assert await cache.load(KEY) is None
    assert not path.exists()


async def test_an_entry_of_another_key_copied_under_this_keys_name_is_a_miss(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    other = (*KEY[:3], "another tenant's digest", KEY[4])
    await cache.store(other, [{"kind": "Secret", "data": {"theirs": "eA=="}}])
    target = entry_path(tmp_path)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    os.replace(entry_path(tmp_path, other), target)
    assert await cache.load(KEY) is None
    assert not target.exists()


async def test_an_entry_others_could_write_is_never_read(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    await cache.store(KEY, OBJECTS)
    os.chmod(entry_path(tmp_path), 0o666)
    assert await cache.load(KEY) is None


async def test_a_symbolic_link_in_place_of_an_entry_is_not_followed(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path / "m"), max_bytes=MIB)
    await cache.store(KEY, OBJECTS)
    elsewhere = tmp_path / "elsewhere"
    path = entry_path(tmp_path / "m")
    os.replace(path, elsewhere)
    path.symlink_to(elsewhere)
    assert await cache.load(KEY) is None
    assert elsewhere.exists()


async def test_two_writers_of_one_entry_at_once_leave_one_whole_entry(tmp_path):
    first = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    second = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    await asyncio.gather(*(c.store(KEY, OBJECTS) for _ in range(10) for c in (first, second)))
    assert await first.load(KEY) == OBJECTS
    assert [p.name for p in entry_path(tmp_path).parent.iterdir()] == [entry_path(tmp_path).name]


async def test_a_write_the_disk_refuses_is_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = rendercache.DiskRenderCache(str(blocker / "m"), max_bytes=MIB)
    await cache.store(KEY, OBJECTS)  # logged, not raised: the render goes on
    assert await cache.load(KEY) is None


def aged(path: Path, age_s: float) -> None:
    at = time.time() - age_s
    os.utime(path, (at, at))


async def test_pruning_keeps_the_most_recently_used_entries_within_the_byte_budget(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    keys = [(*KEY[:2], f"app-{n}", *KEY[3:]) for n in range(4)]
    for age, key in zip((40, 30, 20, 10), keys, strict=True):
        await cache.store(key, OBJECTS)
        aged(entry_path(tmp_path, key), age)
    await cache.load(keys[0])  # used now: the most recent
    size = entry_path(tmp_path, keys[0]).stat().st_size
    budget = rendercache.DiskRenderCache(str(tmp_path), max_bytes=2 * size + size // 2)
    removed = budget.prune(now=time.time())
    assert sorted(removed) == sorted(str(entry_path(tmp_path, k)) for k in keys[1:3])
    assert await cache.load(keys[0]) == OBJECTS
    assert await cache.load(keys[3]) == OBJECTS


async def test_a_write_left_by_a_killed_process_is_pruned_once_idle(tmp_path):
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB, min_idle_s=60)
    await cache.store(KEY, OBJECTS)
    folder = entry_path(tmp_path).parent
    fresh, stale = folder / ".tmp-fresh", folder / ".tmp-stale"
    fresh.write_bytes(b"x")
    stale.write_bytes(b"x")
    aged(stale, 120)
    assert cache.prune(now=time.time()) == [str(stale)]
    assert fresh.exists()


async def test_writes_beyond_the_budget_prune_without_waiting_for_the_period(tmp_path):
    one = len(rendercache.encode(KEY, OBJECTS))
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=3 * one)
    for n in range(20):
        await cache.store((*KEY[:2], f"app-{n:02}", *KEY[3:]), OBJECTS)
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total <= 3 * one + one


async def test_a_render_that_would_not_read_back_equal_is_not_kept(tmp_path):
    # JSON has no NaN (it would come back null) and no bytes: served from disk, such a render
    # would differ from the one the tool made.
    cache = rendercache.DiskRenderCache(str(tmp_path), max_bytes=MIB)
    for value in (float("nan"), float("inf"), b"\x00binary", 1 << 70):
        await cache.store(KEY, [{"kind": "ConfigMap", "data": {"x": value}}])
        assert await cache.load(KEY) is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
