"""Origins and redirect targets, read as a browser reads them (core.origins)."""

from __future__ import annotations

import pytest
from ada_url import URL
from hypothesis import example, given
from hypothesis import strategies as st

from everything_app.core.origins import (
    UntrustedURL,
    normalize_origin,
    origin_refusal,
    trusted_origin_set,
    trusted_redirect,
)

BASE = "http://testserver"
TRUSTED = trusted_origin_set([BASE, "https://app.example.com"])

PIECES = [
    "/", "\\", "\t", "\n", "\r", " ", "//", "\\\\", "evil.example", "testserver",
    "app.example.com", "@", ":", ":80", ":443", "%2f", "%2F", "%5c", "%09", "%40", "%2e",
    "javascript:", "data:", "blob:", "http:", "https:", "HTTP://", "https://", "ws:",
    ".", "..", "./", "?", "#", "user:pass@", "evil.example@", "\x00", "\u3002",
    "\uff45\uff56\uff49\uff4c", "\uff0f", "\u2215", "localhost", "[::1]", "0x7f.1", "alert(1)",
]  # fmt: skip
targets = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(max_size=30),
)


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\\\\evil.example",
        "//evil.example",
        "https://evil.example",
        "https://testserver@evil.example/",
        "https://evil.example\\@testserver/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "blob:http://testserver/x",
        "http://user:pass@testserver/",
        "https:/\\evil.example",
    ],
)
def test_known_open_redirects_are_refused(target: str) -> None:
    with pytest.raises(UntrustedURL):
        trusted_redirect(target, BASE, TRUSTED)


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        ("/dashboard", "/dashboard"),
        ("/dashboard?tab=1#top", "/dashboard?tab=1#top"),
        ("dashboard", "/dashboard"),
        ("https://app.example.com/x", "https://app.example.com/x"),
        ("HTTPS://APP.example.com:443/x", "https://app.example.com/x"),
        ("/.//evil.example", "http://testserver//evil.example"),  # never `//evil.example`
        ("/a\tb", "/ab"),
    ],
)
def test_trusted_targets_come_back_reserialized(target: str, answer: str) -> None:
    assert trusted_redirect(target, BASE, TRUSTED) == answer


@given(target=targets)
@example("/\\evil.example")
@example("/\t/evil.example")
@example("/.//evil.example")
@example("http:evil.example")
@example("https:evil.example")
def test_no_accepted_target_leads_to_a_foreign_origin(target: str) -> None:
    """Whatever is accepted, and whatever page of a trusted origin follows the answer (its
    base), the browser lands on a trusted origin, at the place that was checked."""
    try:
        answer = trusted_redirect(target, BASE, TRUSTED)
    except UntrustedURL:
        return
    assert URL(target, base=BASE).origin in TRUSTED
    for base in [BASE, "https://app.example.com/some/page", "http://testserver/a/b?c"]:
        followed = URL(answer, base=base)
        assert followed.origin in TRUSTED
        assert followed.protocol in ("http:", "https:")
        assert not followed.username
        assert not followed.password
    # The answer means what the target meant where it was checked.
    assert URL(answer, base=BASE).href == URL(target, base=BASE).href


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("http://testserver", "http://testserver"),
        ("HTTP://TestServer:80", "http://testserver"),
        ("https://app.example.com:443/path?q", "https://app.example.com"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("null", None),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("", None),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(value: str, origin: str | None) -> None:
    assert normalize_origin(value) == origin


def test_origin_refusals() -> None:
    assert origin_refusal("http://testserver", TRUSTED) is None
    assert origin_refusal("https://app.example.com/page", TRUSTED) is None  # a Referer
    assert origin_refusal("HTTPS://APP.EXAMPLE.COM:443", TRUSTED) is None
    for missing in (None, "", "null"):
        refusal = origin_refusal(missing, TRUSTED)
        assert refusal is not None
        assert refusal.code == "missing_or_null_origin"
    for foreign in ("https://evil.example", "http://testserver.evil.example", "https://testserver"):
        refusal = origin_refusal(foreign, TRUSTED)
        assert refusal is not None
        assert refusal.code == "invalid_origin"
