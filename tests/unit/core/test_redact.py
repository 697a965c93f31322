"""The message scrubber: URL userinfo, bearer tokens and known secrets never leave in a message."""

from __future__ import annotations

import pytest

from tether.core import redact


@pytest.mark.parametrize(
    ("message", "scrubbed"),
    [
        (
            "helm pull x from https://alice:s3cret@charts.example/repo: 401",
            "helm pull x from https://charts.example/repo: 401",
        ),
        (
            "source (git://tok@127.0.0.1:9/x.git path 'a')",
            "source (git://127.0.0.1:9/x.git path 'a')",
        ),
        ("GET 'https://u:p@h/i.yaml' failed", "GET 'https://h/i.yaml' failed"),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer ***"),
        ("retry with token=abcdefghijkl", "retry with token=***"),
        ("no secret here: ssh://git@host/repo", "no secret here: ssh://host/repo"),
    ],
)
def test_credentials_in_urls_and_tokens_are_scrubbed(message: str, scrubbed: str) -> None:
    assert redact.text(message) == scrubbed


def test_known_secret_values_are_masked_plain_and_url_encoded() -> None:
    secret = "p@ss/w0rd!"
    message = f"plugin said {secret} and https://h/?q=p%40ss%2Fw0rd%21"
    assert redact.text(message, [secret]) == "plugin said *** and https://h/?q=***"


def test_a_line_of_a_private_key_is_masked() -> None:
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----"
    assert "MIIEvQ" not in redact.text("ssh: bad key MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", [key])


def test_short_values_are_not_masked_everywhere() -> None:
    assert redact.text("a b c", ["a"]) == "a b c"


def test_oauth_codes_and_states_in_a_callback_url_are_masked() -> None:
    line = '127.0.0.1:5 - "GET /auth/callback?code=abc123xyz&state=s-9&x=1 HTTP/1.1" 303'
    assert redact.text(line) == (
        '127.0.0.1:5 - "GET /auth/callback?code=***&state=***&x=1 HTTP/1.1" 303'
    )
    assert redact.text("exit code=1 after 3 s") == "exit code=1 after 3 s"
