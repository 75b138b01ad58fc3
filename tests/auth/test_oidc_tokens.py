"""The JWT verifier on open-ended input (hypothesis): whatever a bearer sends, `verify`
answers None or a verified token, never an exception (a 500), and accepts only what the
issuer's key signed for us."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import KeySet

from everything_app.auth.oidc import OidcVerifier, _Keys, unverified_parts
from everything_app.settings.oidc import OidcIssuer
from everything_app.testing import OidcIssuerStandin

ISSUER = "https://issuer.example"
AUDIENCE = "api"

_standin = OidcIssuerStandin()
_standin.issuer = ISSUER


def _verifier() -> OidcVerifier:
    """A verifier whose JWKS is already cached, and which never fetches (no network)."""
    verifier = OidcVerifier(
        [OidcIssuer(issuer=ISSUER, audience=AUDIENCE)],
        leeway=0,
        cache_seconds=3600,
        refetch_seconds=3600,
        timeout=1,
    )
    keys = verifier._issuers[ISSUER]
    jwks: Any = _standin.jwks()
    keys._cached = _Keys(KeySet.import_key_set(jwks), time.monotonic())
    keys._last_miss = time.monotonic()
    return verifier


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "ES256", "HS256", "none", "EdDSA", "PS256"]) | JSON,
        "kid": st.just(_standin.signing_key.kid) | JSON,
        "typ": JSON,
        "crit": JSON,
        "jku": JSON,
    },
)
CLAIMS = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.just(ISSUER) | JSON,
        "aud": st.just(AUDIENCE) | st.lists(st.just(AUDIENCE) | st.text()) | JSON,
        "sub": st.text(max_size=300) | JSON,
        "exp": st.integers(min_value=-(2**40), max_value=2**40) | JSON,
        "nbf": st.integers(min_value=-(2**40), max_value=2**40) | JSON,
        "iat": JSON,
        "email": JSON,
        "email_verified": JSON,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=HEADERS, claims=CLAIMS, signature=st.binary(max_size=300))
def test_forged_tokens_are_refused_without_errors(
    header: dict[str, Any], claims: dict[str, Any], signature: bytes
) -> None:
    token = ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)]
    )
    assert asyncio.run(_verifier().verify(token)) is None


@settings(max_examples=200, deadline=None)
@given(raw=st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_garbage_is_not_a_token(raw: str) -> None:
    assert asyncio.run(_verifier().verify(raw)) is None
    unverified_parts(raw)  # never raises


@settings(max_examples=100, deadline=None)
@given(claims=CLAIMS, sub=st.text(min_size=1, max_size=255))
def test_what_the_key_signed_for_us_is_accepted(claims: dict[str, Any], sub: str) -> None:
    """The issuer's own tokens, whatever else they carry, are accepted exactly when the
    standard claims are right (iss, aud, an unexpired exp, a past nbf)."""
    now = int(time.time())
    extra = {k: v for k, v in claims.items() if k in ("email", "email_verified")}
    token = _standin.issue(sub=sub, aud=AUDIENCE, expires_in=300, **extra)
    verified = asyncio.run(_verifier().verify(token))
    assert verified is not None
    assert verified.subject == sub
    assert verified.issuer == ISSUER
    assert verified.expires_at.timestamp() >= now + 299


@settings(max_examples=50, deadline=None)
@given(
    exp=st.integers(min_value=int(time.time()) + 60, max_value=2**70)
    | st.floats(min_value=time.time() + 60, allow_infinity=True)
)
def test_far_future_expiry_is_accepted_or_refused_not_an_error(exp: float) -> None:
    token = _standin.issue(sub="far", aud=AUDIENCE, exp=exp)
    verified = asyncio.run(_verifier().verify(token))
    assert verified is None or verified.expires_at.timestamp() > time.time()
