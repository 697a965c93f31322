"""``GET /api/version``: the server's version, in Argo CD's capitalised keys.

Anyone may ask; only an authenticated caller learns more than the version itself.
"""

from __future__ import annotations

import platform
import sys

from fastapi import APIRouter, Request

import tether
from tether.api import errors
from tether.api.context import caller_of, token_of

router = APIRouter()


def _full() -> dict[str, str]:
    version = f"v{tether.__version__}"
    return {
        "Version": version,
        "BuildDate": "",
        "GitCommit": "",
        "GitTag": version,
        "GitTreeState": "",
        # Argo CD reports its Go toolchain; tether reports the Python that runs it.
        "GoVersion": f"python{platform.python_version()}",
        "Compiler": platform.python_implementation().lower(),
        "Platform": f"{sys.platform}/{platform.machine()}",
        "KustomizeVersion": "",
        "HelmVersion": "",
        "KubectlVersion": "",
        "JsonnetVersion": "",
        "ExtraBuildInfo": "tether",
    }


@router.get("/api/version")
async def version(request: Request) -> dict[str, str]:
    """The version; the build details only for an authenticated caller."""
    full = _full()
    if token_of(request) is None:
        return {"Version": full["Version"]}
    try:
        caller = await caller_of(request)
    except errors.ApiError:
        return {"Version": full["Version"]}
    return full if caller.kind != "anonymous" else {"Version": full["Version"]}
