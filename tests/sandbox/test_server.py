import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from importer.sandbox import Sandbox, SandboxSeed

NORTH = "3SwdhCu3svxI8AKsPJt6"
HARBOR = "Vq7Lm2Pz9KxR4tBn8cWd"

ORDER_OPEN = "6650a1b2c3d4e5f601000001"
ORDER_PARTIAL = "6650a1b2c3d4e5f601000002"
ORDER_CANCELED = "6650a1b2c3d4e5f601000003"
ORDER_HARBOR = "6650a1b2c3d4e5f601000004"
ORDER_UNKNOWN = "6650a1b2c3d4e5f6010000ff"

PRICE_TEE = "6650a1b2c3d4e5f601000201"
PRICE_MUG = "6650a1b2c3d4e5f601000202"
PRICE_SAND_TEE = "6650a1b2c3d4e5f601000203"
PRICE_TOTE = "6650a1b2c3d4e5f601000205"

ALL_TOKEN = "tok-all"
NORTH_TOKEN = "tok-north"

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
HEX_ID = re.compile(r"[0-9a-f]{24}")


def headers(token: str = ALL_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Version": "2021-07-28"}


def location_query(location: str = NORTH) -> dict[str, str]:
    return {"altId": location, "altType": "location"}


def fulfillment_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "altId": NORTH,
        "altType": "location",
        "trackings": [
            {
                "trackingNumber": "9400111899223397851234",
                "shippingCarrier": "USPS",
                "trackingUrl": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223397851234",
            }
        ],
        "items": [{"priceId": PRICE_TEE, "qty": 1}],
        "notifyCustomer": False,
    }
    body.update(changes)
    return body


def make_sandbox(seed: SandboxSeed, **settings: Any) -> Sandbox:
    return Sandbox(seed, {ALL_TOKEN: None, NORTH_TOKEN: [NORTH]}, **settings)


@pytest.fixture
def sandbox(seed: SandboxSeed) -> Iterator[Sandbox]:
    running = make_sandbox(seed).start()
    yield running
    running.stop()


def open_client(sandbox: Sandbox) -> httpx.Client:
    # trust_env=False keeps proxy settings of the environment away from loopback traffic.
    # The sandbox speaks plain HTTP, and verify=False skips loading the CA bundle (~0.25 s).
    return httpx.Client(base_url=sandbox.base_url, trust_env=False, verify=False, timeout=5.0)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with open_client(sandbox) as http:
        yield http


def get_order(client: httpx.Client, order_id: str, token: str = ALL_TOKEN) -> httpx.Response:
    return client.get(
        f"/payments/orders/{order_id}", params=location_query(), headers=headers(token)
    )


def list_fulfillments(client: httpx.Client, order_id: str, location: str = NORTH) -> httpx.Response:
    return client.get(
        f"/payments/orders/{order_id}/fulfillments",
        params=location_query(location),
        headers=headers(),
    )


def create_fulfillment(
    client: httpx.Client, order_id: str, body: object, token: str = ALL_TOKEN
) -> httpx.Response:
    return client.post(
        f"/payments/orders/{order_id}/fulfillments", json=body, headers=headers(token)
    )


# Authentication, version and access


def test_missing_token_unauthorized(client: httpx.Client) -> None:
    """A request without a token gets 401 and no rate-limit headers."""
    response = client.get(f"/payments/orders/{ORDER_OPEN}", params=location_query())

    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "message": "Invalid token: access token is invalid",
        "error": "Unauthorized",
    }
    assert "X-RateLimit-Remaining" not in response.headers


def test_unknown_token_unauthorized(client: httpx.Client) -> None:
    """A token the sandbox was not given gets 401."""
    response = get_order(client, ORDER_OPEN, token="tok-unknown")

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_missing_version_rejected(client: httpx.Client) -> None:
    """A request without the Version header gets 400."""
    response = client.get(
        f"/payments/orders/{ORDER_OPEN}",
        params=location_query(),
        headers={"Authorization": f"Bearer {ALL_TOKEN}"},
    )

    assert response.status_code == 400
    assert response.json()["statusCode"] == 400
    assert "Version" in response.json()["message"]


