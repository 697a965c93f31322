"""A long build shows what it does as it goes: the script's lines, each step with its time."""

from __future__ import annotations

import io
import time

from tether.adapters import _process
from tether.adapters.devcluster import tools
from tether.cli import progress


def test_a_process_s_stderr_lines_are_heard_as_written_and_captured_too():
    heard: list[str] = []
    script = "echo one >&2; echo out; sleep 0.2; echo two >&2"
    done = _process.run_sync(["bash", "-c", script], stderr_line=heard.append)
    assert heard == ["one", "two"]
    assert done.stdout == b"out\n"
    assert done.stderr == b"one\ntwo\n"


def test_a_failing_streamed_process_still_raises_with_its_stderr():
    try:
        _process.run_sync(["bash", "-c", "echo bad >&2; exit 3"], stderr_line=lambda _l: None)
    except _process.ProcessError as err:
        assert err.returncode == 3 and "bad" in err.stderr
    else:
        raise AssertionError("no ProcessError")


def test_only_the_build_script_s_own_lines_reach_the_progress(monkeypatch, tmp_path):
    fake = tmp_path / "build-tools.sh"
    fake.write_text(
        "echo 'go: downloading example.com/m v1' >&2\n"
        "echo '[build-tools] building helm (first time on this machine)' >&2\n"
        'echo "helm=$TETHER_TOOLS_CACHE/bin/helm"\n'
    )
    monkeypatch.setattr(tools, "BUILD_SCRIPT", fake)
    monkeypatch.setenv("TETHER_TOOLS_CACHE", str(tmp_path / "cache"))
    heard: list[str] = []
    built = tools.build("helm", progress=heard.append)
    assert heard == ["building helm (first time on this machine)"]
    assert built == {"helm": tmp_path / "cache" / "bin" / "helm"}


def test_progress_off_a_terminal_is_plain_lines_with_elapsed_times():
    out = io.StringIO()
    with progress.Progress(out, live=False) as shown:
        shown.start("helm: building")
        shown.note("compiling")
        shown.done("helm: ready")
    assert out.getvalue().splitlines() == [
        "helm: building ...",
        "  compiling [0s]",
        "helm: ready (0s)",
    ]
    assert "\r" not in out.getvalue()


def test_progress_on_a_terminal_redraws_the_step_with_its_seconds():
    out = io.StringIO()
    now = [100.0]
    with progress.Progress(out, live=True, clock=lambda: now[0], interval=None) as shown:
        shown.start("apiserver: building")
        now[0] += 1.3
        shown.redraw()
        now[0] += 1.0
        shown.redraw()
        shown.done("apiserver: ready")
    text = out.getvalue()
    assert "\r\033[K| apiserver: building 1s\r\033[K/ apiserver: building 2s" in text
    assert text.endswith("\r\033[Kapiserver: ready (2s)\n")


def test_progress_on_a_terminal_redraws_by_itself_while_a_step_runs():
    out = io.StringIO()
    with progress.Progress(out, live=True, interval=0.01) as shown:
        shown.start("apiserver: building")
        deadline = time.monotonic() + 30  # a loaded machine may hold the ticker back a while
        while "| apiserver: building" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        shown.done("apiserver: ready")
    assert "\r\033[K| apiserver: building " in out.getvalue()
