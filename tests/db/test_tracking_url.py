"""A tracking URL is a link clients open: http(s), a host, no credentials, no padding."""

import pytest

from db.commands.supplier import _tracking_url


@pytest.mark.parametrize("url", ["https://track.example/JD0146", "http://t.example/?id=1"])
def test_a_plain_http_link_is_accepted(url: str) -> None:
    assert _tracking_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://t.example/x",
        "https://user:secret@t.example/x",
        " https://t.example/x",
        "https://",
        "https://t.example/\x00",
        "https://t.example/" + "x" * 2000,
    ],
)
def test_anything_else_is_a_validation_error(url: str) -> None:
    error = _tracking_url(url)
    assert error is not None
    assert error.field == ("tracking_url",)
