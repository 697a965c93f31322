"""One commit's metadata from a mirror: the ``git log`` call that reads it and its parsing."""

from __future__ import annotations

from tether.adapters.commandline import CommandLine
from tether.model import timestamps
from tether.model.revisions import RevisionMetadata

FORMAT = "%an <%ae>%x00%aI%x00%D%x00%B"
"""Author as Argo CD shows it (``name <email>``), author date, the tags' decorations, the whole
message; NUL-separated, since a message may hold any other character."""

MAX_MESSAGE_CHARS = 64 * 1024
"""A commit message is a few lines; a crafted one of megabytes must not travel to every page."""


def log_command(git: str, sha: str) -> CommandLine:
    """``git log`` of the one commit ``sha`` (a full SHA, never a flag), decorated by tags only."""
    command = CommandLine(
        git,
        "log",
        "-1",
        "--no-walk",
        "--no-show-signature",
        "--no-mailmap",
        "--decorate-refs=refs/tags/",
        f"--format={FORMAT}",
    )
    return command.end_of_options("--end-of-options").positional(sha, field="sha")


def parse(stdout: bytes) -> RevisionMetadata:
    """The metadata in ``log_command``'s output."""
    text = stdout.decode(errors="replace")
    author, _, rest = text.partition("\0")
    date, _, rest = rest.partition("\0")
    decorations, _, message = rest.partition("\0")
    parsed = timestamps.parse(date.strip())
    return RevisionMetadata(
        author=author.strip(),
        date=timestamps.format_time(parsed) if parsed else "",
        message=message.strip()[:MAX_MESSAGE_CHARS],
        tags=tuple(
            part.strip().removeprefix("tag: ")
            for part in decorations.split(",")
            if part.strip().startswith("tag: ")
        ),
    )