def test_wrong_version_rejected(client: httpx.Client) -> None:
    """A Version other than 2021-07-28 gets 400."""
    response = client.get(
        f"/payments/orders/{ORDER_OPEN}",
        params=location_query(),
        headers={"Authorization": f"Bearer {ALL_TOKEN}", "Version": "2021-04-15"},
    )

    assert response.status_code == 400
    assert "2021-04-15" in response.json()["message"]


def test_other_location_forbidden(client: httpx.Client) -> None:
    """A token limited to one location gets 403 for another location."""
    response = client.get(
        f"/payments/orders/{ORDER_HARBOR}",
        params=location_query(HARBOR),
        headers=headers(NORTH_TOKEN),
    )

    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "message": "The token is not authorized for this location.",
    }


def test_unseeded_location_forbidden(client: httpx.Client) -> None:
    """A token for all locations still gets 403 for a location the seed does not have."""
    response = client.get(
        f"/payments/orders/{ORDER_OPEN}",
        params=location_query("Zz9Zz9Zz9Zz9Zz9Zz9Zz"),
        headers=headers(),
    )

    assert response.status_code == 403


def test_post_other_location_forbidden(client: httpx.Client, sandbox: Sandbox) -> None:
    """A POST whose body altId the token may not use gets 403 and stores nothing."""
    body = fulfillment_body(altId=HARBOR, items=[{"priceId": PRICE_TOTE, "qty": 1}])

    response = create_fulfillment(client, ORDER_HARBOR, body, token=NORTH_TOKEN)

    assert response.status_code == 403
    assert sandbox.fulfillment_log() == []


def test_unknown_path_not_found(client: httpx.Client) -> None:
    """An unknown path gets 404 in the NestJS shape."""
    response = client.get("/payments/invoices", headers=headers())

    assert response.status_code == 404
    assert response.json() == {
        "statusCode": 404,
        "message": "Cannot GET /payments/invoices",
        "error": "Not Found",
    }


def test_wrong_method_not_allowed(client: httpx.Client) -> None:
    """A known path with an unsupported method gets 405 and an Allow header."""
    response = client.delete(f"/payments/orders/{ORDER_OPEN}/fulfillments", headers=headers())

    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"
    assert response.headers["Allow"] == "GET, POST"


# GET order


def test_get_order_shape(client: httpx.Client) -> None:
    """GET order returns the order object itself with its items."""
    response = get_order(client, ORDER_OPEN)
    order = response.json()

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert order["_id"] == ORDER_OPEN
    assert order["altId"] == NORTH
    assert order["altType"] == "location"
    assert order["name"] == "Order #1001"
    assert order["status"] == "completed"
    assert order["fulfillmentStatus"] == "unfulfilled"
    assert order["currency"] == "USD"
    assert order["amount"] == 61.0
    assert order["createdAt"] == "2026-11-28T15:04:05.000Z"
    assert order["updatedAt"] == "2026-11-28T15:04:05.000Z"
    assert order["contactSnapshot"] == {
        "name": "Dana Whitfield",
        "email": "dana.whitfield@example.com",
    }
    assert order["items"][0] == {
        "_id": "6650a1b2c3d4e5f601000101",
        "name": "Trail Tee - Black / M",
        "qty": 2,
        "price": {
            "_id": PRICE_TEE,
            "name": "Black / M",
            "sku": "TEE-BLK-M",
            "amount": 24.5,
            "currency": "USD",
        },
        "product": {"_id": "6650a1b2c3d4e5f601000301", "name": "Trail Tee"},
    }


def test_get_order_price_without_sku(client: httpx.Client) -> None:
    """A price seeded without a SKU has no sku key, as in HighLevel."""
    response = get_order(client, ORDER_PARTIAL)

    assert "sku" not in response.json()["items"][1]["price"]


def test_get_order_partially_fulfilled(client: httpx.Client) -> None:
    """An order with a seeded fulfillment of part of its items is partially_fulfilled."""
    response = get_order(client, ORDER_PARTIAL)

    assert response.json()["fulfillmentStatus"] == "partially_fulfilled"
    assert response.json()["updatedAt"] == "2026-11-30T10:00:00.000Z"


def test_get_order_missing_alt_id(client: httpx.Client) -> None:
    """GET without altId gets 422 with the class-validator messages."""
    response = client.get(f"/payments/orders/{ORDER_OPEN}", headers=headers())

    assert response.status_code == 422
    assert response.json() == {
        "statusCode": 422,
        "message": ["altId must be a string", "altId should not be empty"],
        "error": "Unprocessable Entity",
    }


