import datetime

import pytest

from tether.model import operation
from tether.model.app_spec import RetryStrategy
from tether.model.errors import InvalidInputError
from tether.model.operation import ResourceResult
from tether.model.resources import ResourceKey


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5),
        ("3m", 180),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("10", 10),
        ("0", 0),
        ("-2s", -2),
    ],
)
def test_backoff_durations_parse_as_argo_cd_does(text: str, seconds: float) -> None:
    assert operation.parse_duration(text) == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["abc", "5 s", "5d", "s", "1h-2m"])
def test_a_bad_duration_is_refused_with_the_text(text: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid duration"):
        operation.parse_duration(text)


def _retry(**backoff: object) -> RetryStrategy:
    return RetryStrategy.model_validate({"limit": 5, "backoff": backoff})


@pytest.mark.parametrize(
    ("retry", "count", "seconds"),
    [
        (None, 0, 5),
        (None, 1, 10),
        (None, 3, 40),
        (None, 10, 180),  # capped at the default 3m
        (_retry(duration="10", factor=3), 2, 90),
        (_retry(duration="1m", maxDuration="90s"), 1, 90),
        (_retry(duration="1s", factor=10, maxDuration="0"), 4, 10_000),  # zero: no cap
    ],
)
def test_the_retry_wait_grows_by_the_factor_and_is_capped(
    retry: RetryStrategy | None, count: int, seconds: float
) -> None:
    assert operation.retry_wait(retry, count) == datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("limit", "count", "allowed"),
    [(None, 0, False), (0, 0, False), (2, 1, True), (2, 2, False), (-1, 1000, True)],
)
def test_retries_stop_at_the_limit_unless_it_is_negative(
    limit: int | None, count: int, allowed: bool
) -> None:
    assert operation.may_retry(RetryStrategy(limit=limit), count) is allowed


def test_no_retry_strategy_means_no_retry() -> None:
    assert operation.may_retry(None, 0) is False


def test_a_result_is_keyed_by_resource_and_phase() -> None:
    result = ResourceResult(
        group="apps", kind="Deployment", namespace="a", name="b", sync_phase="Sync"
    )
    assert result.result_key == "apps/Deployment/a/b:Sync"
    assert ResourceResult(kind="Namespace", name="a").result_key == "/Namespace//a:"


def test_a_partial_sync_names_its_resources() -> None:
    sync = operation.SyncOperation.model_validate({"resources": [{"kind": "Service", "name": "x"}]})
    assert sync.is_partial
    assert not operation.SyncOperation().is_partial


@pytest.mark.parametrize(
    ("selection", "key", "selected"),
    [
        ({"group": "apps", "kind": "Deployment", "name": "web"},
         ("apps", "Deployment", "a", "web"), True),
        ({"group": "apps", "kind": "Deployment", "name": "web", "namespace": "b"},
         ("apps", "Deployment", "a", "web"), False),
        ({"kind": "ConfigMap", "name": "web"}, ("", "ConfigMap", "a", "web"), True),
        ({"kind": "ConfigMap", "name": "web"}, ("", "ConfigMap", "a", "api"), False),
        ({"kind": "Deployment", "name": "web"}, ("apps", "Deployment", "a", "web"), False),
    ],
)  # fmt: skip
def test_a_partial_sync_selects_resources_by_identity(
    selection: dict[str, str], key: tuple[str, str, str, str], selected: bool
) -> None:
    resource = operation.SyncOperationResource.model_validate(selection)
    assert resource.selects(ResourceKey(*key)) is selected


def test_results_and_statuses_give_resource_keys() -> None:
    result = ResourceResult(group="", kind="Service", namespace="a", name="b")
    assert result.key == ResourceKey("", "Service", "a", "b")
