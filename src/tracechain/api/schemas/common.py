"""Schemas shared by every router: errors, signed forward requests, actors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tracechain.chain.transact import ForwardRequest

HEX = r"^0x[0-9a-fA-F]*$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class ErrorDetail(BaseModel):
    code: str = Field(examples=["product_not_found"])
    message: str


class ErrorPublic(BaseModel):
    """Every 4xx/5xx body."""

    error: ErrorDetail


class ForwardRequestIn(BaseModel):
    """An ERC-2771 ForwardRequest signed (EIP-712, domain TraceChainForwarder v1) by the actor.
    The server only relays it: the actor is `from`, the server pays the gas."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", pattern=ADDRESS)
    to: str = Field(pattern=ADDRESS)
    value: int = Field(default=0, ge=0)
    gas: int = Field(gt=0)
    nonce: int = Field(ge=0)
    deadline: int = Field(gt=0)
    data: str = Field(pattern=HEX)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")

    def to_request(self) -> ForwardRequest:
        return ForwardRequest(
            sender=self.sender,
            to=self.to,
            value=self.value,
            gas=self.gas,
            nonce=self.nonce,
            deadline=self.deadline,
            data=self.data,
            signature=self.signature,
        )


class TxPublic(BaseModel):
    """Where a write landed."""

    tx_hash: str
    block_number: int
    gas_used: int


class ActorPublic(BaseModel):
    address: str
    name: str
    metadata_hash: str
    roles: list[str]
    suspended: bool


class DeploymentPublic(BaseModel):
    """Where the contracts are, so clients can check every answer against the chain."""

    chain_id: int
    anchor_block: int = Field(description="block of the deployment's first contract; binds it to its chain")
    anchor_hash: str
    contracts: dict[str, str]
    forwarder_domain: dict[str, object]