def test_get_order_wrong_alt_type(client: httpx.Client) -> None:
    """GET with an altType other than location gets 422."""
    response = client.get(
        f"/payments/orders/{ORDER_OPEN}",
        params={"altId": NORTH, "altType": "agency"},
        headers=headers(),
    )

    assert response.status_code == 422
    assert response.json()["message"] == ["altType must be one of the following values: location"]


def test_get_order_without_alt_type(client: httpx.Client) -> None:
    """altType may be left out of the query."""
    response = client.get(
        f"/payments/orders/{ORDER_OPEN}", params={"altId": NORTH}, headers=headers()
    )

    assert response.status_code == 200


def test_get_unknown_order_not_found(client: httpx.Client) -> None:
    """An order id the seed does not have gets 400 Order not found."""
    response = get_order(client, ORDER_UNKNOWN)

    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": "Order not found"}


def test_get_order_of_other_location_not_found(client: httpx.Client) -> None:
    """An order asked for with another location's altId gets 400 Order not found."""
    response = get_order(client, ORDER_HARBOR)

    assert response.status_code == 400
    assert response.json()["message"] == "Order not found"


# GET fulfillments


def test_list_fulfillments_includes_seeded(client: httpx.Client) -> None:
    """Seeded fulfillments are listed with their items expanded."""
    response = list_fulfillments(client, ORDER_PARTIAL)
    body = response.json()

    assert response.status_code == 200
    assert body["status"] is True
    assert len(body["data"]) == 1
    assert body["data"][0] == {
        "_id": "6650a1b2c3d4e5f601000401",
        "altId": NORTH,
        "altType": "location",
        "trackings": [
            {
                "trackingNumber": "1Z999AA10123456784",
                "shippingCarrier": "UPS",
                "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
            }
        ],
        "items": [
            {
                "_id": PRICE_SAND_TEE,
                "name": "Trail Tee - Sand / L",
                "product": {"_id": "6650a1b2c3d4e5f601000301", "name": "Trail Tee"},
                "price": {
                    "_id": PRICE_SAND_TEE,
                    "name": "Sand / L",
                    "sku": "TEE-SND-L",
                    "amount": 24.5,
                    "currency": "USD",
                },
                "qty": 1,
            }
        ],
        "createdAt": "2026-11-30T10:00:00.000Z",
        "updatedAt": "2026-11-30T10:00:00.000Z",
    }


def test_list_fulfillments_empty(client: httpx.Client) -> None:
    """An order without fulfillments lists none."""
    response = list_fulfillments(client, ORDER_OPEN)

    assert response.json() == {"status": True, "data": []}


def test_list_fulfillments_oldest_first(client: httpx.Client) -> None:
    """A new fulfillment is listed after the seeded one."""
    body = fulfillment_body(items=[{"priceId": PRICE_SAND_TEE, "qty": 1}])
    created = create_fulfillment(client, ORDER_PARTIAL, body).json()["data"]

    listed = list_fulfillments(client, ORDER_PARTIAL).json()["data"]

    assert [entry["_id"] for entry in listed] == ["6650a1b2c3d4e5f601000401", created["_id"]]


def test_list_fulfillments_unknown_order(client: httpx.Client) -> None:
    """Listing the fulfillments of an unknown order gets 400 Order not found."""
    response = list_fulfillments(client, ORDER_UNKNOWN)

    assert response.status_code == 400
    assert response.json()["message"] == "Order not found"


# POST fulfillment: success


def test_create_fulfillment_succeeds(client: httpx.Client) -> None:
    """A valid POST gets 201 with the new fulfillment."""
    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())
    body = response.json()
    fulfillment = body["data"]

    assert response.status_code == 201
    assert body["status"] is True
    assert HEX_ID.fullmatch(fulfillment["_id"])
    assert TIMESTAMP.fullmatch(fulfillment["createdAt"])
    assert fulfillment["updatedAt"] == fulfillment["createdAt"]
    assert fulfillment["altId"] == NORTH
    assert fulfillment["altType"] == "location"
    assert fulfillment["trackings"] == fulfillment_body()["trackings"]
    assert fulfillment["items"][0]["_id"] == PRICE_TEE
    assert fulfillment["items"][0]["name"] == "Trail Tee - Black / M"
    assert fulfillment["items"][0]["price"]["sku"] == "TEE-BLK-M"
    assert fulfillment["items"][0]["product"]["name"] == "Trail Tee"
    assert fulfillment["items"][0]["qty"] == 1


