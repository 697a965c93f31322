"""The field table: every Argo CD field has a row, every row a field, every proof a test."""

from __future__ import annotations

import copy
import pathlib
import re
from typing import Any

import pytest

from tests.unit.model.examples import load, minimal_application
from tether.core.app import compatibility, compatibility_doc, crds, policy
from tether.core.app.compatibility_rows import ARGO_CD_COMMIT
from tether.core.app.compatibility_syncoptions import SYNC_OPTIONS
from tether.core.sync import options
from tether.model.application import parse_application
from tether.model.clusters import IN_CLUSTER
from tether.model.project import parse_project

ROOT = pathlib.Path(__file__).resolve().parents[4]
ARGO_CD_FIELDS = pathlib.Path(__file__).parent / "data" / "argocd-fields.txt"
APP, PROJECT = "Application", "AppProject"


def _split(fields: list[str]) -> list[tuple[str, str]]:
    """``("Application", "spec.project")`` from ``"Application spec.project"``."""
    pairs = []
    for field in fields:
        kind, path = field.split(" ", 1)
        pairs.append((kind, path))
    return pairs


def _argo_cd_fields() -> list[tuple[str, str]]:
    lines = ARGO_CD_FIELDS.read_text(encoding="utf-8").splitlines()
    return _split([line for line in lines if not line.startswith("#")])


def _tether_fields() -> list[tuple[str, str]]:
    # The table covers Application and AppProject; docs/applicationsets.md covers ApplicationSets.
    crd_list = [
        crd
        for crd in crds.manifests().values()
        if crd["spec"]["names"]["kind"] in compatibility.INPUT_SECTIONS
    ]
    return _split([field for crd in crd_list for field in compatibility.input_fields(crd)])


ALL_FIELDS = _argo_cd_fields() + _tether_fields()


def _proofs() -> list[str]:
    rows = [
        row.proof
        for table in compatibility.TABLES.values()
        for row in table.values()
        if isinstance(row, compatibility.Supported)
    ]
    aliases = [
        a.proof for aliases in compatibility.ALIASES_BY_KIND.values() for a in aliases.values()
    ]
    sync_options = [
        r.proof for r in SYNC_OPTIONS.values() if isinstance(r, compatibility.Supported)
    ]
    return sorted(set(rows + aliases + sync_options))


# ---- the table against the schemas --------------------------------------------------------------


def test_the_field_list_is_argo_cds_at_the_commit_the_table_names() -> None:
    header = ARGO_CD_FIELDS.read_text(encoding="utf-8").splitlines()[0]
    assert ARGO_CD_COMMIT in header
    assert len(_argo_cd_fields()) > 400, "the list holds every leaf, spec and operation"
    assert (APP, "spec.sourceHydrator.hydrateTo.targetBranch") in _argo_cd_fields()
    assert (PROJECT, "spec.syncWindows[].kind") in _argo_cd_fields()


def test_every_argo_cd_field_is_supported_or_refused() -> None:
    uncovered = [f for f in _argo_cd_fields() if compatibility.row_of(*f) is None]
    assert uncovered == [], "give each a row in core/app/compatibility_rows.py"


def test_every_field_of_tethers_own_crds_is_supported_or_refused() -> None:
    uncovered = [f for f in _tether_fields() if compatibility.row_of(*f) is None]
    assert uncovered == [], "give each a row in core/app/compatibility_rows.py"


def test_every_row_and_alias_covers_a_field() -> None:
    used = {
        (kind, found[0]) for kind, path in ALL_FIELDS if (found := compatibility.row_of(kind, path))
    }
    dead = [
        (k, key)
        for k, table in compatibility.TABLES.items()
        for key in table
        if (k, key) not in used
    ]
    assert dead == []
    for kind, aliases in compatibility.ALIASES_BY_KIND.items():
        for alias in aliases:
            assert any(
                k == kind and (p == alias or p.startswith((f"{alias}.", f"{alias}[")))
                for k, p in ALL_FIELDS
            ), alias


def test_rows_never_nest_and_no_row_sits_under_an_alias() -> None:
    # A row under another would swallow the fields its parent does not know.
    for kind, table in compatibility.TABLES.items():
        keys = list(table) + list(compatibility.ALIASES_BY_KIND[kind])
        for key in keys:
            beneath = [k for k in keys if k != key and k.startswith((f"{key}.", f"{key}["))]
            assert beneath == [], f"{kind} {key} covers {beneath}"


def test_every_sync_option_has_a_row_and_every_row_an_option() -> None:
    assert list(SYNC_OPTIONS) == list(options.OPTIONS), "one row per option, in the same order"


@pytest.mark.parametrize("proof", _proofs())
def test_every_proof_names_a_test_that_exists(proof: str) -> None:
    file, separator, name = proof.partition("::")
    assert separator and name.startswith("test_"), proof
    source = ROOT / file
    assert source.is_file(), proof
    text = source.read_text(encoding="utf-8")
    assert re.search(rf"^(async )?def {re.escape(name)}\(", text, re.MULTILINE), proof


