from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, strategies as st

from tether.core.sources import repocreds
from tether.model.errors import InvalidInputError

PASSWORD = "s3cr3t-canary-pass"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ncanary-key\n-----END OPENSSH PRIVATE KEY-----"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secret(name: str, kind: str, *, data=None, string_data=None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "labels": {repocreds.SECRET_TYPE_LABEL: kind},
        },
    }
    if data is not None:
        obj["data"] = {k: b64(v) for k, v in data.items()}
    if string_data is not None:
        obj["stringData"] = string_data
    return obj


def test_a_repository_secret_decodes_base64_data_into_credentials():
    kind, creds = repocreds.from_secret(  # type: ignore[misc]
        secret(
            "repo-1",
            "repository",
            data={
                "url": "https://git.example/org/app.git",
                "username": "deploy",
                "password": PASSWORD,
                "insecure": "true",
                "project": "team-a",
                "name": "app",
            },
        )
    )
    assert kind == "repository"
    assert creds.url == "https://git.example/org/app.git"
    assert (creds.username, creds.password, creds.insecure) == ("deploy", PASSWORD, True)
    assert (creds.project, creds.name, creds.type, creds.source) == (
        "team-a",
        "app",
        "git",
        "argocd/repo-1",
    )


def test_string_data_wins_over_data_field_by_field():
    _, creds = repocreds.from_secret(  # type: ignore[misc]
        secret(
            "repo-1",
            "repository",
            data={"url": "https://old.example/x", "username": "kept"},
            string_data={"url": "https://new.example/x", "sshPrivateKey": KEY},
        )
    )
    assert creds.url == "https://new.example/x"
    assert creds.username == "kept"
    assert creds.ssh_private_key == KEY


def test_secrets_without_the_label_are_ignored():
    plain = secret("other", "repository")
    plain["metadata"]["labels"] = {}
    assert repocreds.from_secret(plain) is None
    assert repocreds.from_secret(secret("cluster", "cluster")) is None


def test_bad_base64_names_the_secret_and_field_but_not_the_value():
    bad = secret("repo-1", "repository", string_data={"url": "https://x.example/r"})
    bad["data"] = {"password": "!!!" + PASSWORD}
    with pytest.raises(InvalidInputError) as caught:
        repocreds.from_secret(bad)
    assert "argocd/repo-1" in str(caught.value)
    assert "data.password" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_a_labelled_secret_without_url_is_refused():
    with pytest.raises(InvalidInputError, match="argocd/empty has no url"):
        repocreds.from_secret(secret("empty", "repository", string_data={"password": PASSWORD}))


def test_repr_and_str_never_show_secret_values():
    creds = repocreds.RepoCredentials(
        url="https://user:" + PASSWORD + "@git.example/r",
        username="user",
        password=PASSWORD,
        bearer_token=PASSWORD + "-bearer",
        ssh_private_key=KEY,
    )
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert PASSWORD not in text
        assert "canary-key" not in text
        assert "<set>" in text


def store(*secrets: dict[str, Any]) -> repocreds.CredentialStore:
    return repocreds.CredentialStore.from_secrets(secrets)


def test_the_longest_template_prefix_wins():
    s = store(
        secret(
            "org", "repo-creds", string_data={"url": "https://git.example/org", "password": "o"}
        ),
        secret(
            "team",
            "repo-creds",
            string_data={"url": "https://git.example/org/team", "password": "t"},
        ),
        secret("all", "repo-creds", string_data={"url": "https://git.example", "password": "a"}),
    )
    got = s.lookup("https://git.example/org/team/app.git")
    assert got is not None
    assert got.password == "t"
    assert got.url == "https://git.example/org/team/app.git"
    other = s.lookup("https://git.example/elsewhere/app")
    assert other is not None
    assert other.password == "a"
    assert s.lookup("https://other.example/org/app") is None


def test_an_exact_repository_beats_any_template():
    s = store(
        secret("tmpl", "repo-creds", string_data={"url": "https://git.example/", "password": "t"}),
        secret(
            "repo", "repository", string_data={"url": "https://git.example/a.git", "password": "r"}
        ),
    )
    assert s.lookup("https://GIT.example/a/").password == "r"  # type: ignore[union-attr]


def test_a_repository_without_secrets_inherits_them_from_its_template():
    s = store(
        secret(
            "tmpl",
            "repo-creds",
            string_data={"url": "git@git.example:", "sshPrivateKey": KEY},
        ),
        secret("repo", "repository", string_data={"url": "git@git.example:org/a.git", "name": "a"}),
    )
    got = s.lookup("git@git.example:org/a.git")
    assert got is not None
    assert (got.name, got.ssh_private_key) == ("a", KEY)


