"""tether-goeval, built as a tool: Argo CD's expressions and Go templates, with a deadline."""

from __future__ import annotations

import pathlib
import time

import pytest
import yaml

from tether.adapters.devcluster import tools
from tether.adapters.goevaluator import GoEvaluator
from tether.core.notify import config
from tether.model.errors import EvaluationError, ToolBuildError

pytestmark = pytest.mark.timeout(30)

CATALOG = pathlib.Path(__file__).parents[3] / "deploy/notifications/argocd-notifications-cm.yaml"


@pytest.fixture
async def evaluator():
    ev = GoEvaluator(lambda: tools.path_of("tether-goeval"), deadline_s=1.0)
    try:
        yield ev
    finally:
        await ev.aclose()


def app(phase: str = "", health: str = "Healthy", **status: object) -> dict[str, object]:
    operation = {
        "phase": phase,
        "startedAt": "2026-01-01T00:00:00Z",
        "finishedAt": "2026-01-01T00:00:30Z",
        "syncResult": {"revision": "abc123"},
    }
    return {
        "metadata": {"name": "guestbook"},
        "status": {
            **({"operationState": operation} if phase else {}),
            "health": {"status": health, "lastTransitionTime": "2026-01-01T00:00:20Z"},
            "sync": {"status": "Synced"},
            **status,
        },
    }


async def test_the_catalog_triggers_hold_exactly_when_argo_cd_s_would(evaluator):
    catalog = config.parse(yaml.safe_load(CATALOG.read_text())["data"])

    async def holds(trigger: str, obj: dict[str, object]) -> bool:
        (condition,) = catalog.triggers[trigger].conditions
        return await evaluator.expr(condition.when, {"app": obj, "appProject": {}}) is True

    assert await holds("on-sync-succeeded", app("Succeeded"))
    assert not await holds("on-sync-succeeded", app())  # no operation: ?. guards it
    assert await holds("on-sync-failed", app("Failed"))
    assert await holds("on-sync-running", app("Running"))
    assert await holds("on-health-degraded", app(health="Degraded"))
    assert await holds("on-deployed", app("Succeeded"))
    assert not await holds("on-deployed", app("Succeeded", health="Progressing"))
    assert await holds("on-sync-status-unknown", app(sync={"status": "Unknown"}))
    (once,) = catalog.triggers["on-sync-succeeded"].conditions
    assert await evaluator.expr(once.once_per, {"app": app("Succeeded")}) == "abc123"
    assert await evaluator.expr(once.once_per, {"app": app()}) is None


async def test_time_and_strings_helpers_are_there(evaluator):
    env = {"app": {"at": "2026-01-01T00:00:00Z"}}
    assert await evaluator.expr("time.Parse(app.at).Add(2 * time.Hour).Hour()", env) == 2
    assert await evaluator.expr("time.Now().After(time.Parse(app.at))", env) is True
    assert await evaluator.expr("strings.ReplaceAll(strings.ToUpper('a-b'), '-', '_')", {}) == "A_B"


async def test_templates_escape_html_and_text_templates_honour_missingkey(evaluator):
    data = {"app": {"metadata": {"name": "<b>x</b>"}}}
    rendered = await evaluator.template("{{.app.metadata.name | upper}}", data)
    assert rendered == "&lt;B&gt;X&lt;/B&gt;"
    text = await evaluator.template("{{.app.metadata.name}}", data, mode="text")
    assert text == "<b>x</b>"
    with pytest.raises(EvaluationError, match="nope"):
        await evaluator.template("{{.nope}}", {}, mode="text", options=["missingkey=error"])


async def test_sprig_functions_that_reach_outside_are_removed(evaluator):
    for function in ("env", "expandenv", "getHostByName"):
        with pytest.raises(EvaluationError, match=f'function "{function}" not defined'):
            await evaluator.template(f'{{{{ {function} "HOME" }}}}', {})


async def test_a_bad_expression_is_an_error_and_the_worker_stays_usable(evaluator):
    with pytest.raises(EvaluationError, match="unexpected token"):
        await evaluator.expr("app.status ==", {})
    assert await evaluator.expr("1 + 1", {}) == 2


async def test_an_expression_that_allocates_without_bound_is_stopped_by_expr_s_budget(evaluator):
    with pytest.raises(EvaluationError, match="memory budget exceeded"):
        await evaluator.expr("len(map(1..900000000, # * 2))", {})


async def test_a_runaway_template_is_stopped_at_the_deadline_and_a_fresh_worker_follows(
    evaluator,
):
    endless = "{{range $i := until 20000}}{{range $j := until 20000}}{{end}}{{end}}"
    started = time.perf_counter()
    with pytest.raises(EvaluationError, match="did not finish within 1 s"):
        await evaluator.template(endless, {}, mode="text")
    assert time.perf_counter() - started < 5
    assert await evaluator.expr("'still ' + 'here'", {}) == "still here"


async def test_a_missing_evaluator_fails_each_request_without_looking_again_at_once():
    looked: list[int] = []

    def missing() -> str:
        looked.append(1)
        raise ToolBuildError("no Go here")

    ev = GoEvaluator(missing)
    for _ in range(3):
        with pytest.raises(EvaluationError, match="tether-goeval\\) is missing: no Go here"):
            await ev.expr("true", {})
    assert len(looked) == 1
    await ev.aclose()
