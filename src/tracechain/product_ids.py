"""Product identifiers: GS1 Digital Link, EPC SGTIN URNs and opaque IDs, normalised to one canonical string.

Accepted forms (`parse_product_id`):

* GS1 Digital Link URIs on any host, e.g. ``https://id.example.com/01/09506000134352/21/ABC123``. A custom
  path prefix before ``/01/`` is allowed; query string and fragment are ignored. After the GTIN the path
  may hold the key qualifiers CPV (22), lot (10) and serial (21), in that order; the short names ``gtin``,
  ``cpv``, ``lot`` and ``ser`` are accepted too. The serial is required (an item, not a product class).
  CPV and lot are validated and then dropped, as GS1's own normaliser does: GTIN + serial is the key.
* Bare Digital Link paths, e.g. ``/01/09506000134352/21/ABC123``.
* EPC pure-identity SGTIN URNs, e.g. ``urn:epc:id:sgtin:0614141.812345.6789`` (converted with epcpy).
* Opaque IDs, e.g. ``SKU-2024-000123``: 1-128 characters from letters, digits and ``- . _ : /``,
  starting with a letter or digit. Opaque IDs are case-sensitive. A string that looks like a GS1 form
  (``urn:epc:...``, ``http(s)://...``, a leading ``/`` or ``01/``, or containing ``/01/``) but does not
  parse is an error, never an opaque ID.

Canonical strings (no hostname is ever part of one):

* GS1 items: ``01/{gtin14}/21/{serial}`` - the host-less Digital Link path without its leading slash,
  the GTIN padded to 14 digits and the serial percent-encoded (every character except ``A-Z a-z 0-9 - . _``,
  uppercase hex).
* Opaque IDs: ``opaque:{id}``.

`parse_product_id` accepts its own canonical strings, so ``parse_product_id(p.canonical) == p``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from epcpy.epc_schemes.sgtin import SGTIN
from epcpy.utils.common import ConvertException, revert_uri_escapes

from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text

OPAQUE_MAX_LENGTH = 128
SERIAL_MAX_LENGTH = 20
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
GS1_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")

_OPAQUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
_SGTIN_PREFIX = "urn:epc:id:sgtin:"
_GTIN_LENGTHS = (8, 12, 13, 14)
# Key qualifiers of AI 01 in Digital Link paths, in their required order; short names map to AIs.
_QUALIFIER_ORDER = ("22", "10", "21")
_SHORT_NAMES = {"gtin": "01", "cpv": "22", "lot": "10", "ser": "21"}
_AI_NAMES = {"22": "CPV", "10": "lot", "21": "serial"}


@dataclass(frozen=True)
class ProductId:
    """A parsed product identifier; build it with `parse_product_id`.

    `company_prefix_length` is known only when parsed from an EPC URN (a GTIN alone does not tell
    where the GS1 Company Prefix ends); it is needed for `epc_urn` and is ignored by equality.
    """

    canonical: str
    kind: Literal["gs1", "opaque"]
    gtin: str | None = None
    serial: str | None = None
    company_prefix_length: int | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.canonical

    @property
    def key(self) -> bytes:
        """keccak256(utf8(canonical)): the 32-byte key the chain uses for this product."""
        return keccak_text(self.canonical)

    @property
    def digital_link_path(self) -> str | None:
        """``/01/{gtin14}/21/{serial}`` (serial percent-encoded), or None for opaque IDs."""
        if self.kind != "gs1" or self.gtin is None or self.serial is None:
            return None
        return f"/01/{self.gtin}/21/{_encode_serial(self.serial)}"

    @property
    def epc_urn(self) -> str | None:
        """The EPC SGTIN pure-identity URN, or None for opaque IDs or an unknown company prefix length."""
        if self.kind != "gs1" or self.gtin is None or self.serial is None:
            return None
        if self.company_prefix_length is None:
            return None
        # epcpy's SGTIN.from_gtin_plus_serial layout, minus its buggy serial check (see _parse_epc_urn).
        cpl, gtin, serial = self.company_prefix_length, self.gtin, revert_uri_escapes(self.serial)
        return f"{_SGTIN_PREFIX}{gtin[1 : 1 + cpl]}.{gtin[0]}{gtin[1 + cpl : 13]}.{serial}"


# ---------------------------------------------------------------- GTIN
def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for a GTIN (or other GS1 key) without its check digit."""
    if not isinstance(body, str) or not body.isascii() or not body.isdigit():
        raise InvalidInputError(f"GTIN body must be digits, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(gtin: str) -> bool:
    """True for a GTIN-8/12/13/14 of digits with a correct check digit."""
    if not isinstance(gtin, str) or len(gtin) not in _GTIN_LENGTHS:
        return False
    if not gtin.isascii() or not gtin.isdigit():
        return False
    return gtin_check_digit(gtin[:-1]) == int(gtin[-1])


def _normalise_gtin(gtin: str) -> str:
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in _GTIN_LENGTHS:
        raise InvalidInputError(
            f"invalid GTIN {gtin!r}", hint="a GTIN is 8, 12, 13 or 14 digits including the check digit"
        )
    expected = gtin_check_digit(gtin[:-1])
    if expected != int(gtin[-1]):
        raise InvalidInputError(
            f"invalid GTIN check digit in {gtin}: expected {expected}, got {gtin[-1]}",
            hint=f"did you mean {gtin[:-1]}{expected}?",
        )
    return gtin.zfill(14)


# ---------------------------------------------------------------- serial
def _check_cset82(value: str, what: str) -> str:
    if not 1 <= len(value) <= SERIAL_MAX_LENGTH:
        raise InvalidInputError(f"{what} must be 1-{SERIAL_MAX_LENGTH} characters: {value!r}")
    bad = sorted(set(value) - GS1_CSET82)
    if bad:
        raise InvalidInputError(
            f"{what} {value!r} has characters outside GS1 character set 82: {''.join(bad)!r}",
            hint="allowed: letters, digits and !\"%&'()*+,-./:;<=>?_",
        )
    return value


def _encode_serial(serial: str) -> str:
    return quote(serial, safe="")


def _gs1(gtin14: str, serial: str, company_prefix_length: int | None = None) -> ProductId:
    return ProductId(
        canonical=f"01/{gtin14}/21/{_encode_serial(serial)}",
        kind="gs1",
        gtin=gtin14,
        serial=serial,
        company_prefix_length=company_prefix_length,
    )


# ---------------------------------------------------------------- parsers
def _parse_epc_urn(raw: str) -> ProductId:
    if not raw.lower().startswith(_SGTIN_PREFIX):
        raise InvalidInputError(
            f"unsupported EPC URN {raw!r}",
            hint="only SGTIN pure-identity URNs (urn:epc:id:sgtin:...) identify products",
        )
    urn = _SGTIN_PREFIX + raw[len(_SGTIN_PREFIX) :]
    try:
        sgtin = SGTIN(urn)
        gtin = str(sgtin.gtin())
        element_string = str(sgtin.gs1_element_string())  # "(01){gtin14}(21){serial}", escapes decoded
    except (ConvertException, ValueError) as exc:
        # epcpy 0.1.8 mis-decodes %2F/%3C/%3E/%3F followed by more characters at the start of the serial
        # (or right after %22/%25/%26): it rejects such valid URNs (ConvertException) or crashes (ValueError).
        reason = exc.message if isinstance(exc, ConvertException) else ""
        raise InvalidInputError(
            f"invalid SGTIN URN {raw!r}: {reason or 'serial has invalid characters or escapes'}",
            hint="expected urn:epc:id:sgtin:<CompanyPrefix>.<IndicatorAndItemRef>.<Serial>, 13 digits in all",
        ) from exc
    serial = element_string[len("(01)") + 14 + len("(21)") :]
    company_prefix_length = len(urn[len(_SGTIN_PREFIX) :].split(".", 1)[0])
    return _gs1(gtin, _check_cset82(serial, "serial"), company_prefix_length)


def _parse_digital_link(raw: str) -> ProductId:
    if raw.lower().startswith(("http://", "https://")):
        parts = urlsplit(raw)
        if not parts.netloc:
            raise InvalidInputError(f"Digital Link URI has no host: {raw!r}")
        path = parts.path
    else:
        path = re.split(r"[?#]", raw, maxsplit=1)[0]
        if not path.startswith("/"):
            path = "/" + path
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()  # one trailing slash
    hint = "expected .../01/{GTIN}[/22/{CPV}][/10/{lot}]/21/{serial}"
    start = next((i for i, s in enumerate(segments) if _SHORT_NAMES.get(s, s) == "01"), None)
    if start is None:
        raise InvalidInputError(f"no GTIN (AI 01) in Digital Link {raw!r}", hint=hint)
    pairs = segments[start:]
    if "" in segments or len(pairs) % 2:
        raise InvalidInputError(f"malformed Digital Link path in {raw!r}", hint=hint)
    gtin14 = _normalise_gtin(pairs[1])
    values: dict[str, str] = {}
    last = -1
    for i in range(2, len(pairs), 2):
        ai = _SHORT_NAMES.get(pairs[i], pairs[i])
        if ai not in _QUALIFIER_ORDER:
            raise InvalidInputError(f"unexpected AI {pairs[i]!r} after the GTIN in {raw!r}", hint=hint)
        if _QUALIFIER_ORDER.index(ai) <= last:
            raise InvalidInputError(f"AI {ai} repeated or out of order in {raw!r}", hint=hint)
        last = _QUALIFIER_ORDER.index(ai)
        try:
            decoded = unquote(pairs[i + 1], errors="strict")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"invalid percent-encoding in {raw!r}") from exc
        values[ai] = _check_cset82(decoded, _AI_NAMES[ai])
    if "21" not in values:
        raise InvalidInputError(
            f"Digital Link {raw!r} has no serial (AI 21)",
            hint="TraceChain tracks serialised items: add /21/{serial}",
        )
    return _gs1(gtin14, values["21"])