def test_helm_credentials_are_never_used_for_git():
    s = store(
        secret(
            "helm",
            "repository",
            string_data={"url": "https://charts.example/", "type": "helm", "password": "h"},
        )
    )
    assert s.lookup("https://charts.example/") is None
    assert s.lookup("https://charts.example/", "helm") is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Git.Example/Org/Repo.git/", "https://git.example/org/repo"),
        ("git@git.example:org/repo.git", "ssh://git@git.example/org/repo"),
        ("ssh://git@git.example/org/repo", "ssh://git@git.example/org/repo"),
    ],
)
def test_urls_normalise_like_argo_cd(url, expected):
    assert repocreds.normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{PASSWORD}@git.example/r.git",
        f"https://{PASSWORD}@git.example/r.git",
        f"http://user:{PASSWORD}@127.0.0.1:8080/r.git",
    ],
)
def test_redacted_urls_carry_no_userinfo(url):
    redacted = repocreds.redact_url(url)
    assert PASSWORD not in redacted
    assert "@" not in redacted
    assert redacted.endswith("/r.git")


def test_split_userinfo_returns_the_decoded_user_and_password():
    assert repocreds.split_userinfo("https://me:p%40ss@h.example/r") == (
        "https://h.example/r",
        "me",
        "p@ss",
    )
    assert repocreds.split_userinfo("git@h.example:r") == ("git@h.example:r", "", "")


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126)))
def test_no_secret_value_ever_shows_in_repr(suffix):
    secret_value = "Zq9-secret-" + suffix
    creds = repocreds.RepoCredentials(
        url="https://git.example/r",
        username="deployer",
        password=secret_value,
        bearer_token=secret_value,
        ssh_private_key=secret_value,
    )
    assert "Zq9-secret-" not in repr(creds)
    assert "Zq9-secret-" not in str(creds)


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com.evil.net/org/app",  # a longer host that starts the same
        "https://git.example.com/organisation/app",  # a longer first segment
        "http://git.example.com/org/app",  # another scheme
        "https://git.example.com:8443/org/app",  # another port
    ],
)
def test_a_template_serves_only_its_host_and_whole_path_segments(url):
    s = store(
        secret(
            "org", "repo-creds", string_data={"url": "https://git.example.com/org", "password": "o"}
        )
    )
    assert s.lookup("https://git.example.com/org/app.git") is not None
    assert s.lookup(url) is None


def test_project_scoped_credentials_serve_only_their_project_and_win_there():
    s = store(
        secret(
            "global", "repo-creds", string_data={"url": "https://git.example/", "password": "g"}
        ),
        secret(
            "team",
            "repo-creds",
            string_data={"url": "https://git.example/", "password": "t", "project": "team-a"},
        ),
        secret(
            "private",
            "repository",
            string_data={
                "url": "https://git.example/secret.git",
                "password": "p",
                "project": "team-a",
            },
        ),
    )
    assert s.lookup("https://git.example/app", "git", "team-a").password == "t"  # type: ignore[union-attr]
    assert s.lookup("https://git.example/app", "git", "team-b").password == "g"  # type: ignore[union-attr]
    assert s.lookup("https://git.example/secret.git", "git", "team-a").password == "p"  # type: ignore[union-attr]
    other = s.lookup("https://git.example/secret.git", "git", "team-b")
    assert other is not None and other.password == "g", "team-a's repository Secret is not team-b's"


def test_every_secret_value_is_known_for_scrubbing():
    s = store(
        secret("a", "repo-creds", string_data={"url": "https://h/", "password": "pw1"}),
        secret("b", "repository", string_data={"url": "https://h/x", "bearerToken": "tok2"}),
    )
    assert s.secret_values() == {"pw1", "tok2"}


def test_an_apps_subset_answers_its_urls_as_the_whole_store_does_and_holds_nothing_else():
    s = store(
        secret(
            "global", "repo-creds", string_data={"url": "https://git.example/", "password": "g"}
        ),
        secret(
            "team",
            "repo-creds",
            string_data={"url": "https://git.example/", "password": "t", "project": "team-a"},
        ),
        secret(
            "app",
            "repository",
            string_data={"url": "https://git.example/org/app.git", "password": "app-pw"},
        ),
        secret(
            "other",
            "repository",
            string_data={"url": "https://git.example/org/other.git", "password": "other-pw"},
        ),
        secret("helm", "repository", string_data={"url": "https://charts.example", "type": "helm"}),
    )
    urls = ["https://git.example/org/app.git", "https://git.example/org/lib"]
    subset = s.subset_for(urls, "git", "team-a")
    for url in urls:
        assert subset.lookup(url, "git", "team-a") == s.lookup(url, "git", "team-a")
    assert subset.secret_values() == {"app-pw", "t"}
    assert subset.lookup("https://git.example/org/other.git", "git", "team-a") != s.lookup(
        "https://git.example/org/other.git", "git", "team-a"
    )


