"""Errors in domain words: contract errors name products, actors, rights and dates instead of raw
keys and numbers (the raw form stays available behind --verbose); suggestions by edit distance."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracechain import errors

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_TIME_ARGS = ("At", "deadline", "timestamp", "notBefore")
_RIGHT_ARGS = ("right", "granted", "used")
_ROLE_ARGS = ("role", "neededRole")
_KEY_ARGS = ("subjectKey",)

# One sentence per contract error, over its ABI argument names (a test keeps these in step with the
# artifacts). Errors not listed here are told by their docstring, with their arguments in domain words.
TEMPLATES: dict[str, str] = {
    "AccessControlUnauthorizedAccount": "{account} lacks the {neededRole} role",
    "ActorRegistryActorExists": "{account} is already a registered actor",
    "ActorRegistryActorNotSuspended": "{account} is not suspended",
    "ActorRegistryActorSuspended": "{account} is suspended and may not act",
    "ActorRegistryGovernanceLockout": "{account} may not suspend itself or give up its own governance role",
    "ActorRegistryMissingRole": "{account} does not hold the {role} role this needs",
    "ActorRegistryNotSelfOrGovernance": "{caller} may not update {account}: only the actor itself or governance may",
    "ActorRegistryUnknownActor": "{account} is not a registered actor",
    "DataRightsRegistryCertificateExpired": "certificate {certificateId} expired on {expiresAt}",
    "DataRightsRegistryCertificateNotYetValid": "certificate {certificateId} is valid only from {notBefore}",
    "DataRightsRegistryCertificateRevoked": "certificate {certificateId} was revoked on {revokedAt}",
    "DataRightsRegistryDatasetExists": "dataset {datasetId} is already registered",
    "DataRightsRegistryInvalidWindow": "the validity window from {notBefore} to {expiresAt} is empty or already over",
    "DataRightsRegistryNotGrantee": "{account} is not the grantee of certificate {certificateId}",
    "DataRightsRegistryNotHolder": "{account} does not hold dataset {datasetId}",
    "DataRightsRegistryNotRevoker": (
        "{account} may not revoke certificate {certificateId}: only its dataset's holder, governance or the grantee may"
    ),
    "DataRightsRegistryOpenCertificate": "the grantee already holds certificate {certificateId} for this right",
    "DataRightsRegistryRightNotGrantable": "the {right} right is not granted by certificate: it moves by transfer",
    "DataRightsRegistrySelfGrant": "{account} holds the dataset and cannot grant itself a certificate",
    "DataRightsRegistryUnknownCertificate": "no certificate {certificateId} exists",
    "DataRightsRegistryUnknownDataset": "no dataset {datasetId} is registered",
    "DataRightsRegistryWrongRight": "certificate {certificateId} grants the {granted} right, not the {used} right",
    "ERC2771ForwarderExpiredRequest": "the signed request expired on {deadline}",
    "ERC2771ForwarderInvalidSigner": "the request is not signed by {from}, or its nonce was already used",
    "NotaryBatchExists": "batch {root} is already anchored (block {blockNumber}, {timestamp})",
    "NotaryDuplicateParty": "{party} is named more than once",
    "NotaryInvalidSignature": "signature #{index} is not the co-signature of {party} over this record",
    "NotaryPartyCount": "a co-signed record needs 1 to {max} parties, not {count}",
    "NotaryRecordExists": "record {recordHash} is already notarized (block {blockNumber}, {timestamp})",
    "NotarySignatureCount": "{parties} parties named but {signatures} signatures given",
    "NotarySignaturesExpired": "the co-signatures expired on {deadline}",
    "ProvenanceRegistryAlreadyCustodian": "{account} already is the custodian of {subjectKey}",
    "ProvenanceRegistryEmptyBatch": "there is nothing to record: no items, or an event naming no identifier",
    "ProvenanceRegistryEmptyIdentifier": "an identifier to register is empty",
    "ProvenanceRegistryInvalidKind": "entry kind {kind} is not one this write takes",
    "ProvenanceRegistryNotCustodian": "{account} is not the custodian of {subjectKey}; {custodian} is",
    "ProvenanceRegistryNotRecaller": (
        "{account} may not recall {subjectKey}: only its originator (a manufacturer) or governance may"
    ),
    "ProvenanceRegistryNotSupplyChainActor": "{account} is not an active manufacturer, logistics or retail actor",
    "ProvenanceRegistryOpenSubject": "{subjectKey} is a lot or class: it has no custodian to hand over",
    "ProvenanceRegistrySubjectExists": "{subjectKey} is already registered",
    "ProvenanceRegistrySubjectRecalled": "{subjectKey} is recalled",
    "ProvenanceRegistryUnknownBizStep": "the contract does not know business step {bizStep}",
    "ProvenanceRegistryUnknownSubject": "no product or other identifier {subjectKey} is registered",
}

# Hints over the raw arguments (so the commands they show can be pasted as they are).
HINTS: dict[str, str] = {
    "ActorRegistryUnknownActor": "governance registers actors, with `tracechain actors register`",
    "ActorRegistryMissingRole": "see its roles with `tracechain actors show {account}`",
    "ProvenanceRegistryNotCustodian": (
        "the custodian records events and passes custody on (`tracechain product transfer`)"
    ),
    "DataRightsRegistryOpenCertificate": "revoke it (`tracechain rights revoke {certificateId}`) or let it expire",
}


@dataclass
class Names:
    """What a command knows that turns raw values into words: its runtime (for actor names) and
    the product IDs it works on (for product keys)."""

    runtime: Any | None = None
    subjects: list[str] = field(default_factory=list)
    _actors: dict[str, str] = field(default_factory=dict)

    def actor(self, address: str) -> str:
        """`Acme Dairy Co-op (0x7099…)`, or the bare address when no actor has it (or no chain answers)."""
        if address not in self._actors:
            name = None
            if self.runtime is not None:
                try:
                    actor = self.runtime.actors.get_actor(address)
                    name = actor.name if actor is not None else None
                except Exception:  # a name is a nicety: never let it hide the error being reported
                    name = None
            self._actors[address] = f"{name} ({address})" if name else address
        return self._actors[address]

    def subject(self, key: str) -> str:
        """The product ID whose key is `key`, if this command named it; else `the product with key …`."""
        for raw in self.subjects:
            try:
                from tracechain.epcis.identifiers import parse_product_id

                pid = parse_product_id(raw)
            except errors.TraceChainError:
                continue
            if "0x" + pid.key.hex() == key.lower():
                return str(pid)
        return f"the product with key {key}"


def humanise(name: str, value: Any, names: Names) -> str:
    """One contract-error argument in words: actors by name, keys by product ID, times as dates."""
    if isinstance(value, str) and _ADDRESS.fullmatch(value):
        return names.actor(value)
    if isinstance(value, str) and _BYTES32.fullmatch(value):
        if name in _KEY_ARGS:
            return names.subject(value)
        if name in _ROLE_ARGS:
            from tracechain.types import Role

            role = Role.from_id(bytes.fromhex(value[2:]))
            return role.value if role else value
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if name.endswith(_TIME_ARGS) or name in _TIME_ARGS:
            return _date(value)
        if name in _RIGHT_ARGS:
            from tracechain.chain.rights import Right

            return Right.from_index(value).value if 0 <= value < len(Right) else str(value)
        if name == "bizStep":
            from tracechain.chain.provenance import biz_step_name

            return biz_step_name(value)
    return str(value)


def _date(timestamp: int) -> str:
    if timestamp <= 0:
        return "the beginning"
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


def describe(
    exc: errors.TraceChainError, names: Names | None = None, prog: str = "tracechain"
) -> tuple[str, str | None]:
    """The message and hint to show for `exc`, in domain words (`prog` runs tracechain in hints)."""
    if not isinstance(exc, errors.ContractRevertError):
        return exc.message, exc.hint
    names = names or Names()
    words = {k: humanise(k, v, names) for k, v in exc.error_args.items()}
    template = TEMPLATES.get(exc.error_name)
    if template is not None:
        try:
            return template.format(**words), _hint(exc, prog)
        except (KeyError, IndexError):
            pass  # the ABI changed under the template: tell it the generic way
    doc = (type(exc).__doc__ or exc.error_name).strip().rstrip(".")
    if not words:
        return doc, _hint(exc, prog)
    shown = ", ".join(f"{_spaced(k)} {v}" for k, v in words.items())
    return f"{doc} ({shown})", _hint(exc, prog)


def _hint(exc: errors.ContractRevertError, prog: str) -> str | None:
    hint = HINTS.get(exc.error_name)
    if hint is None:
        return None
    try:
        text = hint.format(**{k: str(v) for k, v in exc.error_args.items()})
    except (KeyError, IndexError):
        return None
    return text.replace("`tracechain ", f"`{prog} ")


def _spaced(name: str) -> str:
    """certificateId -> certificate id."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def raw(exc: BaseException) -> str:
    """The error as the code saw it (for --verbose): contract errors with their raw arguments."""
    if isinstance(exc, errors.ContractRevertError):
        shown = ", ".join(f"{k}={v!s}" for k, v in exc.error_args.items())
        return f"{exc.error_name}({shown})"
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------- suggestions
def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def did_you_mean(value: str, choices: Iterable[str]) -> list[str]:
    """The choices nearest to `value` by edit distance (at most a third of its length away; ties all
    kept), or else those it begins (`ship` -> `shipping`)."""
    value = value.strip().lower()
    options = list(choices)
    limit = max(1, len(value) // 3)
    scored = sorted((edit_distance(value, c.lower()), c) for c in options)
    if scored and scored[0][0] <= limit:
        return [c for d, c in scored if d == scored[0][0]][:3]
    return sorted(c for c in options if len(value) >= 3 and c.lower().startswith(value))[:3]


def check_choice(what: str, value: str, choices: Iterable[str]) -> str:
    """`value` if it is one of `choices`.

    Raises:
        InvalidInputError: it is not; the message suggests the nearest choices.
    """
    options = sorted(choices)
    if value in options:
        return value
    close = did_you_mean(value, options)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else f"one of: {', '.join(options)}"
    raise errors.InvalidInputError(f"{what} {value!r} is unknown", hint=hint)
