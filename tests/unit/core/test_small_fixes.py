"""Small regressions: Secret folding for the dry run, tracking ids with colons in names."""

from __future__ import annotations

import base64

from tether.core import normalize


def test_string_data_is_folded_into_base64_data_on_a_copy():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": base64.b64encode(b"x").decode()},
        "stringData": {"b": "y"},
    }
    folded = normalize.with_string_data_folded(secret)
    assert folded["data"] == {"a": "eA==", "b": "eQ=="}
    assert "stringData" not in folded
    assert secret["stringData"] == {"b": "y"}  # the original is untouched


def test_a_tracking_id_whose_name_holds_colons_parses():
    from tether.core.tracking import TrackingId

    parsed = TrackingId.parse(
        "cert-manager:rbac.authorization.k8s.io/Role:kube-system/cert-manager-webhook:dynamic-serving"
    )
    assert parsed is not None
    assert parsed.name == "cert-manager-webhook:dynamic-serving"
    assert parsed.namespace == "kube-system"
    assert str(parsed).endswith("/cert-manager-webhook:dynamic-serving")
