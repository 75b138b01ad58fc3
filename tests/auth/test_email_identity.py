"""One canonical email: lookup, uniqueness and the sign-in failure limit all use it."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from everything_app.auth.service import normalize_email, sign_in_key
from everything_app.core.errors import BadRequest
from tests.conftest import PASSWORD, ClientFactory, sign_up

FULL_WIDTH = {chr(c): chr(c - 0x21 + 0xFF01) for c in range(0x21, 0x7F)}  # '!'..'~'


def _full_width(text: str) -> str:
    return "".join(FULL_WIDTH.get(c, c) for c in text)


def _spellings(local: str, domain: str) -> list[str]:
    """Ways to write one address that reach one account."""
    name, _, tld = domain.rpartition(".")
    return [
        f"{local}@{_full_width(name)}.{tld}",  # full-width domain letters
        f"{local}@{name}\u3002{tld}",  # ideographic full stop
        f"{local.upper()}@{domain.upper()}",
        f"{_full_width(local)}@{domain}",  # full-width local part (NFKC)
        f"\u3000{local}@{_full_width(domain)}\u3000",  # ideographic spaces around it
        f"{local}@{_full_width(name).upper()}\uff0e{tld}",  # full-width full stop
    ]


async def test_no_spelling_of_an_address_escapes_its_sign_in_lock(
    new_client: ClientFactory,
) -> None:
    local, domain = "victim-lock", "example.com"
    await sign_up(new_client(), email=f"{local}@{domain}")
    client = new_client()
    spellings = _spellings(local, domain)
    for spelling in spellings[:5]:  # the limit: 5 failures a minute per account
        wrong = await client.post(
            "/api/auth/sign-in/email", json={"email": spelling, "password": "wrong password"}
        )
        assert wrong.status_code == 401, (spelling, wrong.text)
    right = await client.post(
        "/api/auth/sign-in/email", json={"email": spellings[5], "password": PASSWORD}
    )
    assert right.status_code == 429, right.text
    plain = await client.post(
        "/api/auth/sign-in/email", json={"email": f"{local}@{domain}", "password": PASSWORD}
    )
    assert plain.status_code == 429


async def test_every_spelling_signs_in_to_the_one_account(new_client: ClientFactory) -> None:
    local, domain = "victim-one", "example.com"
    user = (await sign_up(new_client(), email=f"{local}@{domain}"))["user"]
    for spelling in _spellings(local, domain):
        signed = await new_client().post(
            "/api/auth/sign-in/email", json={"email": spelling, "password": PASSWORD}
        )
        assert signed.status_code == 200, (spelling, signed.text)
        assert signed.json()["user"]["id"] == user["id"]


async def test_no_second_account_under_another_spelling(client: httpx.AsyncClient) -> None:
    local, domain = "victim-unique", "example.com"
    await sign_up(client, email=f"{local}@{domain}")
    for spelling in _spellings(local, domain):
        again = await client.post(
            "/api/auth/sign-up/email", json={"email": spelling, "password": PASSWORD}
        )
        assert again.status_code == 422, (spelling, again.text)
        assert again.json()["code"] == "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"


@pytest.mark.parametrize("email", ["not-an-email", "a@b@example.com", "x@exa mple.com", ""])
async def test_an_invalid_email_signs_in_like_an_unknown_one(
    new_client: ClientFactory, email: str
) -> None:
    response = await new_client().post(
        "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_EMAIL_OR_PASSWORD"


_variant = st.sampled_from(
    [str.upper, str.lower, _full_width, lambda s: s.replace(".", "\u3002"), lambda s: s]
)


@given(email=st.emails(), variant=_variant)
def test_canonical_email_is_one_fixed_point(email: str, variant: object) -> None:
    assert callable(variant)
    try:
        canonical = normalize_email(email)
    except BadRequest:
        return  # st.emails() may give what email-validator refuses (e.g. a long label)
    assert normalize_email(canonical) == canonical
    assert sign_in_key(canonical) == (canonical, canonical)
    try:
        spelled = normalize_email(variant(email))
    except BadRequest:
        return
    assert spelled == canonical


def test_invalid_addresses_have_their_own_keys() -> None:
    email, key = sign_in_key("not-an-email")
    assert email is None
    assert key != sign_in_key("other-not-an-email")[1]
