"""Schemas shared by every router: errors, signed forward requests, actors."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tracechain.chain.transact import ForwardRequest
from tracechain.store.db import ActorRow
from tracechain.types import to_address

HEX = r"^0x(?:[0-9a-fA-F]{2})*$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
UINT48_MAX = 2**48 - 1
# The largest integer every JSON reader holds exactly (a double's 53 bits): far beyond any nonce
# or count, and a bound a JSON Schema validator compares right (2^256 - 1 is no double).
JSON_INT_MAX = 2**53 - 1
# Gas a relayed request may ask for. The relay adds a quarter and 60,000 (the forwarder's own
# work) to it, and the whole must fit in a block (30,000,000 gas on Anvil and the embedded chain).
REQUEST_GAS_MIN = 21_000
REQUEST_GAS_MAX = 20_000_000

Address = Annotated[
    str, Field(pattern=ADDRESS, description="0x and 40 hex digits, in any case."), AfterValidator(to_address)
]


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

    sender: Address = Field(alias="from")
    to: Address
    value: int = Field(default=0, ge=0, le=0, description="Always 0: TraceChain contracts take no ether.")
    gas: int = Field(
        ge=REQUEST_GAS_MIN,
        le=REQUEST_GAS_MAX,
        description=f"Gas for the call itself, {REQUEST_GAS_MIN:,} to {REQUEST_GAS_MAX:,} "
        "(the relay adds the forwarder's own, within one block).",
    )
    nonce: int = Field(ge=0, le=JSON_INT_MAX, description="The sender's next nonce at the forwarder.")
    deadline: int = Field(ge=1, le=UINT48_MAX, description="Unix time the request expires (uint48).")
    data: str = Field(pattern=HEX, description="The call data: 0x and whole bytes in hex.")
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


class IndexLagPublic(BaseModel):
    """Where the index (every read answers from it) stands against the chain head."""

    block: int | None = Field(description="the last block indexed")
    lag_blocks: int | None
    lag_seconds: int | None = Field(description="chain time between the indexed block and the head")
    following: bool = Field(description="a background task follows the chain into the index")


class HealthPublic(BaseModel):
    """The server answers, and so does its chain."""

    status: Literal["ok"]
    chain_id: int
    block: int = Field(description="The chain's head block.")
    index: IndexLagPublic


class ActorPublic(BaseModel):
    address: str
    name: str
    metadata_hash: str
    roles: list[str]
    suspended: bool

    @classmethod
    def of(cls, row: ActorRow) -> ActorPublic:
        return cls(
            address=row.address,
            name=row.name,
            metadata_hash=row.metadata_hash,
            roles=[r for r in row.roles.split(",") if r],
            suspended=row.suspended,
        )


class ActorsPublic(BaseModel):
    """A page of the actor directory, in order of registration."""

    items: list[ActorPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class DeploymentPublic(BaseModel):
    """Where the contracts are, so clients can check every answer against the chain."""

    chain_id: int
    anchor_block: int = Field(description="block of the deployment's first contract; binds it to its chain")
    anchor_hash: str
    contracts: dict[str, str]
    forwarder_domain: dict[str, object]
