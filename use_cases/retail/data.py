"""Demo reference data: a small catalogue and four customers (one per tier) with orders.

Dates are stored as offsets from "today" and resolved when read, so the demo always has
items inside and outside each tier's return window, whatever day it runs. Pure: the
documents are seeded by `store.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from use_cases.retail.domain import Order, OrderLine, Tier

CATALOGUE_COLLECTION = "retail_catalogue"
CUSTOMERS_COLLECTION = "retail_customers"
RETURNS_COLLECTION = "returns"
SEED_VERSION = "1"
# The fixed local user (AUTH_MODE=local) is a Gold customer.
LOCAL_USER_ID = "local-user"
LOCAL_CUSTOMER_ID = "CUS-3"

CATALOGUE: dict[str, dict[str, Any]] = {
    "SKU-LINEN-SHIRT": {"name": "Linen shirt", "category": "apparel", "price_cents": 4900},
    "SKU-CHINOS": {"name": "Chino trousers", "category": "apparel", "price_cents": 5900},
    "SKU-HEADPHONES": {
        "name": "Wireless headphones",
        "category": "electronics",
        "price_cents": 12900,
    },
    "SKU-SWIM-SHORTS": {"name": "Swim shorts", "category": "swimwear", "price_cents": 3500},
    "SKU-DESK-LAMP": {"name": "Clearance desk lamp", "category": "final_sale", "price_cents": 1999},
    "SKU-WOOL-COAT": {"name": "Wool coat", "category": "apparel", "price_cents": 18900},
    "SKU-MONO-WALLET": {
        "name": "Monogrammed wallet",
        "category": "personalised",
        "price_cents": 6500,
    },
    "SKU-TRAIL-SHOES": {"name": "Trail shoes", "category": "footwear", "price_cents": 11900},
    "SKU-RUN-JACKET": {"name": "Running jacket", "category": "apparel", "price_cents": 9900},
    "SKU-MERINO-SOCKS": {"name": "Merino socks", "category": "accessories", "price_cents": 1200},
    "SKU-BOXERS": {"name": "Cotton boxers (3-pack)", "category": "underwear", "price_cents": 2400},
    "SKU-BELT": {"name": "Leather belt", "category": "accessories", "price_cents": 3900},
    "SKU-HOOPS": {"name": "Silver hoop earrings", "category": "earrings", "price_cents": 2900},
}

# Every customer gets the same order shapes, so each tier shows eligible items, items
# only a higher tier may still return (40 days), and items no tier may (75 days).
_ORDER_SHAPES: tuple[dict[str, Any], ...] = (
    {"status": "processing", "ordered": 0, "lines": [("SKU-BELT", 1)]},
    {
        "status": "shipped",
        "ordered": 2,
        "expected_in": 2,
        "lines": [("SKU-RUN-JACKET", 1), ("SKU-MERINO-SOCKS", 3), ("SKU-BOXERS", 1)],
    },
    {
        "status": "delivered",
        "ordered": 7,
        "delivered": 4,
        "lines": [("SKU-LINEN-SHIRT", 1), ("SKU-CHINOS", 1)],
    },
    {"status": "cancelled", "ordered": 10, "lines": [("SKU-HOOPS", 1)]},
    {
        "status": "delivered",
        "ordered": 21,
        "delivered": 18,
        "lines": [("SKU-HEADPHONES", 1), ("SKU-SWIM-SHORTS", 1), ("SKU-DESK-LAMP", 1)],
    },
    {
        "status": "delivered",
        "ordered": 44,
        "delivered": 40,
        "lines": [("SKU-WOOL-COAT", 1), ("SKU-MONO-WALLET", 1)],
    },
    {"status": "delivered", "ordered": 79, "delivered": 75, "lines": [("SKU-TRAIL-SHOES", 1)]},
)

CUSTOMERS: tuple[tuple[str, str, Tier], ...] = (
    ("CUS-1", "Maya Chen", Tier.STANDARD),
    ("CUS-2", "Leo Martins", Tier.SILVER),
    ("CUS-3", "Ava Johnson", Tier.GOLD),
    ("CUS-4", "Noah Williams", Tier.PLATINUM),
)


def customer_id_for_user(user_id: str) -> str:
    """The demo customer a signed-in user plays: stable across processes (no `hash()`)."""
    if user_id == LOCAL_USER_ID:
        return LOCAL_CUSTOMER_ID
    digest = hashlib.sha256(user_id.encode()).digest()
    return CUSTOMERS[int.from_bytes(digest[:4], "big") % len(CUSTOMERS)][0]


def customer_profile(customer_id: str) -> tuple[str, Tier]:
    for cid, name, tier in CUSTOMERS:
        if cid == customer_id:
            return name, tier
    raise KeyError(customer_id)


def catalogue_documents() -> dict[str, dict[str, Any]]:
    return {sku: {"sku": sku, **product} for sku, product in CATALOGUE.items()}


def customer_documents() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    for number, (customer_id, name, tier) in enumerate(CUSTOMERS, start=1):
        orders = []
        for index, shape in enumerate(_ORDER_SHAPES, start=1):
            order_id = f"ORD-{number}{index:03d}"
            orders.append(
                {
                    "order_id": order_id,
                    "status": shape["status"],
                    "ordered_days_ago": shape["ordered"],
                    "delivered_days_ago": shape.get("delivered"),
                    "expected_in_days": shape.get("expected_in"),
                    "lines": [
                        {
                            "line_id": f"{order_id}-{n}",
                            "sku": sku,
                            "quantity": quantity,
                            "price_cents": CATALOGUE[sku]["price_cents"],
                        }
                        for n, (sku, quantity) in enumerate(shape["lines"], start=1)
                    ],
                }
            )
        documents[customer_id] = {
            "customer_id": customer_id,
            "name": name,
            "tier": tier.value,
            "orders": orders,
        }
    return documents


def _days_ago(today: date, days: Any) -> date | None:
    return today - timedelta(days=int(days)) if days is not None else None


def orders_from_document(
    customer: Mapping[str, Any], catalogue: Mapping[str, Mapping[str, Any]], today: date
) -> list[Order]:
    """The customer's orders with real dates, newest first; names come from the catalogue."""
    orders = []
    for raw in customer.get("orders", []):
        lines = []
        for line in raw["lines"]:
            product = catalogue.get(line["sku"], {})
            lines.append(
                OrderLine(
                    line_id=line["line_id"],
                    order_id=raw["order_id"],
                    sku=line["sku"],
                    name=str(product.get("name", line["sku"])),
                    category=str(product.get("category", "other")),
                    price_cents=int(line["price_cents"]),
                    quantity=int(line["quantity"]),
                )
            )
        expected = raw.get("expected_in_days")
        orders.append(
            Order(
                order_id=raw["order_id"],
                status=raw["status"],
                ordered_on=today - timedelta(days=int(raw["ordered_days_ago"])),
                delivered_on=_days_ago(today, raw.get("delivered_days_ago")),
                expected_on=today + timedelta(days=int(expected)) if expected is not None else None,
                lines=tuple(lines),
            )
        )
    return sorted(orders, key=lambda o: (o.ordered_on, o.order_id), reverse=True)