def test_create_fulfillment_stored(client: httpx.Client, sandbox: Sandbox) -> None:
    """A created fulfillment is listed, logged and changes the order's status."""
    body = fulfillment_body()
    fulfillment = create_fulfillment(client, ORDER_OPEN, body).json()["data"]

    listed = list_fulfillments(client, ORDER_OPEN).json()["data"]
    log = sandbox.fulfillment_log()
    order = sandbox.order_state(ORDER_OPEN)

    assert listed == [fulfillment]
    assert len(log) == 1
    assert log[0].order_id == ORDER_OPEN
    assert log[0].location_id == NORTH
    assert log[0].token == ALL_TOKEN
    assert log[0].body == body
    assert log[0].fulfillment_id == fulfillment["_id"]
    assert log[0].created_at == fulfillment["createdAt"]
    assert order["fulfillmentStatus"] == "partially_fulfilled"
    assert order["updatedAt"] == fulfillment["createdAt"]


def test_create_fulfillment_completes_order(client: httpx.Client) -> None:
    """Fulfilling every remaining item makes the order fulfilled."""
    items = [{"priceId": PRICE_TEE, "qty": 2}, {"priceId": PRICE_MUG, "qty": 1}]

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body(items=items))

    assert response.status_code == 201
    assert get_order(client, ORDER_OPEN).json()["fulfillmentStatus"] == "fulfilled"


def test_create_fulfillment_optional_tracking_fields(client: httpx.Client) -> None:
    """A tracking needs only its number, and the trackings array may be empty."""
    only_number = fulfillment_body(trackings=[{"trackingNumber": "1Z999AA10123456784"}])
    no_tracking = fulfillment_body(trackings=[], items=[{"priceId": PRICE_MUG, "qty": 1}])

    first = create_fulfillment(client, ORDER_OPEN, only_number)
    second = create_fulfillment(client, ORDER_OPEN, no_tracking)

    assert first.status_code == 201
    assert first.json()["data"]["trackings"] == [{"trackingNumber": "1Z999AA10123456784"}]
    assert second.status_code == 201


def test_create_fulfillment_integral_float_qty(client: httpx.Client) -> None:
    """A quantity of 2.0 is an integer in JSON, so it is accepted."""
    body = fulfillment_body(items=[{"priceId": PRICE_TEE, "qty": 2.0}])

    response = create_fulfillment(client, ORDER_OPEN, body)

    assert response.status_code == 201
    assert response.json()["data"]["items"][0]["qty"] == 2


# POST fulfillment: validation


