"""Expenses: Decimal amounts (strings out, never floats), validation and filters."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from everything_app.planner.models import Expense
from tests.conftest import SignedIn, privileged_db
from tests.planner.conftest import local, post

EXPENSE = {"amount": "12.50", "category": "Food", "incurred_at": "2026-11-17T19:00:00+01:00"}


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("12.50", "12.50"),
        ("12.5", "12.50"),
        (12.5, "12.50"),
        (7, "7.00"),
        ("0.01", "0.01"),
        ("0.10", "0.10"),
        ("99999999.99", "99999999.99"),
    ],
)
async def test_amounts_are_exact_decimal_strings(
    signed_in: SignedIn, amount: Any, stored: str
) -> None:
    client = await signed_in()
    created = await post(client, "/api/expenses", {**EXPENSE, "amount": amount})
    assert created["amount"] == stored
    assert (await client.get(f"/api/expenses/{created['id']}")).json()["amount"] == stored


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "0"},
        {"amount": "-5"},
        {"amount": "12.505"},
        {"amount": "100000000.00"},  # past NUMERIC(10,2)
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": "twelve"},
        {"amount": None},
        {"category": ""},
        {"category": "   "},
        {"category": "x" * 51},
        {"incurred_at": "2026-11-17T19:00:00"},
    ],
)
async def test_invalid_expenses_are_422(signed_in: SignedIn, change: dict[str, Any]) -> None:
    client = await signed_in()
    response = await client.post("/api/expenses", json={**EXPENSE, **change})
    assert response.status_code == 422, response.text
    assert (await client.get("/api/expenses")).json()["data"] == []


async def test_incurred_at_defaults_to_now(signed_in: SignedIn) -> None:
    client = await signed_in()
    created = await post(client, "/api/expenses", {"amount": "3", "category": "coffee"})
    incurred = datetime.fromisoformat(created["incurred_at"])
    assert incurred <= datetime.fromisoformat(created["created_at"])


async def test_sums_stay_exact_in_the_database(signed_in: SignedIn, app: FastAPI) -> None:
    client = await signed_in()
    for _ in range(10):
        await post(client, "/api/expenses", {**EXPENSE, "amount": "0.10"})
    async with privileged_db(app) as db:
        total = (await db.execute(select(func.sum(Expense.amount)))).scalar_one()
    assert total == Decimal("1.00")
    assert isinstance(total, Decimal)


async def _categories(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/expenses", params=params)
    assert response.status_code == 200, response.text
    return [e["category"] for e in response.json()["data"]]


async def test_filters_by_date_range_and_category(signed_in: SignedIn) -> None:
    client = await signed_in()
    for category, when in [
        ("Food", "2026-10-31T23:30"),
        ("transport", "2026-11-01T00:00"),
        ("food", "2026-11-10T12:00"),
        ("FOOD", "2026-11-30T23:59"),
        ("rent", "2026-12-01T00:00"),
    ]:
        await post(
            client,
            "/api/expenses",
            {"amount": "10", "category": category, "incurred_at": local(when)},
        )
    november = {"from": local("2026-11-01T00:00"), "to": local("2026-12-01T00:00")}
    assert await _categories(client, **november) == ["FOOD", "food", "transport"]
    assert await _categories(client, category="food", **november) == ["FOOD", "food"]
    assert await _categories(client, category=" Food ") == ["FOOD", "food", "Food"]
    assert await _categories(client, sort="incurred_at", limit="2") == ["Food", "transport"]
    assert await _categories(client, category="travel") == []
