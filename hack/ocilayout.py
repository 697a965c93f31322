"""OCI image layouts written from Python: reproducible gzip layers, the layout, its archive.

Used by ``build-image.py``; knows the OCI image spec and Docker's ``manifest.json``, nothing of
tether. Every tar is sorted, owned by numeric ids and stamped with one time, so the same inputs
give the same digests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import tarfile
from collections.abc import Iterator
from typing import IO, Any


@dataclasses.dataclass(frozen=True)
class Layer:
    """One gzip layer blob on disk with its two digests."""

    path: pathlib.Path
    digest: str  # sha256 of the gzip blob
    diff_id: str  # sha256 of the uncompressed tar
    size: int
    created_by: str

    def save_meta(self) -> None:
        meta = {"digest": self.digest, "diff_id": self.diff_id, "created_by": self.created_by}
        self.path.with_suffix(".json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, path: pathlib.Path) -> Layer | None:
        meta_path = path.with_suffix(".json")
        if not (path.is_file() and meta_path.is_file()):
            return None
        meta = json.loads(meta_path.read_text())
        return cls(path, meta["digest"], meta["diff_id"], path.stat().st_size, meta["created_by"])


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to ``sink``."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink, self.sha, self.size = sink, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.size += len(view)
        self.sink.write(view)
        return len(view)


@contextlib.contextmanager
def layer_writer(path: pathlib.Path, created_by: str) -> Iterator[tuple[IO[bytes], list[Layer]]]:
    """Write a layer's tar to the yielded stream; the finished ``Layer`` lands in the list."""
    tmp = path.with_suffix(".part")
    done: list[Layer] = []
    with tmp.open("wb") as raw:
        compressed = _Hashing(raw)
        with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=6, mtime=0) as gz:
            plain = _Hashing(gz)
            yield plain, done
    os.replace(tmp, path)
    layer = Layer(
        path,
        "sha256:" + compressed.sha.hexdigest(),
        "sha256:" + plain.sha.hexdigest(),
        compressed.size,
        created_by,
    )
    layer.save_meta()
    done.append(layer)


def tar_tree(out: IO[bytes], staging: pathlib.Path, epoch: int) -> None:
    """Everything under ``staging`` as a layer: sorted, owned by root, stamped ``epoch``."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for file in walk(staging):
            info = tar.gettarinfo(str(file), file.relative_to(staging).as_posix())
            info.mtime, info.uid, info.gid = epoch, 0, 0
            info.uname = info.gname = "root"
            info.mode = 0o755 if info.isdir() else info.mode & 0o755
            if info.isreg():
                with file.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)


def entry(name: str, kind: bytes, mode: int, epoch: int, owner: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, epoch
    info.uid = info.gid = owner
    info.uname = info.gname = "" if owner else "root"
    return info


def walk(top: pathlib.Path) -> Iterator[pathlib.Path]:
    """Every path under ``top`` in a stable order, parents first, never following links."""
    for child in sorted(top.iterdir(), key=lambda p: p.name):
        yield child
        if child.is_dir() and not child.is_symlink():
            yield from walk(child)


def iso(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def put_blob(layout: pathlib.Path, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest[7:]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def write_layout(
    layout: pathlib.Path, reference: str, config: dict[str, Any], layers: list[Layer]
) -> dict[str, Any]:
    """An OCI image layout holding one image named ``reference``; returns Docker's manifest."""
    shutil.rmtree(layout, ignore_errors=True)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    for layer in layers:
        target = layout / "blobs" / "sha256" / layer.digest[7:]
        try:
            os.link(layer.path, target)
        except OSError:
            shutil.copyfile(layer.path, target)
    config_ref = put_blob(layout, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_ref},
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer.digest,
                "size": layer.size,
            }
            for layer in layers
        ],
        "annotations": config["config"]["Labels"],
    }
    manifest_ref = put_blob(layout, canonical(manifest))
    tag = reference.rsplit(":", 1)[1]
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_ref,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    # The tag for skopeo and umoci (oci:DIR:TAG); the full name for containerd.
                    "org.opencontainers.image.ref.name": tag,
                    "io.containerd.image.name": reference,
                },
            }
        ],
    }
    (layout / "index.json").write_bytes(canonical(index))
    (layout / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    blob = "blobs/sha256/"
    return {
        "Config": blob + config_ref["digest"][7:],
        "RepoTags": [reference],
        "Layers": [blob + layer.digest[7:] for layer in layers],
    }


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_archive(
    layout: pathlib.Path, archive: pathlib.Path, docker: dict[str, Any], epoch: int
) -> None:
    """The layout as one tar, plus Docker's manifest.json for ``docker load``-style loaders."""
    tmp = archive.with_suffix(".part")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for file in walk(layout):
            info = tar.gettarinfo(str(file), file.relative_to(layout).as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            info.mode = 0o755 if info.isdir() else 0o644
            if info.isreg():
                with file.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
        data = canonical([docker])
        info = entry("manifest.json", tarfile.REGTYPE, 0o644, epoch)
        info.uname = info.gname = ""
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, archive)
