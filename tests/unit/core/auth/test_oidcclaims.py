import datetime

import pytest

from tether.core.auth import oidcclaims


@pytest.mark.parametrize(
    ("aud", "skip", "allowed"),
    [
        ("tether", False, True),
        (["other", "tether-cli"], False, True),
        ("other", False, False),
        (["other"], False, False),
        ([], False, False),
        (None, False, False),
        (None, True, True),
        ("other", True, False),
        ([1, "tether"], False, False),
    ],
)
def test_the_audience_must_be_an_allowed_one(aud, skip, allowed):
    claims = {} if aud is None else {"aud": aud}
    result = oidcclaims.audience_allowed(claims, ("tether", "tether-cli"), skip_when_absent=skip)
    assert result is allowed


def test_the_caller_is_the_federated_user_id_with_the_groups_of_the_scopes():
    claims = {
        "iss": "https://dex.example.test/dex",
        "sub": "CiQwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDESBWxvY2Fs",
        "federated_claims": {"connector_id": "local", "user_id": "user-1"},
        "groups": ["tether-admins", "devs", "tether-admins"],
        "teams": "ops",
        "iat": 1_700_000_000,
        "exp": 1_700_086_400,
        "jti": "j-1",
    }
    caller = oidcclaims.caller_from_claims(claims, ["groups", "teams"])
    assert caller.subject == "user-1"
    assert caller.kind == "sso"
    assert caller.groups == ("tether-admins", "devs", "ops")
    assert caller.issuer == "https://dex.example.test/dex"
    assert caller.token_id == "j-1"
    assert caller.issued_at == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC)
    assert caller.expires_at is not None


def test_without_federated_claims_the_subject_is_sub_and_groups_default_to_the_groups_claim():
    caller = oidcclaims.caller_from_claims({"sub": "alice", "groups": ["g"], "at_hash": "h"})
    assert (caller.subject, caller.groups, caller.token_id) == ("alice", ("g",), "h")


def test_claims_naming_nobody_prove_nobody():
    with pytest.raises(ValueError, match="no subject"):
        oidcclaims.caller_from_claims({"groups": ["admin"]})