VALIDATION_CASES = [
    ({"altId": None}, "altId must be a string"),
    ({"altId": None}, "altId should not be empty"),
    ({"altType": "agency"}, "altType must be one of the following values: location"),
    ({"altType": None}, "altType must be one of the following values: location"),
    ({"trackings": None}, "trackings must be an array"),
    ({"trackings": "1Z999AA10123456784"}, "trackings must be an array"),
    (
        {"trackings": ["1Z999AA10123456784"]},
        "each value in nested property trackings must be either object or array",
    ),
    ({"trackings": [{}]}, "trackings.0.trackingNumber must be a string"),
    ({"trackings": [{"trackingNumber": ""}]}, "trackings.0.trackingNumber should not be empty"),
    ({"trackings": [{"trackingNumber": 12345}]}, "trackings.0.trackingNumber must be a string"),
    (
        {"trackings": [{"trackingNumber": "1Z999", "shippingCarrier": 5}]},
        "trackings.0.shippingCarrier must be a string",
    ),
    (
        {"trackings": [{"trackingNumber": "1Z999", "trackingUrl": ["https://ups.com"]}]},
        "trackings.0.trackingUrl must be a string",
    ),
    (
        {"trackings": [{"trackingNumber": "1Z999", "carrier": "UPS"}]},
        "trackings.0.property carrier should not exist",
    ),
    ({"items": None}, "items must be an array"),
    ({"items": []}, "items should not be empty"),
    ({"items": [PRICE_TEE]}, "each value in nested property items must be either object or array"),
    ({"items": [{"priceId": 5, "qty": 1}]}, "items.0.priceId must be a string"),
    ({"items": [{"qty": 1}]}, "items.0.priceId must be a string"),
    ({"items": [{"priceId": PRICE_TEE}]}, "items.0.qty must be a positive number"),
    ({"items": [{"priceId": PRICE_TEE, "qty": 0}]}, "items.0.qty must be a positive number"),
    ({"items": [{"priceId": PRICE_TEE, "qty": -1}]}, "items.0.qty must be a positive number"),
    ({"items": [{"priceId": PRICE_TEE, "qty": 1.5}]}, "items.0.qty must be an integer number"),
    ({"items": [{"priceId": PRICE_TEE, "qty": "1"}]}, "items.0.qty must be an integer number"),
    ({"items": [{"priceId": PRICE_TEE, "qty": True}]}, "items.0.qty must be a positive number"),
    (
        {"items": [{"priceId": PRICE_TEE, "qty": 1, "sku": "TEE-BLK-M"}]},
        "items.0.property sku should not exist",
    ),
    ({"notifyCustomer": None}, "notifyCustomer must be a boolean value"),
    ({"notifyCustomer": "false"}, "notifyCustomer must be a boolean value"),
    ({"locationId": NORTH}, "property locationId should not exist"),
]


@pytest.mark.parametrize(("changes", "message"), VALIDATION_CASES)
def test_create_fulfillment_invalid_body(
    client: httpx.Client, sandbox: Sandbox, changes: dict[str, Any], message: str
) -> None:
    """Each invalid field gets 422 with its class-validator message, and nothing is stored."""
    body = {key: value for key, value in fulfillment_body(**changes).items() if value is not None}

    response = create_fulfillment(client, ORDER_OPEN, body)

    assert response.status_code == 422
    assert response.json()["statusCode"] == 422
    assert response.json()["error"] == "Unprocessable Entity"
    assert message in response.json()["message"]
    assert sandbox.fulfillment_log() == []


def test_create_fulfillment_reports_every_problem(client: httpx.Client) -> None:
    """An empty body gets one 422 listing every missing field."""
    response = create_fulfillment(client, ORDER_OPEN, {})

    assert response.status_code == 422
    assert response.json()["message"] == [
        "altId must be a string",
        "altId should not be empty",
        "altType must be one of the following values: location",
        "trackings must be an array",
        "items must be an array",
        "items should not be empty",
        "notifyCustomer must be a boolean value",
    ]


