"""The bounds on webhooks: a token bucket per server and the payload size from argocd-cm."""

from __future__ import annotations

import pytest

from tether.services import webhooks


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_admits_a_burst_then_refuses_until_tokens_come_back():
    clock = Clock()
    bucket = webhooks.TokenBucket(rate=4.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.25  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]


def test_the_bucket_never_holds_more_than_its_burst():
    clock = Clock()
    bucket = webhooks.TokenBucket(rate=100.0, burst=2, clock=clock)
    clock.now += 3600
    assert [bucket.take() for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(
    ("data", "mib"),
    [
        (None, 50),
        ({}, 50),
        ({"webhook.maxPayloadSizeMB": "10"}, 10),
        ({"webhook.maxPayloadSizeMB": " 2 "}, 2),
        ({"webhook.maxPayloadSizeMB": "0"}, 50),
        ({"webhook.maxPayloadSizeMB": "-1"}, 50),
        ({"webhook.maxPayloadSizeMB": "1.5"}, 50),
        ({"webhook.maxPayloadSizeMB": "lots"}, 50),
    ],
)
def test_the_payload_limit_comes_from_argocd_cm_and_is_never_unbounded(data, mib):
    config = None if data is None else {"data": data}
    assert webhooks.max_payload_bytes(config) == mib << 20