# ---- refusals -----------------------------------------------------------------------------------


def _refused(manifest: dict[str, Any], kind: str = APP) -> list[tuple[str, bool]]:
    return [(r.path, r.blocks) for r in compatibility.refusals(kind, manifest)]


@pytest.mark.parametrize("unset", [None, False, "", [], {}])
def test_an_unset_refused_field_is_not_reported(unset: object) -> None:
    assert _refused(minimal_application(sourceHydrator=unset)) == []


def test_a_set_refused_field_is_reported_with_its_reason() -> None:
    [refusal] = compatibility.refusals(
        APP, minimal_application(sourceHydrator={"drySource": {"repoURL": "r"}})
    )
    assert refusal.path == "spec.sourceHydrator"
    assert refusal.blocks
    assert "hydration" in refusal.reason


def test_zero_is_a_value_not_unset() -> None:
    assert not compatibility.is_unset(0)
    assert compatibility.is_unset(False)


def test_a_harmless_value_is_accepted_and_any_other_refused() -> None:
    def with_version(version: str) -> dict[str, Any]:
        source = {"repoURL": "r", "path": "p", "helm": {"version": version}}
        return minimal_application(source=source)

    assert _refused(with_version("v3")) == []
    assert _refused(with_version("v2")) == [("spec.source.helm.version", True)]


def test_a_refused_field_of_another_source_is_named_with_its_index() -> None:
    manifest = minimal_application(
        sources=[
            {"repoURL": "a", "path": "p"},
            {"repoURL": "b", "path": "q", "kustomize": {"version": "v4.5.7"}},
        ]
    )
    assert _refused(manifest) == [("spec.sources[1].kustomize.version", True)]


def test_an_unknown_field_is_refused_as_unknown_but_free_form_data_is_not() -> None:
    helm = {"valuesFile": ["x.yaml"], "valuesObject": {"anything": {"goes": [1]}}}
    manifest = minimal_application(source={"repoURL": "r", "helm": helm})
    [refusal] = compatibility.refusals(APP, manifest)
    assert (refusal.path, refusal.reason, refusal.blocks) == (
        "spec.source.helm.valuesFile",
        compatibility.UNKNOWN,
        True,
    )


def test_an_operation_shares_the_rows_of_the_spec_through_aliases() -> None:
    manifest = minimal_application()
    manifest["operation"] = {
        "sync": {
            "sources": [{"repoURL": "r", "directory": {"disableExtensionFilter": True}}],
            "manifests": ["kind: ConfigMap"],
        },
        "retry": {"limit": 2, "backoff": {"jitter": 0.1}},
    }
    assert _refused(manifest) == [
        ("operation.sync.sources[0].directory.disableExtensionFilter", True),
        ("operation.sync.manifests", True),
        ("operation.retry.backoff.jitter", True),
    ]


def test_the_real_examples_are_refused_only_where_tether_falls_short() -> None:
    assert _refused(load("multi-source-helm.yaml")) == [], "helm.version v3 is harmless"
    assert _refused(load("guestbook-with-status.yaml")) == []
    assert _refused(load("project-tenant.yaml"), PROJECT) == [("spec.signatureKeys", True)]


# ---- what the controller says -------------------------------------------------------------------

ANY_PROJECT = {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}]}


def _project(**spec: Any) -> Any:
    return parse_project({"metadata": {"name": "team"}, "spec": {**ANY_PROJECT, **spec}})


def test_the_app_is_refused_naming_the_object_the_field_and_why() -> None:
    app = parse_application(minimal_application(sourceHydrator={"drySource": {"repoURL": "r"}}))
    project = _project(signatureKeys=[{"keyID": "ABC"}], roles=[{"name": "ci"}])
    problems = policy.check_application(app, project, "tether", cluster=IN_CLUSTER)
    assert [p.split(" is not supported: ")[0] for p in problems] == [
        "Application tether/foo: spec.sourceHydrator",
        "AppProject 'team': spec.signatureKeys",
    ]
    assert compatibility.warnings(app, project) == []  # roles are honoured by the API


def test_a_refused_operation_field_is_the_runners_to_refuse_not_the_apps() -> None:
    manifest = minimal_application()
    manifest["operation"] = {"sync": {"manifests": ["kind: ConfigMap"]}}
    app = parse_application(manifest)
    assert policy.check_application(app, _project(), "tether", cluster=IN_CLUSTER) == []
    [problem] = compatibility.operation_problems(app)
    assert problem.startswith("Application tether/foo: operation.sync.manifests is not supported")


def test_refusals_do_not_change_the_object() -> None:
    manifest = load("future-fields.yaml")
    before = copy.deepcopy(manifest)
    assert _refused(manifest)
    assert manifest == before


# ---- the generated page -------------------------------------------------------------------------


def test_the_committed_compatibility_page_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "compatibility.md").read_text(encoding="utf-8")
    assert committed == compatibility_doc.markdown(), (
        "stale; run: uv run --frozen python hack/gen-compatibility.py"
    )
