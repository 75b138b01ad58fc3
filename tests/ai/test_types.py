from __future__ import annotations

import pytest

from everything_app.ai import ProviderError, ProviderErrorKind


@pytest.mark.parametrize(
    ("kind", "status", "retryable"),
    [
        ("auth", 502, False),
        ("rate_limited", 429, True),
        ("bad_request", 400, False),
        ("upstream", 502, True),
        ("timeout", 504, True),
        ("malformed", 502, False),
        ("unavailable", 503, True),
    ],
)
def test_each_kind_has_the_status_our_api_answers_with(
    kind: ProviderErrorKind, status: int, retryable: bool
) -> None:
    error = ProviderError(kind, "message")

    assert error.status_code == status
    assert error.retryable is retryable
    assert error.code == f"ai_{kind}"
    assert str(error) == "message"


def test_status_and_retryability_can_be_overridden() -> None:
    error = ProviderError("upstream", "model not found", status_code=500, retryable=False)

    assert (error.status_code, error.retryable) == (500, False)


def test_retry_after_becomes_a_whole_seconds_header() -> None:
    assert ProviderError("rate_limited", "m", retry_after=1.2).headers == {"Retry-After": "2"}
    assert ProviderError("rate_limited", "m", retry_after=0).headers == {"Retry-After": "0"}
    assert ProviderError("rate_limited", "m").headers == {}