def test_create_fulfillment_invalid_json(client: httpx.Client) -> None:
    """A body that is not valid JSON gets 400 Bad Request."""
    response = client.post(
        f"/payments/orders/{ORDER_OPEN}/fulfillments",
        content=b'{"altId": ',
        headers=headers() | {"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["statusCode"] == 400
    assert response.json()["error"] == "Bad Request"
    assert "Invalid JSON" in response.json()["message"]


def test_create_fulfillment_json_array_body(client: httpx.Client) -> None:
    """A JSON body that is not an object gets 400 Bad Request."""
    response = create_fulfillment(client, ORDER_OPEN, [fulfillment_body()])

    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


def test_create_fulfillment_without_json_content_type(client: httpx.Client) -> None:
    """Like Express, the sandbox ignores a body that is not sent as JSON."""
    response = client.post(
        f"/payments/orders/{ORDER_OPEN}/fulfillments",
        content=b'{"altId": "3SwdhCu3svxI8AKsPJt6"}',
        headers=headers() | {"Content-Type": "text/plain"},
    )

    assert response.status_code == 422
    assert "altId must be a string" in response.json()["message"]


# POST fulfillment: business rules


def test_create_fulfillment_unknown_order(client: httpx.Client) -> None:
    """A POST for an order the seed does not have gets 400 Order not found."""
    response = create_fulfillment(client, ORDER_UNKNOWN, fulfillment_body())

    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "message": "Order not found"}


def test_create_fulfillment_other_location_order(client: httpx.Client, sandbox: Sandbox) -> None:
    """A body altId that is not the order's location gets 400 Order not found."""
    body = fulfillment_body(altId=HARBOR)

    response = create_fulfillment(client, ORDER_OPEN, body)

    assert response.status_code == 400
    assert response.json()["message"] == "Order not found"
    assert sandbox.fulfillment_log() == []


def test_canceled_order_rejected(client: httpx.Client, sandbox: Sandbox) -> None:
    """A canceled order gets 400 in the status/name/traceId shape and nothing is stored."""
    body = fulfillment_body(items=[{"priceId": PRICE_MUG, "qty": 1}])

    response = create_fulfillment(client, ORDER_CANCELED, body)
    error = response.json()

    assert response.status_code == 400
    assert error["status"] == 400
    assert error["message"] == "This order is canceled and cannot be fulfilled."
    assert error["name"] == "BadRequestException"
    assert uuid.UUID(error["traceId"]).version == 4
    assert sandbox.fulfillment_log() == []


def test_unknown_price_rejected(client: httpx.Client, sandbox: Sandbox) -> None:
    """A priceId that is not an item of the order gets 422 naming it."""
    body = fulfillment_body(items=[{"priceId": PRICE_TOTE, "qty": 1}])

    response = create_fulfillment(client, ORDER_OPEN, body)

    assert response.status_code == 422
    assert response.json()["status"] == 422
    assert PRICE_TOTE in response.json()["message"]
    assert sandbox.fulfillment_log() == []


def test_over_fulfillment_rejected(client: httpx.Client, sandbox: Sandbox) -> None:
    """A quantity above what was ordered gets 422 saying what remains, and nothing is stored."""
    body = fulfillment_body(items=[{"priceId": PRICE_TEE, "qty": 3}])

    response = create_fulfillment(client, ORDER_OPEN, body)
    error = response.json()

    assert response.status_code == 422
    assert error["status"] == 422
    assert error["name"] == "UnprocessableEntityException"
    assert "only 2 of 2 remain" in error["message"]
    assert uuid.UUID(error["traceId"])
    assert sandbox.fulfillment_log() == []
    assert list_fulfillments(client, ORDER_OPEN).json()["data"] == []
    assert sandbox.order_state(ORDER_OPEN)["fulfillmentStatus"] == "unfulfilled"


def test_over_fulfillment_counts_seeded(client: httpx.Client) -> None:
    """Seeded fulfillments reduce what remains."""
    body = fulfillment_body(items=[{"priceId": PRICE_SAND_TEE, "qty": 3}])

    response = create_fulfillment(client, ORDER_PARTIAL, body)

    assert response.status_code == 422
    assert "only 2 of 3 remain" in response.json()["message"]


def test_over_fulfillment_counts_earlier_posts(client: httpx.Client) -> None:
    """A second POST cannot fulfill what the first one already did."""
    body = fulfillment_body(items=[{"priceId": PRICE_TEE, "qty": 2}])
    first = create_fulfillment(client, ORDER_OPEN, body)

    second = create_fulfillment(client, ORDER_OPEN, body)

    assert first.status_code == 201
    assert second.status_code == 422
    assert "only 0 of 2 remain" in second.json()["message"]


def test_over_fulfillment_repeated_price_added_up(client: httpx.Client) -> None:
    """A price listed twice in one request counts with both quantities."""
    items = [{"priceId": PRICE_TEE, "qty": 2}, {"priceId": PRICE_TEE, "qty": 1}]

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body(items=items))

    assert response.status_code == 422


def test_rejection_stores_nothing_of_valid_items(client: httpx.Client, sandbox: Sandbox) -> None:
    """When one item is over its quantity, the valid items are not fulfilled either."""
    items = [{"priceId": PRICE_MUG, "qty": 1}, {"priceId": PRICE_TEE, "qty": 5}]

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body(items=items))
    retry = create_fulfillment(
        client, ORDER_OPEN, fulfillment_body(items=[{"priceId": PRICE_MUG, "qty": 1}])
    )

    assert response.status_code == 422
    assert retry.status_code == 201
    assert len(sandbox.fulfillment_log()) == 1


# Rate limits


@pytest.fixture
def limited(seed: SandboxSeed) -> Iterator[tuple[Sandbox, httpx.Client]]:
    sandbox = make_sandbox(seed, max_requests=3, interval_seconds=0.5).start()
    with open_client(sandbox) as http:
        yield sandbox, http
    sandbox.stop()


