"""Bodies and answers of the master data routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracechain.api.schemas.common import ADDRESS
from tracechain.services.masterdata import MasterRecord, Published


class MasterDataCreate(BaseModel):
    """EPCIS 2.0 master data (an EPCIS document with `epcisHeader.epcisMasterData.vocabularyList`, an
    EPCISMasterDataDocument, or `{vocabularyList: [...]}`) with its provider's EIP-712 signature of
    `MasterData(documentHash, deadline)` — POST /v1/masterdata/requests gives the message to sign."""

    document: dict[str, Any]
    signer: str = Field(pattern=ADDRESS, description="the providing actor (registered, in good standing)")
    deadline: int = Field(ge=0, le=2**48, description="unix seconds; the chain refuses the signature after it")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class MasterDataPrepare(BaseModel):
    """Ask for the message a provider signs for a master data document."""

    document: dict[str, Any]
    ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)


class MasterDataPrepared(BaseModel):
    document_hash: str
    deadline: int
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data to sign (eth_signTypedData_v4)")


class MasterRecordPublic(BaseModel):
    """What is known about one product class (by GTIN) or location (by GLN), from whom."""

    model_config = ConfigDict(from_attributes=True)

    kind: str = Field(examples=["product"], description="product | location")
    key: str = Field(examples=["09506000134352"], description="GTIN-14, or 414/{gln}[/254/{extension}]")
    id: str = Field(description="the identifier as the provider wrote it")
    attributes: dict[str, Any] = Field(
        description="name, brand, image, netContent, allergens, ... (products); name, streetAddressOne, city, "
        "postalCode, countryCode, latitude, longitude, ... (locations). Text may be a {language: text} map."
    )
    provider: str
    provider_name: str | None
    element_hash: str = Field(description="keccak256 of the RFC 8785 canonical normalised element")
    document_hash: str = Field(description="keccak256 of the canonical document it came in (what was signed)")
    signed: bool = Field(description="the provider signed the document (POST /v1/masterdata), not only captured it")
    signature: str | None = Field(
        description="the provider's EIP-712 MasterData signature over document_hash (docs/PROTOCOL.md §11)"
    )
    deadline: int | None = Field(description="the deadline (unix seconds) that signature covers")
    source: str = Field(description="api | epcis_capture")
    recorded_at: str
    verified: bool = Field(description="the stored element still hashes to element_hash")
    revisions: int = Field(description="statements about this key, by every provider")


class MasterDataPublished(BaseModel):
    document_hash: str
    provider: str
    new_statements: int
    records: list[MasterRecordPublic]

    @classmethod
    def of(cls, published: Published) -> MasterDataPublished:
        return cls(
            document_hash=published.document_hash,
            provider=published.provider,
            new_statements=published.new_statements,
            records=[MasterRecordPublic.model_validate(r) for r in published.records],
        )


class MasterDataLookupPublic(BaseModel):
    """Master data for each identifier asked (null where nobody provided any)."""

    items: dict[str, MasterRecordPublic | None]

    @classmethod
    def of(cls, found: dict[str, MasterRecord | None]) -> MasterDataLookupPublic:
        return cls(items={k: None if v is None else MasterRecordPublic.model_validate(v) for k, v in found.items()})
