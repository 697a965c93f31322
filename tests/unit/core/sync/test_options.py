from __future__ import annotations

import pytest

from tether.core.sync import options
from tether.core.sync.options import (
    DeleteMode,
    Effective,
    OptionError,
    Propagation,
    PruneMode,
    SyncOptions,
)

from .factories import obj


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Prune=false", SyncOptions(prune=PruneMode.DISABLED)),
        ("Prune=confirm", SyncOptions(prune=PruneMode.CONFIRM)),
        ("PruneLast=true", SyncOptions(prune_last=True)),
        (
            "PrunePropagationPolicy=background",
            SyncOptions(prune_propagation=Propagation.BACKGROUND),
        ),
        ("PrunePropagationPolicy=orphan", SyncOptions(prune_propagation=Propagation.ORPHAN)),
        ("Validate=false", SyncOptions(validate=False)),
        ("SkipDryRunOnMissingResource=true", SyncOptions(skip_dry_run_on_missing_resource=True)),
        ("ApplyOutOfSyncOnly=true", SyncOptions(apply_out_of_sync_only=True)),
        ("Replace=true", SyncOptions(replace=True)),
        ("Force=true", SyncOptions(force=True)),
        ("ServerSideApply=false", SyncOptions(server_side_apply=False)),
        ("ServerSideApply=true", SyncOptions(server_side_apply=True)),
        ("ClientSideApplyMigration=false", SyncOptions(client_side_apply_migration=False)),
        ("CreateNamespace=true", SyncOptions(create_namespace=True)),
        ("RespectIgnoreDifferences=true", SyncOptions(respect_ignore_differences=True)),
        ("FailOnSharedResource=true", SyncOptions(fail_on_shared_resource=True)),
        ("Delete=false", SyncOptions(delete=DeleteMode.DISABLED)),
        ("Delete=confirm", SyncOptions(delete=DeleteMode.CONFIRM)),
        (" Force = TRUE ", SyncOptions(force=True)),
    ],
)
def test_each_argo_option_parses_to_its_field(text: str, expected: SyncOptions) -> None:
    assert options.parse([text]) == expected


def test_several_options_and_blank_entries_combine() -> None:
    parsed = options.parse(["Prune=false", "", "Replace=true"])
    assert parsed == SyncOptions(prune=PruneMode.DISABLED, replace=True)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Prnue=false", "Prnue"),
        ("prune=false", "prune"),
        ("Prune=maybe", "Prune"),
        ("Replace", "Replace"),
        ("PrunePropagationPolicy=sideways", "PrunePropagationPolicy"),
    ],
)
def test_an_unknown_or_malformed_option_is_an_error_naming_it(text: str, named: str) -> None:
    error = options.parse([text])
    assert isinstance(error, OptionError)
    assert named in error.message
    assert error.option == text.strip()


def test_the_annotation_is_read_comma_separated() -> None:
    manifest = obj("ConfigMap", "a", options="Prune=false, ServerSideApply=false")
    assert options.of(manifest) == SyncOptions(prune=PruneMode.DISABLED, server_side_apply=False)
    assert options.of(None) == SyncOptions()
    assert options.of(obj("ConfigMap", "b")) == SyncOptions()


def test_defaults_are_tethers_server_side_apply_and_foreground_prunes() -> None:
    effective = options.resolve(SyncOptions())
    assert effective == Effective()
    assert effective.server_side_apply is True
    assert effective.prune_propagation is Propagation.FOREGROUND
    assert effective.validate is True


@pytest.mark.parametrize(
    ("operation", "resource", "field", "expected"),
    [
        # A resource's ServerSideApply overrides the operation's either way.
        (
            SyncOptions(server_side_apply=True),
            SyncOptions(server_side_apply=False),
            "server_side_apply",
            False,
        ),
        (
            SyncOptions(server_side_apply=False),
            SyncOptions(server_side_apply=True),
            "server_side_apply",
            True,
        ),
        (SyncOptions(server_side_apply=False), SyncOptions(), "server_side_apply", False),
        # Prune on the resource replaces the operation's default.
        (
            SyncOptions(prune=PruneMode.CONFIRM),
            SyncOptions(prune=PruneMode.DISABLED),
            "prune",
            PruneMode.DISABLED,
        ),
        (SyncOptions(prune=PruneMode.DISABLED), SyncOptions(), "prune", PruneMode.DISABLED),
        # Replace and Force: either level turns them on, the resource cannot turn them off.
        (SyncOptions(replace=True), SyncOptions(replace=False), "replace", True),
        (SyncOptions(), SyncOptions(force=True), "force", True),
        (SyncOptions(replace=False), SyncOptions(replace=False), "replace", False),
        # Validate: either level turns it off.
        (SyncOptions(validate=True), SyncOptions(validate=False), "validate", False),
        (SyncOptions(validate=False), SyncOptions(validate=True), "validate", False),
        (SyncOptions(), SyncOptions(validate=True), "validate", True),
        # Operation-only options ignore the annotation.
        (SyncOptions(), SyncOptions(create_namespace=True), "create_namespace", False),
        (
            SyncOptions(prune_propagation=Propagation.ORPHAN),
            SyncOptions(prune_propagation=Propagation.BACKGROUND),
            "prune_propagation",
            Propagation.ORPHAN,
        ),
        (SyncOptions(), SyncOptions(prune_last=True), "prune_last", True),
    ],
)
def test_resource_options_merge_with_the_operations_as_argo_does(
    operation: SyncOptions, resource: SyncOptions, field: str, expected: object
) -> None:
    assert getattr(options.resolve(operation, resource), field) == expected


def test_the_target_annotation_wins_over_the_live_one() -> None:
    target = SyncOptions(server_side_apply=False)
    live = SyncOptions(server_side_apply=True)
    assert options.resolve(SyncOptions(), target, live).server_side_apply is False


@pytest.mark.parametrize(
    ("app_options", "annotation", "strict"),
    [
        ([], "", True),
        (["Validate=false"], "", False),
        ([], "Validate=false", False),
        (["Validate=true"], "Validate=false", False),
        (["Validate=false"], "Validate=true", False),
        (["NoSuchOption=1"], "", True),
        ([], "Validate=maybe", True),
    ],
)
def test_fields_are_validated_strictly_unless_either_level_says_validate_false(
    app_options: list[str], annotation: str, strict: bool
) -> None:
    manifest = obj("ConfigMap", "a", options=annotation) if annotation else obj("ConfigMap", "a")
    assert options.for_object(options.parse(app_options), manifest).validate is strict
    assert options.field_validation(strict) == ("Strict" if strict else "Ignore")