def test_rate_limit_headers_on_success(client: httpx.Client) -> None:
    """A successful response carries every X-RateLimit header."""
    response = get_order(client, ORDER_OPEN)

    assert response.headers["X-RateLimit-Max"] == "100"
    assert response.headers["X-RateLimit-Remaining"] == "99"
    assert response.headers["X-RateLimit-Interval-Milliseconds"] == "10000"
    assert response.headers["X-RateLimit-Limit-Daily"] == "200000"
    assert response.headers["X-RateLimit-Daily-Remaining"] == "199999"


@pytest.mark.parametrize("header", RATE_LIMIT_HEADERS)
def test_rate_limit_headers_on_errors(client: httpx.Client, header: str) -> None:
    """Error responses for a known token carry the X-RateLimit headers too."""
    not_found = get_order(client, ORDER_UNKNOWN)
    invalid = create_fulfillment(client, ORDER_OPEN, {})

    assert header in not_found.headers
    assert header in invalid.headers


def test_rate_limit_remaining_counts_down(limited: tuple[Sandbox, httpx.Client]) -> None:
    """X-RateLimit-Remaining goes down by one per request."""
    _, client = limited

    remaining = [get_order(client, ORDER_OPEN).headers["X-RateLimit-Remaining"] for _ in range(3)]

    assert remaining == ["2", "1", "0"]


def test_rate_limit_exceeded(limited: tuple[Sandbox, httpx.Client]) -> None:
    """A request over the limit gets 429 with Retry-After and the rate-limit headers."""
    _, client = limited
    for _ in range(3):
        get_order(client, ORDER_OPEN)

    response = get_order(client, ORDER_OPEN)

    assert response.status_code == 429
    assert response.json() == {
        "statusCode": 429,
        "message": "Too many requests, please try again later.",
    }
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Max"] == "3"
    assert response.headers["X-RateLimit-Interval-Milliseconds"] == "500"


def test_rate_limit_429_not_counted(limited: tuple[Sandbox, httpx.Client]) -> None:
    """Rejected requests do not count, so the window frees up after the interval."""
    _, client = limited
    for _ in range(6):
        get_order(client, ORDER_OPEN)
    time.sleep(0.55)

    response = get_order(client, ORDER_OPEN)

    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert response.headers["X-RateLimit-Daily-Remaining"] == "199996"


def test_rate_limit_per_location(limited: tuple[Sandbox, httpx.Client]) -> None:
    """Each location has its own window, and a POST counts for its body's altId."""
    _, client = limited
    for _ in range(3):
        get_order(client, ORDER_OPEN)
    body = fulfillment_body(altId=HARBOR, items=[{"priceId": PRICE_TOTE, "qty": 1}])

    response = create_fulfillment(client, ORDER_HARBOR, body)

    assert response.status_code == 201
    assert response.headers["X-RateLimit-Remaining"] == "2"


def test_rate_limit_post_rejected_stores_nothing(limited: tuple[Sandbox, httpx.Client]) -> None:
    """A POST rejected with 429 creates no fulfillment."""
    sandbox, client = limited
    for _ in range(3):
        get_order(client, ORDER_OPEN)

    response = create_fulfillment(client, ORDER_OPEN, fulfillment_body())

    assert response.status_code == 429
    assert sandbox.fulfillment_log() == []


def test_daily_limit_exceeded(seed: SandboxSeed) -> None:
    """Past the daily limit requests get 429 with X-RateLimit-Daily-Remaining 0."""
    with (
        make_sandbox(seed, daily_limit=2) as sandbox,
        open_client(sandbox) as client,
    ):
        get_order(client, ORDER_OPEN)
        get_order(client, ORDER_OPEN)

        response = get_order(client, ORDER_OPEN)

    assert response.status_code == 429
    assert response.headers["X-RateLimit-Daily-Remaining"] == "0"
    assert int(response.headers["Retry-After"]) >= 1


# Sandbox lifecycle and logs


def test_request_log_records_requests(client: httpx.Client, sandbox: Sandbox) -> None:
    """The request log lists method, path, query and status of every request."""
    get_order(client, ORDER_OPEN)
    create_fulfillment(client, ORDER_OPEN, {})

    log = sandbox.request_log()

    assert [(record.method, record.status) for record in log] == [("GET", 200), ("POST", 422)]
    assert log[0].path == f"/payments/orders/{ORDER_OPEN}"
    assert log[0].query == {"altId": NORTH, "altType": "location"}


