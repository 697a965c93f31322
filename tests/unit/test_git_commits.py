"""Reading one commit's metadata from ``git log``'s output, and the command that asks for it."""

from __future__ import annotations

import pytest

from tether.adapters.git import commits
from tether.model.errors import InvalidInputError


def test_the_author_date_tags_and_whole_message_are_read_and_the_date_is_utc():
    out = b"Ann <ann@example.test>\x002026-03-04T05:06:07+02:00\x00tag: v1.2, tag: latest\x00"
    out += b"Subject line\n\nBody, with a \x1f control and, commas.\n"
    found = commits.parse(out)
    assert found.author == "Ann <ann@example.test>"
    assert found.date == "2026-03-04T03:06:07Z"
    assert found.tags == ("v1.2", "latest")
    assert found.message == "Subject line\n\nBody, with a \x1f control and, commas."


def test_a_huge_message_is_cut_and_an_undated_commit_has_no_date():
    found = commits.parse(b"A <a@b>\x00garbage\x00\x00" + b"x" * (commits.MAX_MESSAGE_CHARS + 9))
    assert len(found.message) == commits.MAX_MESSAGE_CHARS
    assert (found.date, found.tags) == ("", ())


def test_the_commit_goes_after_the_end_of_options_where_git_reads_no_flag():
    argv = commits.log_command("git", "a" * 40).argv
    assert argv[-2:] == ["--end-of-options", "a" * 40]
    # After the marker git reads even this as a revision name, never as --output.
    assert commits.log_command("git", "--output=/tmp/x").argv[-2:] == [
        "--end-of-options",
        "--output=/tmp/x",
    ]
    with pytest.raises(InvalidInputError):
        commits.log_command("git", "a\x00b")
