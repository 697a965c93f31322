"""Which replica owns which Application: membership views, pins and rendezvous hashing."""

from __future__ import annotations

import collections
import datetime

from tether.core.cluster import leasing, sharding as S

T0 = datetime.datetime(2026, 12, 7, 9, 0, 0, tzinfo=datetime.UTC)
GRACE = datetime.timedelta(seconds=15)
APPS = [S.app_id("apps", f"app-{i}") for i in range(3000)]


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def lease(holder: str, acquired: float = -20, renewed: float = 0) -> leasing.LeaseState:
    return leasing.LeaseState(holder, 15, at(acquired), at(renewed), 0)


def owners(members: frozenset[str]) -> dict[str, str | None]:
    return {app: S.owner(app, members) for app in APPS}


def test_apps_spread_evenly_over_the_replicas():
    counts = collections.Counter(owners(frozenset({"c-0", "c-1", "c-2"})).values())
    assert set(counts) == {"c-0", "c-1", "c-2"}
    for count in counts.values():
        assert abs(count - len(APPS) / 3) < len(APPS) * 0.05


def test_a_replica_leaving_moves_only_its_own_apps():
    before = owners(frozenset({"c-0", "c-1", "c-2"}))
    after = owners(frozenset({"c-0", "c-1"}))
    moved = [app for app in APPS if before[app] != after[app]]
    assert moved and all(before[app] == "c-2" for app in moved)


def test_a_replica_joining_takes_only_apps_it_wins():
    before = owners(frozenset({"c-0", "c-1"}))
    after = owners(frozenset({"c-0", "c-1", "c-2"}))
    moved = [app for app in APPS if before[app] != after[app]]
    assert moved and all(after[app] == "c-2" for app in moved)
    assert abs(len(moved) - len(APPS) / 3) < len(APPS) * 0.05


def test_every_replica_computes_the_same_owner():
    assert owners(frozenset({"c-2", "c-0", "c-1"})) == owners(frozenset({"c-0", "c-1", "c-2"}))
    assert S.score("apps/a", "c-0") == S.score("apps/a", "c-0")


def test_no_members_means_no_owner():
    assert S.owner("apps/a", frozenset()) is None


def test_a_number_pin_names_the_replica_with_that_ordinal():
    members = frozenset({"tether-0", "tether-1", "tether-2"})
    assert {S.owner(app, members, pin="1") for app in APPS[:50]} == {"tether-1"}
    assert S.owner("apps/a", members, pin="01") == "tether-1"


def test_a_name_pin_names_that_replica():
    assert S.owner("apps/a", frozenset({"east", "west"}), pin="west") == "west"


def test_a_pin_to_an_absent_replica_falls_back_to_hashing():
    members = frozenset({"tether-0", "tether-1"})
    assert S.owner("apps/a", members, pin="7") == S.owner("apps/a", members)
    assert S.pinned_member("7", members) is None


def test_a_newcomer_is_seen_at_once_but_takes_apps_only_after_the_grace():
    leases = {"a": lease("a-pid"), "b": lease("b-pid", acquired=10, renewed=10)}
    early = S.view(leases, "b", "b-pid", at(12), GRACE)
    assert early.seen == {"a", "b"} and early.settled == {"a"} and not early.active
    late = S.view({**leases, "a": lease("a-pid", renewed=24)}, "b", "b-pid", at(25), GRACE)
    assert late.settled == {"a", "b"} and late.active


def test_an_expired_or_released_lease_does_not_count():
    leases = {"a": lease("a-pid", renewed=0), "b": lease("", renewed=20)}
    assert S.view(leases, "c", "c-pid", at(16), GRACE).seen == frozenset()


def test_my_lease_held_by_a_predecessor_does_not_make_me_active():
    leases = {"a": lease("a-old-pid", renewed=20)}
    current = S.view(leases, "a", "a-new-pid", at(21), GRACE)
    assert "a" in current.seen and not current.active


def test_an_old_owner_gives_up_before_the_newcomer_takes():
    members = {"a": lease("a1", renewed=30), "b": lease("b1", renewed=30)}
    joined = {**members, "c": lease("c1", acquired=30, renewed=30)}
    moved = [
        app
        for app in APPS
        if S.owner(app, frozenset({"a", "b"})) != S.owner(app, frozenset({"a", "b", "c"}))
    ]
    app = moved[0]
    previous = S.owner(app, frozenset({"a", "b"}))
    assert previous is not None
    # As soon as the old owner sees the newcomer's Lease, it lets the app go...
    assert not S.owns(app, S.view(joined, previous, f"{previous}1", at(31), GRACE))
    # ...and the newcomer takes it only once the grace has passed.
    assert not S.owns(app, S.view(joined, "c", "c1", at(31), GRACE))
    renewed = {name: dataclass_renewed(state, 44) for name, state in joined.items()}
    assert S.owns(app, S.view(renewed, "c", "c1", at(45), GRACE))


def dataclass_renewed(state: leasing.LeaseState, seconds: float) -> leasing.LeaseState:
    return leasing.LeaseState(state.holder, state.duration_s, state.acquired, at(seconds), 0)


def test_two_settled_replicas_that_see_each_other_never_own_the_same_app():
    leases = {"a": lease("a1", renewed=40), "b": lease("b1", renewed=40), "c": lease("c1")}
    for app in APPS[:500]:
        for pin in ("", "a", "c", "9"):
            claims = [
                me
                for me in ("a", "b")
                if S.owns(app, S.view(leases, me, f"{me}1", at(41), GRACE), pin)
            ]
            assert len(claims) <= 1


def test_the_view_changes_next_at_the_earliest_expiry_or_grace_end():
    leases = {"a": lease("a1", renewed=5), "b": lease("b1", acquired=3, renewed=3)}
    assert S.next_change(leases, at(4), GRACE) == at(18)
    assert S.next_change({"a": lease("a1", acquired=0, renewed=5)}, at(4), GRACE) == at(15)
    assert S.next_change({"a": lease("", renewed=5)}, at(6), GRACE) is None


def test_a_replica_whose_lease_lapsed_waits_the_grace_again_before_taking_apps():
    # b stalled: its Lease expired at 15 and a took its apps; b renews at 20, acquiring anew.
    lapsed = lease("b1", acquired=-100, renewed=0)
    back = leasing.next_state(lapsed, leasing.Verdict.RENEW, "b1", 15, at(20))
    leases = {"a": lease("a1", renewed=20), "b": back}
    assert not S.view(leases, "b", "b1", at(21), GRACE).active
    assert S.view(leases, "a", "a1", at(21), GRACE).seen == {"a", "b"}  # a gives b's apps up
