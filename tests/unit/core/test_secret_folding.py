"""A Secret's stringData folds into data for the server-side dry run, leaving the original alone."""

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