def test_a_subset_counts_a_url_with_and_without_its_userinfo():
    s = store(
        secret(
            "app",
            "repository",
            string_data={"url": "https://git.example/org/app.git", "password": "app-pw"},
        )
    )
    subset = s.subset_for(["https://someone@git.example/org/app.git"])
    assert subset.secret_values() == {"app-pw"}


def test_a_subset_of_another_projects_app_holds_no_project_scoped_entry():
    s = store(
        secret(
            "team",
            "repo-creds",
            string_data={"url": "https://git.example/", "password": "t", "project": "team-a"},
        ),
    )
    assert s.subset_for(["https://git.example/org/app"], "git", "team-b").secret_values() == set()


# -- Helm OCI registries ---------------------------------------------------------------------


def helm_secret(name: str, url: str, kind: str = "repository", **extra: str) -> dict[str, Any]:
    return secret(
        name,
        kind,
        string_data={"type": "helm", "url": url, "username": "u", "password": PASSWORD, **extra},
    )


@pytest.mark.parametrize(
    "secret_url", ["registry.example:5000/charts", "oci://registry.example:5000/charts"]
)
@pytest.mark.parametrize(
    "app_url", ["registry.example:5000/charts", "oci://registry.example:5000/charts/"]
)
def test_an_oci_registry_matches_with_or_without_oci_scheme(secret_url, app_url):
    found = store(helm_secret("oci", secret_url, enableOCI="true")).lookup(app_url, "helm")
    assert found is not None and found.enable_oci and found.password == PASSWORD


def test_an_oci_template_serves_the_registrys_paths_below_it():
    creds = store(
        helm_secret("all", "registry.example:5000", "repo-creds", insecureOCIForceHttp="true")
    )
    found = creds.lookup("oci://registry.example:5000/team/charts", "helm")
    assert found is not None and found.insecure_oci_force_http
    assert creds.lookup("oci://registry.example:5001/team/charts", "helm") is None
    assert creds.lookup("oci://registry.example.evil/team/charts", "helm") is None


@pytest.mark.parametrize("flag", ["enableOCI", "insecureOCIForceHttp"])
@pytest.mark.parametrize(
    "url, repo_type",
    [("https://charts.example/stable", "helm"), ("registry.example/charts", "git")],
)
def test_oci_flags_are_refused_where_no_registry_can_be(url, repo_type, flag):
    bad = secret("x", "repository", string_data={"type": repo_type, "url": url, flag: "true"})
    with pytest.raises(InvalidInputError, match=f"repository Secret argocd/x: {flag} needs type"):
        repocreds.from_secret(bad)


@pytest.mark.parametrize("field", ["bearerToken", "sshPrivateKey"])
def test_git_only_secrets_on_a_helm_repository_are_refused_by_name(field):
    data = {"type": "helm", "url": "oci://r/c", field: PASSWORD}
    with pytest.raises(InvalidInputError, match=f"argocd/x: {field} is for Git") as raised:
        repocreds.from_secret(secret("x", "repository", string_data=data))
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize("field", sorted(repocreds.NOT_HONOURED))
@pytest.mark.parametrize("repo_type", ["git", "helm"])
def test_a_repository_field_tether_cannot_honour_is_refused_by_name_without_its_value(
    field, repo_type
):
    data = {"type": repo_type, "url": "https://h/r", field: PASSWORD}
    with pytest.raises(InvalidInputError, match=f"argocd/x: {field} is not honoured") as raised:
        repocreds.from_secret(secret("x", "repository", string_data=data))
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_a_field_tether_cannot_honour_set_to_false_or_empty_is_harmless(value):
    data = {"url": "https://h/r", "forceHttpBasicAuth": value, "proxy": value}
    assert repocreds.from_secret(secret("x", "repository", string_data=data)) is not None


def test_the_oci_reference_of_helm_urls():
    assert repocreds.oci_reference("oci://r.example/charts/") == "r.example/charts"
    assert repocreds.oci_reference("r.example:5000/charts") == "r.example:5000/charts"
    assert repocreds.oci_reference("https://r.example/charts") is None
    assert repocreds.oci_reference("r.example/charts", "git") is None


def test_the_helm_entries_visible_to_a_project_are_its_own_and_the_global_ones():
    secrets_ = [
        helm_secret("global", "https://charts.example"),
        helm_secret("mine", "https://charts.example/a", project="a"),
        helm_secret("theirs", "https://charts.example/b", project="b"),
        helm_secret("tpl-theirs", "https://charts.example", "repo-creds", project="b"),
        secret("git", "repository", string_data={"url": "https://git.example/r", "password": "p"}),
    ]
    visible = store(*secrets_).visible_to("helm", "a")
    assert [c.source for c in visible.repositories] == ["argocd/global", "argocd/mine"]
    assert visible.templates == ()
