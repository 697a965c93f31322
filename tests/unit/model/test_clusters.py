import base64
import json
from typing import Any

import pytest

from tether.model import clusters
from tether.model.clusters import ClusterRegistry, ExecProvider
from tether.model.errors import InvalidInputError

TOKEN = "s3cret-bearer-token-value"
PEM = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nzzzz\n-----END EC PRIVATE KEY-----\n")


def _secret(name: str = "prod", **fields: Any) -> dict[str, Any]:
    fields.setdefault("server", "https://prod.example:6443")
    data = {
        key: base64.b64encode((v if isinstance(v, str) else json.dumps(v)).encode()).decode()
        for key, v in fields.items()
    }
    return {
        "metadata": {
            "name": name,
            "namespace": "tether",
            "labels": {"argocd.argoproj.io/secret-type": "cluster"},
        },
        "data": data,
    }


def test_a_cluster_secret_becomes_an_entry_with_its_limits_and_credentials() -> None:
    entry = clusters.from_secret(
        _secret(
            name="cluster-prod",
            server="https://prod.example:6443/",
            namespaces=" shop, billing ,shop",
            clusterResources="true",
            config={"bearerToken": TOKEN, "tlsClientConfig": {"caData": PEM, "insecure": False}},
        )
    )
    assert entry.server == "https://prod.example:6443"
    assert entry.name == "https://prod.example:6443"  # no name: the server names it
    assert entry.namespaces == ("shop", "billing")
    assert entry.cluster_resources
    assert entry.credentials is not None
    assert entry.credentials.bearer_token == TOKEN
    assert entry.credentials.ca_data == PEM
    assert entry.secret == "tether/cluster-prod"


def test_credentials_show_no_secret_value_in_their_repr() -> None:
    entry = clusters.from_secret(
        _secret(
            name="prod",
            config={
                "bearerToken": TOKEN,
                "username": "admin",
                "password": "pa55word-value",
                "tlsClientConfig": {"certData": PEM, "keyData": KEY.decode()},
            },
        )
    )
    shown = repr(entry)
    for value in (TOKEN, "pa55word-value", KEY.decode(), PEM):
        assert value not in shown
    assert "bearer_token=***" in shown
    assert entry.credentials is not None
    assert TOKEN in entry.credentials.secret_values()


REFUSALS = [
    # (config, field named)
    ({"execProviderConfig": {"command": "/bin/sh", "shell": 1}}, "config.execProviderConfig"),
    ({"execProviderConfig": {"args": ["x"]}}, "config.execProviderConfig.command"),
    (
        {"execProviderConfig": {"command": "/bin/sh", "apiVersion": "v0"}},
        "config.execProviderConfig.apiVersion",
    ),
    ({"awsAuthConfig": {"clusterName": "x"}}, "config.awsAuthConfig"),
    ({"proxyUrl": "http://proxy:3128"}, "config.proxyUrl"),
    ({"tlsClientConfig": {"serverName": "api.internal"}}, "config.tlsClientConfig.serverName"),
    ({"somethingNew": 1}, "config.somethingNew"),
    ({"tlsClientConfig": {"caData": "bm90IHBlbQ=="}}, "config.tlsClientConfig.caData"),
    ({"tlsClientConfig": {"keyData": KEY.decode()}}, "config.tlsClientConfig"),
    ({"bearerToken": 12}, "config.bearerToken"),
    ({"username": "admin"}, "config"),
    ({"disableCompression": True}, "config.disableCompression"),
]


@pytest.mark.parametrize(("config", "field"), REFUSALS)
def test_each_refusal_names_the_secret_and_the_field_and_shows_no_value(
    config: dict[str, Any], field: str
) -> None:
    config = {"bearerToken": TOKEN, **config}
    with pytest.raises(InvalidInputError) as raised:
        clusters.from_secret(_secret(name="prod", config=config))
    message = str(raised.value)
    assert message.startswith(f"cluster Secret tether/prod: {field}")
    assert TOKEN not in message
    for value in ("/bin/sh", "http://proxy:3128", "api.internal", KEY.decode()):
        assert value not in message


def test_a_credential_plugin_runs_only_when_an_administrator_lists_its_command() -> None:
    plugin = {"command": "/usr/local/bin/get-token", "args": ["--cluster", "edge"]}
    plugin["env"] = [{"name": "REGION", "value": "eu"}]  # type: ignore[list-item]
    secret = _secret(name="edge", config={"execProviderConfig": plugin})
    entry = clusters.from_secret(secret)
    assert entry.credentials is not None and entry.credentials.exec_provider == ExecProvider(
        "/usr/local/bin/get-token", ("--cluster", "edge"), (("REGION", "eu"),)
    )
    refused = ClusterRegistry.from_secrets([secret])
    assert [e.name for e in refused.entries] == ["in-cluster"]
    [problem] = refused.problems
    assert "tether/edge: config.execProviderConfig.command '/usr/local/bin/get-token'" in problem
    assert "--allow-cluster-exec" in problem
    allowed = ClusterRegistry.from_secrets([secret], exec_commands=["/usr/local/bin/get-token"])
    assert [e.server for e in allowed.entries][1:] == [entry.server]
    assert allowed.problems == ()


def test_a_secret_without_a_server_or_with_a_config_that_is_not_json_is_refused() -> None:
    no_server = _secret(name="bad")
    no_server["data"].pop("server")
    with pytest.raises(InvalidInputError, match="tether/bad: server is missing"):
        clusters.from_secret(no_server)
    with pytest.raises(InvalidInputError, match="tether/bad: config is not JSON"):
        clusters.from_secret(_secret(name="bad", config="{" + TOKEN))


def test_a_malformed_secret_is_skipped_and_named_while_the_others_keep_working() -> None:
    good = _secret(name="good", config={"bearerToken": TOKEN})
    bad = _secret(name="bad", server="https://bad:6443", config={"execProviderConfig": {}})
    bad["data"]["config"] = base64.b64encode(b'{"execProviderConfig": {"command": "x"}}').decode()
    unlabelled = {**good, "metadata": {"name": "plain", "namespace": "tether"}}
    registry = ClusterRegistry.from_secrets([good, bad, unlabelled])
    assert [e.server for e in registry.entries] == [
        clusters.IN_CLUSTER_SERVER,
        "https://prod.example:6443",
    ]
    [problem] = registry.problems
    assert problem.startswith("cluster Secret tether/bad: config.execProviderConfig.command")
    assert registry.secret_values() == {TOKEN}


def test_the_in_cluster_entry_always_exists_and_a_secret_may_rename_it() -> None:
    assert ClusterRegistry.from_secrets([]).in_cluster == clusters.IN_CLUSTER
    renamed = ClusterRegistry.from_secrets(
        [_secret(name="local", server=clusters.IN_CLUSTER_SERVER)]
    )
    assert renamed.in_cluster.server == clusters.IN_CLUSTER_SERVER
    local = _secret(name="local", server=clusters.IN_CLUSTER_SERVER)
    local["data"]["name"] = base64.b64encode(b"home").decode()
    registry = ClusterRegistry.from_secrets([local])
    assert registry.in_cluster.name == "home"
    assert registry.in_cluster.credentials is None  # always the controller's own client
    assert registry.by_name("in-cluster") == []


def test_a_cluster_secrets_shard_field_is_kept_for_sharded_controllers() -> None:
    pinned = clusters.from_secret(_secret(shard=" 2 ", config={"bearerToken": TOKEN}))
    assert pinned.shard == "2"
    assert clusters.from_secret(_secret(config={"bearerToken": TOKEN})).shard == ""
