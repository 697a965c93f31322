"""Tool command lines built one way, so no value from an Application can become an option.

tether's own words (the program, its subcommands, switches) go in as they are. A value that comes
from tenant input (an Application, a repository, a chart) goes in only as the value of a named
flag (``--flag=value``, never two words a tool could split), after ``--``, or as a positional
that cannot be read as an option: one beginning with ``-`` is refused, naming its field. A NUL,
which no argv can carry, is refused the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from tether.model.errors import InvalidInputError


class CommandLine:
    """An argv under construction; ``argv`` is the finished list for ``_process.run``."""

    def __init__(self, program: str, *words: str) -> None:
        """``program`` and tether's own leading words (subcommands), never tenant input."""
        self._argv = [program, *words]
        self._ended_options = False

    @property
    def argv(self) -> list[str]:
        """The command line, ready to run without a shell."""
        return list(self._argv)

    def word(self, *words: str) -> CommandLine:
        """Add tether's own words: switches and fixed arguments (``--include-crds``)."""
        self._argv.extend(words)
        return self

    def flag(self, name: str, value: str, *, field: str) -> CommandLine:
        """Add ``name=value``, one word, whatever ``value`` holds (it names ``field`` on error)."""
        if not name.startswith("-"):
            raise ValueError(f"not a flag: {name!r}")  # a bug in tether, not bad input
        _refuse_nul(value, field)
        self._argv.append(f"{name}={value}")
        return self

    def flags(self, name: str, values: Iterable[str], *, field: str) -> CommandLine:
        """Add ``name=value`` once per value."""
        for value in values:
            self.flag(name, value, field=field)
        return self

    def positional(self, value: str, *, field: str) -> CommandLine:
        """Add a positional argument; one a tool could read as an option is refused."""
        _refuse_nul(value, field)
        if value.startswith("-") and not self._ended_options:
            raise InvalidInputError(f"{field}: {value!r} must not begin with '-'")
        self._argv.append(value)
        return self

    def end_of_options(self, marker: str = "--") -> CommandLine:
        """Add ``--`` (or git's ``--end-of-options``): what follows is never an option."""
        self._argv.append(marker)
        self._ended_options = True
        return self


def _refuse_nul(value: str, field: str) -> None:
    if "\x00" in value:
        raise InvalidInputError(f"{field}: contains a NUL byte")
