"""System routes and the API's error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_deployment_lists_contracts_and_forwarder_domain(api: TestClient, runtime) -> None:
    body = api.get("/v1/deployment").json()
    assert body["chain_id"] == runtime.chain.chain_id
    assert body["contracts"]["ActorRegistry"] == runtime.deployment.address("ActorRegistry")
    assert body["forwarder_domain"]["verifyingContract"] == runtime.deployment.address("TraceChainForwarder")


def test_actor_directory_comes_from_the_index(api: TestClient, net) -> None:
    actors = {a["address"]: a for a in api.get("/v1/actors").json()["items"]}
    m = net.accounts["manufacturer"].address
    assert actors[m]["name"] == "Manufacturer" and actors[m]["roles"] == ["manufacturer"]
    assert api.get(f"/v1/actors/{m.lower()}").json()["address"] == m


def test_actor_directory_is_paged_in_order_of_registration(api: TestClient, net) -> None:
    everyone = api.get("/v1/actors").json()
    assert everyone["total"] == len(everyone["items"]) == 8 and everyone["next_offset"] is None
    names = [a["name"] for a in everyone["items"]]
    first = api.get("/v1/actors", params={"limit": 3}).json()
    assert [a["name"] for a in first["items"]] == names[:3]
    assert (first["total"], first["limit"], first["offset"], first["next_offset"]) == (8, 3, 0, 3)
    rest = api.get("/v1/actors", params={"limit": 3, "offset": 6}).json()
    assert [a["name"] for a in rest["items"]] == names[6:] and rest["next_offset"] is None


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"offset": 2**63}])
def test_actor_directory_refuses_pages_out_of_bounds(api: TestClient, query: dict[str, int]) -> None:
    response = api.get("/v1/actors", params=query)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_unknown_actor_is_404_with_code(api: TestClient, net) -> None:
    response = api.get(f"/v1/actors/{net.accounts['outsider'].address}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "actor_not_found"


@pytest.mark.parametrize("address", ["not-an-address", "0x" + "ab" * 19, "0x" + "g" * 40])
def test_bad_address_is_422_with_code(api: TestClient, address: str) -> None:
    response = api.get(f"/v1/actors/{address}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_method_not_allowed_says_which_are(api: TestClient, net) -> None:
    address = net.accounts["manufacturer"].address
    response = api.delete(f"/v1/actors/{address}")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"
    # two routes share this path: the Allow header names the methods of both
    uses = api.delete(f"/v1/certificates/0x{'ab' * 32}/uses")
    assert uses.status_code == 405 and uses.headers["allow"] == "GET, POST"


def test_unknown_route_has_the_same_error_shape(api: TestClient) -> None:
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_home_page_is_served(api: TestClient) -> None:
    response = api.get("/")
    assert response.status_code == 200 and "TraceChain" in response.text


def test_a_node_that_stops_answering_is_503(runtime) -> None:  # noqa: ANN001
    from dataclasses import replace

    from web3 import Web3

    from tracechain.api.app import create_app
    from tracechain.chain.anvil import free_port
    from tracechain.chain.connect import Chain

    dead = Chain(w3=Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}")), url="dead")
    with TestClient(create_app(replace(runtime, chain=dead)), raise_server_exceptions=False) as client:
        response = client.get("/v1/health")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "chain_unavailable"
