import pytest

from tether.core.app import destinations
from tether.model.app_spec import ApplicationDestination
from tether.model.clusters import IN_CLUSTER, ClusterEntry, ClusterRegistry
from tether.model.errors import InvalidInputError

PROD = ClusterEntry(name="prod", server="https://prod.example:6443")
EU = ClusterEntry(name="eu", server="https://eu-1.example:6443")
EU_TWIN = ClusterEntry(name="eu", server="https://eu-2.example:6443")
REGISTRY = ClusterRegistry((IN_CLUSTER, PROD, EU, EU_TWIN))


def _resolve(**fields: str) -> ClusterEntry:
    return destinations.resolve(ApplicationDestination(namespace="web", **fields), REGISTRY)


def test_a_destination_names_its_cluster_by_server_or_by_name() -> None:
    assert _resolve(server="https://prod.example:6443") == PROD
    assert _resolve(server="https://prod.example:6443/") == PROD
    assert _resolve(name="prod") == PROD
    assert _resolve(name="in-cluster") == IN_CLUSTER
    assert _resolve(server="https://kubernetes.default.svc") == IN_CLUSTER


def test_a_destination_naming_no_cluster_is_the_cluster_tether_runs_in() -> None:
    assert _resolve() == IN_CLUSTER


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "prod", "server": "https://prod.example:6443"},
            "spec.destination sets both name 'prod' and server 'https://prod.example:6443'",
        ),
        ({"name": "staging"}, "spec.destination.name 'staging' is no known cluster"),
        (
            {"server": "https://gone.example"},
            "spec.destination.server 'https://gone.example' is no known cluster",
        ),
        (
            {"name": "eu"},
            "spec.destination.name 'eu' names 2 clusters "
            "('https://eu-1.example:6443', 'https://eu-2.example:6443')",
        ),
    ],
)
def test_a_destination_that_names_no_single_cluster_is_refused_naming_it(
    fields: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        _resolve(**fields)
    assert str(raised.value).startswith(message)
