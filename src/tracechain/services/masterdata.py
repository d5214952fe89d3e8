"""Master data: what a product class (GTIN) or a location (GLN, SGLN) is — names in several
languages, brand, image, net content, allergens; addresses and coordinates — as EPCIS 2.0
vocabularies (`epcisHeader.epcisMasterData.vocabularyList`), attributed to the actor who provided
them.

Master data stays off-chain. Each vocabulary element is normalised into a small document kept in
the document store under its RFC 8785 keccak hash, and each statement records that hash, the hash of
the whole document it came in and, for `POST /v1/masterdata`, the provider's EIP-712 signature over
that document hash — enough to attribute every fact to an actor in good standing and to notice any
later change, without a transaction per revision (master data is descriptive and revised over time;
what must be provable about one item — lot, dates, inspection, temperatures — travels in its EPCIS
events, which are on-chain). A provider who wants a revision time-stamped on-chain notarizes the
document hash like any record (kind `masterdata`).

Readers get, per identifier, the statement of a preferred provider (the product's originator) when
there is one, else the newest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount

from tracechain import errors
from tracechain.epcis.identifiers import Identifier, is_valid_gtin, parse_identifier
from tracechain.hashing import document_hash, parse_bytes32, to_hex
from tracechain.services.runtime import Runtime
from tracechain.store import masterdata as table
from tracechain.types import iso_utc, to_address

KIND = "masterdata"
DOMAIN_NAME = "TraceChain master data"
DOMAIN_VERSION = "1"
MAX_ELEMENTS = 10_000
SIGNED_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "MasterData": [{"name": "documentHash", "type": "bytes32"}, {"name": "deadline", "type": "uint256"}],
}

# Vocabulary types (last segment of the URN or URI) and what they describe.
_VOCABULARY_KINDS = {"EPCClass": "product", "BusinessLocation": "location", "ReadPoint": "location"}
# CBV 2.0 master data attributes (and common GS1 Web Vocabulary names) of a trade item, by the field
# the page shows them in. Any other attribute is kept under its own term.
_PRODUCT_FIELDS = {
    "name": ("descriptionShort", "tradeItemDescription", "regulatedProductName", "functionalName", "productName",
             "name"),
    "brand": ("brandName", "brand"),
    "image": ("image", "imageURL", "productImage", "referencedFileURL"),
    "netContent": ("netContentDescription", "netContent", "netWeight"),
    "allergens": ("allergenStatement", "allergens"),
    "ingredients": ("ingredientStatement", "ingredients"),
    "countryOfOrigin": ("countryOfOrigin", "tradeItemCountryOfOrigin"),
    "manufacturer": ("manufacturerOfTradeItemPartyName", "manufacturer"),
    "storage": ("consumerStorageInstructions", "storageInstructions", "storage"),
    "category": ("category", "gpcCategoryDescription"),
    "description": ("description", "labelDescription", "tradeItemMarketingMessage"),
}  # fmt: skip
_LOCATION_FIELDS = {
    "name": ("name", "locationName"),
    "streetAddressOne": ("streetAddressOne", "streetAddress"),
    "streetAddressTwo": ("streetAddressTwo",),
    "city": ("city", "addressLocality"),
    "state": ("state", "addressRegion"),
    "postalCode": ("postalCode",),
    "countryCode": ("countryCode", "addressCountry"),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "type": ("sst", "locationType"),
}
_ALIASES = {
    "product": {alias: field for field, names in _PRODUCT_FIELDS.items() for alias in names},
    "location": {alias: field for field, names in _LOCATION_FIELDS.items() for alias in names},
}
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*")
_DIGITS = re.compile(r"\d+")


# ---------------------------------------------------------------- identifiers
def _identifier(raw: str) -> Identifier | None:
    try:
        return parse_identifier(raw.strip(), any_uri=True)
    except (errors.InvalidInputError, AttributeError):
        return None


def product_key(raw: str) -> str | None:
    """The GTIN-14 a product identifier names — a GTIN, an SGTIN or LGTIN URN, an SGTIN pattern, a
    Digital Link URI or path (`/01/{gtin}/...`), or a canonical `01/{gtin}/21/{serial}` — or None."""
    value = raw.strip() if isinstance(raw, str) else ""
    if _DIGITS.fullmatch(value) and len(value) in (8, 12, 13, 14):
        return value.zfill(14) if is_valid_gtin(value.zfill(14)) else None
    ident = _identifier(value)
    return ident.gtin if ident is not None and ident.gtin and ident.scheme in ("sgtin", "lgtin", "gtin") else None


def location_key(raw: str) -> str | None:
    """`414/{gln}` or `414/{gln}/254/{extension}` (the canonical identifier) for a location — an SGLN
    URN, a GLN, or a Digital Link URI or path (`/414/{gln}[/254/{ext}]`) — or None."""
    value = raw.strip() if isinstance(raw, str) else ""
    if _DIGITS.fullmatch(value) and len(value) == 13:
        return f"414/{value}" if is_valid_gtin(value.zfill(14)) else None
    ident = _identifier(value)
    return ident.canonical if ident is not None and ident.scheme == "sgln" else None


def key_of(raw: str) -> tuple[str, str] | None:
    """(kind, key) of an identifier, or None when it names neither a product class nor a location."""
    product = product_key(raw)
    if product is not None:
        return "product", product
    location = location_key(raw)
    return ("location", location) if location is not None else None


# ---------------------------------------------------------------- normalisation
def _term(attribute_id: str) -> str:
    """The attribute's term without its vocabulary: `urn:epcglobal:cbv:mda#name`, `cbvmda:name`,
    `https://ref.gs1.org/cbv/...#name` and `name` are all `name`."""
    return re.split(r"[#:/]", attribute_id.rstrip("/#"))[-1]


def _value(value: Any) -> Any:
    """A plain value, or a {language: text} map for JSON-LD language-tagged strings."""
    if isinstance(value, dict) and "@value" in value:
        language = value.get("@language")
        return {str(language): value["@value"]} if isinstance(language, str) else value["@value"]
    if isinstance(value, list) and value and all(isinstance(v, dict) and "@language" in v for v in value):
        return {str(v["@language"]): v.get("@value") for v in value}
    return value


def _merge(previous: Any, value: Any) -> Any:
    """Two values of one attribute: language maps merge, anything else becomes a list."""
    if isinstance(previous, dict) and isinstance(value, dict) and all(map(_LANGUAGE.fullmatch, [*previous, *value])):
        return {**previous, **value}
    if isinstance(previous, str) and isinstance(value, dict) and all(map(_LANGUAGE.fullmatch, value)):
        return {"und": previous, **value}
    return [*previous, value] if isinstance(previous, list) else [previous, value]


def normalise_attributes(kind: str, attributes: list[Any]) -> dict[str, Any]:
    """EPCIS `attributes` ([{id, attribute}]) as {field: value}, known CBV terms under the field the
    page shows them in, language-tagged strings as {language: text} maps.

    Raises:
        InvalidInputError: an attribute without an id.
    """
    aliases = _ALIASES[kind]
    result: dict[str, Any] = {}
    for i, attribute in enumerate(attributes):
        if not isinstance(attribute, dict) or not isinstance(attribute.get("id"), str) or not attribute["id"]:
            raise errors.InvalidInputError(f"attributes[{i}] needs an id", hint='{"id": "cbvmda:name", "attribute": …}')
        term = _term(attribute["id"])
        field = aliases.get(term, term)
        value = _value(attribute.get("attribute"))
        result[field] = _merge(result[field], value) if field in result else value
    return result


@dataclass(frozen=True)
class Element:
    """One vocabulary element, normalised: what it is (`kind`, `key`), as named (`id`), and its facts."""

    kind: str  # "product" | "location"
    key: str
    id: str
    attributes: dict[str, Any]

    def document(self) -> dict[str, Any]:
        """The document kept in the store and hashed (`element_hash`)."""
        return {"type": "masterdata/v1", "kind": self.kind, "key": self.key, "id": self.id,
                "attributes": self.attributes}  # fmt: skip


def _vocabularies(document: Any) -> list[Any]:
    if isinstance(document, dict) and isinstance(document.get("vocabularyList"), list):
        return list(document["vocabularyList"])
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise errors.InvalidInputError(
            "master data must be an EPCIS 2.0 document with epcisHeader.epcisMasterData.vocabularyList, "
            "or {vocabularyList: [...]}"
        )
    lists: list[Any] = []
    header = document.get("epcisHeader")
    if isinstance(header, dict) and isinstance(header.get("epcisMasterData"), dict):
        lists += header["epcisMasterData"].get("vocabularyList") or []
    body = document.get("epcisBody")
    if isinstance(body, dict) and isinstance(body.get("vocabularyList"), list):  # EPCISMasterDataDocument
        lists += body["vocabularyList"]
    return lists


def elements_of(document: Any) -> list[Element]:
    """The product-class and location elements of an EPCIS document's master data (other
    vocabularies, and elements whose id is no GTIN or GLN, are left out).

    Raises:
        InvalidInputError: not an EPCIS document or vocabulary list, a malformed vocabulary or
            element, or more than MAX_ELEMENTS elements.
    """
    elements: list[Element] = []
    for i, vocabulary in enumerate(_vocabularies(document)):
        if not isinstance(vocabulary, dict) or not isinstance(vocabulary.get("type"), str):
            raise errors.InvalidInputError(f"vocabularyList[{i}] needs a type")
        kind = _VOCABULARY_KINDS.get(re.split(r"[:/#]", vocabulary["type"])[-1])
        items = vocabulary.get("vocabularyElementList") or []
        if not isinstance(items, list):
            raise errors.InvalidInputError(f"vocabularyList[{i}].vocabularyElementList must be a list")
        for j, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise errors.InvalidInputError(f"vocabularyList[{i}].vocabularyElementList[{j}] needs an id")
            if kind is None:
                continue
            key = product_key(item["id"]) if kind == "product" else location_key(item["id"])
            if key is None:
                continue
            try:
                attributes = normalise_attributes(kind, item.get("attributes") or [])
            except errors.InvalidInputError as exc:
                raise errors.InvalidInputError(
                    f"vocabularyList[{i}].vocabularyElementList[{j}].{exc.message}", hint=exc.hint
                ) from exc
            elements.append(Element(kind, key, item["id"], attributes))
            if len(elements) > MAX_ELEMENTS:
                raise errors.InvalidInputError(f"more than {MAX_ELEMENTS} master data elements in one document")
    return elements


# ---------------------------------------------------------------- answers
@dataclass(frozen=True)
class MasterRecord:
    """What the page shows for one identifier: the chosen statement and its facts."""

    kind: str
    key: str
    id: str
    attributes: dict[str, Any]
    provider: str
    provider_name: str | None
    element_hash: str
    document_hash: str
    signed: bool
    signature: str | None  # the provider's EIP-712 signature over document_hash, and its deadline
    deadline: int | None
    source: str
    recorded_at: str
    verified: bool  # the stored element still hashes to the statement's element_hash
    revisions: int  # statements about this key, by anyone


@dataclass(frozen=True)
class Published:
    """What one master data document recorded."""

    document_hash: str
    provider: str
    records: tuple[MasterRecord, ...]
    new_statements: int


class MasterDataService:
    """Records and reads master data for one Runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.store = runtime.store

    # ---------------------------------------------------------------- signatures
    def typed_data(self, document_hash_hex: str, deadline: int) -> dict[str, Any]:
        """The EIP-712 message a provider signs for `document_hash_hex`: domain {name: DOMAIN_NAME,
        version: DOMAIN_VERSION, chainId, verifyingContract: the deployment's ActorRegistry (which
        says who may provide)}, MasterData(bytes32 documentHash, uint256 deadline)."""
        return {
            "types": SIGNED_TYPES,
            "primaryType": "MasterData",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.runtime.chain.chain_id,
                "verifyingContract": self.runtime.deployment.address("ActorRegistry"),
            },
            "message": {"documentHash": to_hex(parse_bytes32(document_hash_hex)), "deadline": int(deadline)},
        }

    def sign(self, account: LocalAccount, document: Any, deadline: int) -> str:
        """`account`'s signature over `document` (for the demo, tests and scripts holding a key)."""
        message = encode_typed_data(full_message=self.typed_data(to_hex(document_hash(document)), deadline))
        return "0x" + account.sign_message(message).signature.hex().removeprefix("0x")

    def chain_time(self) -> int:
        return int(self.runtime.chain.w3.eth.get_block("latest")["timestamp"])

    def _check_signature(self, digest: str, signer: str, deadline: int, signature: str) -> str:
        signer = to_address(signer)
        now = self.chain_time()
        if deadline < now:
            raise errors.MasterDataSignatureError(f"the signature expired at {deadline} (chain time {now})")
        try:
            message = encode_typed_data(full_message=self.typed_data(digest, deadline))
            recovered = Account.recover_message(message, signature=bytes.fromhex(signature.removeprefix("0x")))
        except Exception as exc:  # malformed signatures do not recover
            raise errors.MasterDataSignatureError(f"the signature does not recover: {exc}") from None
        if to_address(recovered) != signer:
            raise errors.MasterDataSignatureError(
                f"the signature is {recovered}'s, not {signer}'s",
                hint="sign the EIP-712 MasterData(documentHash, deadline) message POST /v1/masterdata/requests returns",
            )
        actor = self.runtime.actors.get_actor(signer)
        if actor is None:
            raise errors.ActorRegistryUnknownActor({"account": signer})
        if actor.suspended:
            raise errors.ActorRegistryActorSuspended({"account": signer})
        return signer

    # ---------------------------------------------------------------- writes
    def publish(self, document: Any, signer: str, deadline: int, signature: str) -> Published:
        """Record the master data of `document`, signed by `signer` (a registered actor in good
        standing) over its canonical hash.

        Raises:
            InvalidInputError: not EPCIS master data, or no product or location element in it.
            MasterDataSignatureError: expired, malformed or not the signer's signature.
            ActorRegistryUnknownActor / ActorRegistryActorSuspended: the signer may not act.
        """
        elements = elements_of(document)
        if not elements:
            raise errors.InvalidInputError("the document holds no product (EPCClass) or location master data")
        digest = to_hex(document_hash(document))
        provider = self._check_signature(digest, signer, deadline, signature)
        return self._record(document, elements, provider, (signature, deadline), "api")

    def capture(self, document: Any, provider: str) -> Published | None:
        """Record the master data in the header of an EPCIS document captured from `provider` (who
        signed its events; the header itself is not signed). None when it has none.

        Raises:
            InvalidInputError: malformed master data.
        """
        elements = elements_of(document)
        if not elements:
            return None
        return self._record(document, elements, to_address(provider), None, "epcis_capture")

    def _record(
        self, document: Any, elements: list[Element], provider: str, signed: tuple[str, int] | None, source: str
    ) -> Published:
        digest = self.store.put_document(document)
        signature, deadline = signed if signed is not None else (None, None)
        statements = [
            table.Statement(
                e.kind, e.key, provider, self.store.put_document(e.document()), digest, signature, deadline, source
            )
            for e in elements
        ]
        with self.store.session() as s:
            added = table.record(s, statements)
        found = self.lookup([e.id for e in elements], prefer=[provider])
        records = tuple(r for r in found.values() if r is not None)
        return Published(document_hash=digest, provider=provider, records=records, new_statements=added)

    # ---------------------------------------------------------------- reads
    def lookup(self, ids: list[str], prefer: list[str] | None = None) -> dict[str, MasterRecord | None]:
        """Master data for each identifier (a GTIN, any product ID naming one, a GLN or SGLN):
        the statement of the first of `prefer` that made one, else the newest; None if none."""
        keys = {raw: key_of(raw) for raw in ids}
        preferred = [to_address(p) for p in prefer or []]
        wanted: dict[str, list[str]] = {}
        for found in keys.values():
            if found is not None:
                wanted.setdefault(found[0], []).append(found[1])
        rows: dict[tuple[str, str], list[table.MasterDataRow]] = {}
        self.runtime.refresh()  # providers' names come from the actor index
        with self.store.session() as s:
            for kind, kind_keys in wanted.items():
                for row in table.statements_of(s, kind, sorted(set(kind_keys))):
                    rows.setdefault((row.kind, row.key), []).append(row)
            s.expunge_all()
        names = self.store.actor_names(sorted({r.provider for rs in rows.values() for r in rs}))
        answer: dict[str, MasterRecord | None] = {}
        for raw, found in keys.items():
            statements = rows.get(found) if found is not None else None
            if not statements:
                answer[raw] = None
                continue
            chosen = next((r for p in preferred for r in statements if r.provider == p), statements[0])
            answer[raw] = self._record_of(chosen, len(statements), names)
        return answer

    def get(self, kind: str, raw: str) -> MasterRecord:
        """The master data of one product class or location.

        Raises:
            InvalidInputError: `raw` names no product class (GTIN) or location (GLN).
            MasterDataNotFoundError: nobody provided any.
        """
        found = key_of(raw)
        if found is None or found[0] != kind:
            what = "a GTIN (or a product ID holding one)" if kind == "product" else "a GLN or SGLN"
            raise errors.InvalidInputError(f"{raw!r} is not {what}")
        record = self.lookup([raw])[raw]
        if record is None:
            raise errors.MasterDataNotFoundError(f"no master data for {kind} {found[1]}")
        return record

    def document(self, document_hash_hex: str) -> Any:
        """The master data document some statement came in, as stored (the one its provider signed).

        Raises:
            DocumentNotFoundError: no statement came in a document with this hash.
        """
        digest = to_hex(parse_bytes32(document_hash_hex))
        with self.store.session() as s:
            known = table.came_in(s, digest)
        document = self.store.get_document(digest) if known else None
        if document is None:
            raise errors.DocumentNotFoundError(f"no master data came in a document with hash {digest}")
        return document

    def _record_of(self, row: table.MasterDataRow, revisions: int, names: dict[str, str]) -> MasterRecord:
        element = self.store.get_document(row.element_hash)
        verified = element is not None and to_hex(document_hash(element)) == row.element_hash
        body = element if isinstance(element, dict) else {}
        return MasterRecord(
            kind=row.kind,
            key=row.key,
            id=str(body.get("id", row.key)),
            attributes=dict(body.get("attributes") or {}),
            provider=row.provider,
            provider_name=names.get(row.provider),
            element_hash=row.element_hash,
            document_hash=row.document_hash,
            signed=row.signature is not None,
            signature=row.signature,
            deadline=row.deadline,
            source=row.source,
            recorded_at=iso_utc(int(_aware(row.recorded_at).timestamp())),
            verified=verified,
            revisions=revisions,
        )


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