def test_order_state_unknown_order(sandbox: Sandbox) -> None:
    """order_state raises KeyError for an order the seed does not have."""
    with pytest.raises(KeyError):
        sandbox.order_state(ORDER_UNKNOWN)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "localhost"])
def test_non_loopback_host_rejected(seed: SandboxSeed, host: str) -> None:
    """Only loopback IP addresses are accepted as host."""
    with pytest.raises(ValueError, match="loopback"):
        Sandbox(seed, {ALL_TOKEN: None}, host=host)


def test_stop_closes_port(seed: SandboxSeed) -> None:
    """After stop() the port no longer accepts connections, even kept-alive ones."""
    sandbox = make_sandbox(seed).start()
    with open_client(sandbox) as client:
        first = get_order(client, ORDER_OPEN)
        sandbox.stop()

        with pytest.raises(httpx.TransportError):
            get_order(client, ORDER_OPEN)

    assert first.status_code == 200


def test_base_url_requires_running(seed: SandboxSeed) -> None:
    """base_url raises RuntimeError before start()."""
    sandbox = Sandbox(seed, {ALL_TOKEN: None})

    with pytest.raises(RuntimeError, match="not running"):
        _ = sandbox.base_url


def test_latency_delays_response(seed: SandboxSeed) -> None:
    """latency_seconds delays every response."""
    with (
        make_sandbox(seed, latency_seconds=0.2) as sandbox,
        open_client(sandbox) as client,
    ):
        started = time.perf_counter()
        response = get_order(client, ORDER_OPEN)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.2


# HTTP transport


def test_create_fulfillment_chunked_body(client: httpx.Client) -> None:
    """A body sent with chunked transfer encoding is read like any other."""
    payload = json.dumps(fulfillment_body()).encode("utf-8")

    response = client.post(
        f"/payments/orders/{ORDER_OPEN}/fulfillments",
        content=iter([payload[:40], payload[40:]]),
        headers=headers() | {"Content-Type": "application/json"},
    )

    assert response.status_code == 201


def test_body_too_large_rejected(client: httpx.Client, sandbox: Sandbox) -> None:
    """A body above 100 kB gets 413, as Express's JSON parser does by default."""
    body = fulfillment_body(trackings=[{"trackingNumber": "1" * 200_000}])

    response = create_fulfillment(client, ORDER_OPEN, body)
    followup = get_order(client, ORDER_OPEN)

    assert response.status_code == 413
    assert response.json()["error"] == "Payload Too Large"
    assert followup.status_code == 200
    assert sandbox.fulfillment_log() == []


def test_invalid_content_length_rejected(sandbox: Sandbox) -> None:
    """A Content-Length that is not a number gets 400 in JSON and the connection is closed."""
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    request = (
        f"POST /payments/orders/{ORDER_OPEN}/fulfillments HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nContent-Length: ten\r\n\r\n"
    )

    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as connection:
        connection.sendall(request.encode("ascii"))
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk

    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request"
    assert b"Connection: close" in rest
    assert rest.endswith(b'"error":"Bad Request"}')


def test_concurrent_posts_never_over_fulfill(client: httpx.Client, sandbox: Sandbox) -> None:
    """Simultaneous POSTs for the same item create no more than the quantity ordered."""
    body = fulfillment_body(items=[{"priceId": PRICE_TEE, "qty": 1}])

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(create_fulfillment, client, ORDER_OPEN, body) for _ in range(8)]
        statuses = sorted(future.result().status_code for future in futures)

    assert statuses == [201, 201] + [422] * 6
    assert len(sandbox.fulfillment_log()) == 2


def test_ipv6_loopback_serves(seed: SandboxSeed) -> None:
    """The sandbox also listens on the IPv6 loopback address."""
    if not socket.has_ipv6:
        pytest.skip("Python was built without IPv6 support")

    with make_sandbox(seed, host="::1") as sandbox, open_client(sandbox) as client:
        base_url = sandbox.base_url
        response = get_order(client, ORDER_OPEN)

    assert base_url.startswith("http://[::1]:")
    assert response.status_code == 200
