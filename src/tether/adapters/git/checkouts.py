"""The user's own Git checkout (``tether preview``): a name they type, resolved as git would.

``HEAD~1``, ``origin/main``, ``v1.2^{}`` or a short SHA name commits only in the checkout they
were typed in; the mirrors behind rendering know refs and full SHAs.
"""

from __future__ import annotations

from tether.adapters import _process
from tether.adapters.commandline import CommandLine


async def commit_named(checkout: str, name: str, *, git: str = "git") -> str | None:
    """The full SHA ``name`` means in ``checkout``, or ``None`` when git knows no such commit."""
    command = (
        CommandLine(git, "rev-parse", "--verify", "--quiet")
        .end_of_options("--end-of-options")
        .positional(f"{name}^{{commit}}", field="ref")
    )
    done = await _process.run(command.argv, cwd=checkout, check=False)
    sha = done.stdout.decode(errors="replace").strip()
    return sha if done.returncode == 0 and sha else None