def _looks_like_gs1(raw: str) -> bool:
    return raw.startswith(("/", "01/", "gtin/")) or "/01/" in raw or "/gtin/" in raw


def _parse_opaque(raw: str) -> ProductId:
    if len(raw) > OPAQUE_MAX_LENGTH:
        raise InvalidInputError(f"opaque product ID longer than {OPAQUE_MAX_LENGTH} characters")
    if not _OPAQUE.fullmatch(raw):
        raise InvalidInputError(
            f"invalid product ID {raw!r}",
            hint="opaque IDs use letters, digits and - . _ : / and start with a letter or digit",
        )
    return ProductId(canonical=f"opaque:{raw}", kind="opaque")


def parse_product_id(raw: str) -> ProductId:
    """Parse any accepted product ID form (see module docs) into its canonical ProductId."""
    if not isinstance(raw, str):
        raise InvalidInputError(f"product ID must be a string, got {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise InvalidInputError("product ID is empty")
    if any(c.isspace() for c in text):
        raise InvalidInputError(f"product ID contains whitespace: {raw!r}")
    lower = text.lower()
    if lower.startswith("urn:epc:"):
        return _parse_epc_urn(text)
    if lower.startswith(("http://", "https://")) or _looks_like_gs1(text):
        return _parse_digital_link(text)
    if "://" in text:
        raise InvalidInputError(
            f"unsupported URI {raw!r}", hint="only http(s) GS1 Digital Link URIs are product IDs"
        )
    if text.startswith("opaque:"):
        body = text[len("opaque:") :]
        if _looks_like_gs1(body) or "://" in body or body.lower().startswith("urn:epc:"):
            raise InvalidInputError(f"opaque ID {body!r} looks like a GS1 identifier or URL")
        return _parse_opaque(body)
    return _parse_opaque(text)
