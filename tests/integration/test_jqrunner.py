"""The jq runner: results, errors, and a deadline that kills and replaces a stuck worker."""

from __future__ import annotations

import time

import pytest

from tether.adapters.jqrunner import JqRunner
from tether.core.diff import ignore

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(scope="module")
def runner():
    with JqRunner(deadline_s=1.0) as jq:
        yield jq


def test_a_deletion_expression_returns_the_object_without_the_field(runner):
    assert runner("del(.a.b)", {"a": {"b": 1, "c": 2}}) == {"a": {"c": 2}}


def test_a_failing_expression_raises_an_evaluation_error_naming_it(runner):
    with pytest.raises(ignore.JqEvaluationError, match=r"del\(\.a\[\]\)"):
        runner("del(.a[])", {"a": 1})


def test_an_expression_with_several_results_is_refused(runner):
    with pytest.raises(ignore.JqEvaluationError, match="exactly 1"):
        runner(".[]", [1, 2])


def test_an_endless_expression_times_out_and_the_next_call_gets_a_fresh_worker(runner):
    started = time.perf_counter()
    with pytest.raises(ignore.JqTimeoutError, match="def f: f; f"):
        runner("def f: f; f", {})
    assert time.perf_counter() - started < 5
    assert runner("del(.x)", {"x": 1, "y": 2}) == {"y": 2}


def test_a_huge_generator_times_out_too(runner):
    with pytest.raises(ignore.JqTimeoutError):
        runner("[range(1e9)]", {})
    assert runner(".", {"ok": True}) == {"ok": True}


def test_the_runner_plugs_into_ignore_rules_as_the_jq_evaluator(runner):
    rule = ignore.IgnoreRule(
        group="apps", kind="Deployment", jq_path_expressions=(".spec.replicas",)
    )
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "paused": False},
    }
    from tether.model.resources import ResourceKey

    ignores = ignore.prepare([rule], ResourceKey.of(obj), obj)
    assert ignore.strip(obj, ignores, runner)["spec"] == {"paused": False}


DEPLOYMENT = {
    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now", "keep": "1"}},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "initContainers": [{"name": "istio-init"}, {"name": "migrate"}],
                "containers": [{"name": "web", "env": [{"name": "X"}, {"name": "Y"}]}],
            }
        },
    },
    "webhooks": [{"clientConfig": {"caBundle": "abc", "url": "u"}}, {"name": "no-config"}],
    "data": {"key": "v", "other": "w"},
}


@pytest.mark.parametrize(
    ("expression", "check"),
    [
        (".spec.replicas", lambda o: "replicas" not in o["spec"]),
        (
            '.spec.template.spec.initContainers[] | select(.name == "istio-init")',
            lambda o: o["spec"]["template"]["spec"]["initContainers"] == [{"name": "migrate"}],
        ),
        (
            '.metadata.annotations."kubectl.kubernetes.io/restartedAt"',
            lambda o: o["metadata"]["annotations"] == {"keep": "1"},
        ),
        (
            ".webhooks[]?.clientConfig.caBundle",
            lambda o: o["webhooks"][0]["clientConfig"] == {"url": "u"},
        ),
        ('.data["key"]', lambda o: o["data"] == {"other": "w"}),
        (
            '.spec.template.spec.containers[].env[]? | select(.name == "X")',
            lambda o: o["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "Y"}],
        ),
        (".spec.absent.deeper", lambda o: o == DEPLOYMENT),
    ],
)
def test_expressions_argo_users_write_work_under_jq_1_8(runner, expression, check):
    assert check(runner(f"del({expression})", DEPLOYMENT))


def test_a_dead_worker_is_replaced_on_the_next_call(runner):
    runner(".", {})
    runner._process.kill()
    runner._process.join()
    assert runner(".", {"a": 1}) == {"a": 1}


def test_the_forkserver_start_method_works_too():
    with JqRunner(start_method="forkserver") as jq:
        assert jq("del(.a)", {"a": 1, "b": 2}) == {"b": 2}
    with JqRunner() as jq:
        jq.close()
        assert jq(".", 1) == 1
