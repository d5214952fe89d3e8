"""System routes and the API's error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_deployment_lists_contracts_and_forwarder_domain(api: TestClient, runtime) -> None:
    body = api.get("/v1/deployment").json()
    assert body["chain_id"] == runtime.chain.chain_id
    assert body["contracts"]["ActorRegistry"] == runtime.deployment.address("ActorRegistry")
    assert body["forwarder_domain"]["verifyingContract"] == runtime.deployment.address("TraceChainForwarder")


def test_actor_directory_comes_from_the_index(api: TestClient, net) -> None:
    actors = {a["address"]: a for a in api.get("/v1/actors").json()}
    m = net.accounts["manufacturer"].address
    assert actors[m]["name"] == "Manufacturer" and actors[m]["roles"] == ["manufacturer"]
    assert api.get(f"/v1/actors/{m.lower()}").json()["address"] == m


def test_unknown_actor_is_404_with_code(api: TestClient, net) -> None:
    response = api.get(f"/v1/actors/{net.accounts['outsider'].address}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "actor_not_found"


def test_bad_address_is_422_with_code(api: TestClient) -> None:
    response = api.get("/v1/actors/not-an-address")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


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
