"""Identifiers of traceable things: GS1 keys as EPC URNs or Digital Link URIs, and opaque IDs, each
normalised to one canonical string.

Accepted forms (`parse_identifier`, `parse_product_id`):

* GS1 Digital Link URIs on any host, with an optional custom path prefix before the primary key; query
  string and fragment are ignored; short names (``gtin``, ``lot``, ``ser``, ``sscc``, ``gln``, ...) are
  accepted. Bare Digital Link paths (``/01/...``, ``01/...``, ``00/...``) too.
* EPC URNs (TDS 2.0): pure identities ``urn:epc:id:{sgtin,sscc,sgln,pgln,grai,giai,gsrn,gsrnp,gdti,ginc,
  gsin,sgcn,cpi,itip,upui}:...``, the lot class ``urn:epc:class:lgtin:...`` and the patterns
  ``urn:epc:idpat:{sgtin,grai,gdti,sgcn,cpi,itip,upui}:...*`` (a class of things).
* Opaque IDs, e.g. ``SKU-2024-000123``: 1-128 characters from letters, digits and ``- . _ : /``, starting
  with a letter or digit; case-sensitive. A string that looks like a GS1 form but does not parse is an
  error, never an opaque ID.
* With ``any_uri=True`` (identifiers named in EPCIS events) also any other absolute URI that is not a GS1
  form, e.g. ``https://example.com/asset/7`` or ``urn:epc:id:bic:...``, as an opaque ID.

Canonical strings (no hostname is ever part of one): the host-less Digital Link path without its leading
slash, keeping only the most specific level (a serial drops the lot, CPV is dropped) -
``01/{gtin14}/21/{serial}``, ``01/{gtin14}/10/{lot}``, ``01/{gtin14}``, ``00/{sscc}``,
``414/{gln}[/254/{ext}]``, ``8003/{grai}``, ``8004/{giai}``, ... - with alphanumeric values percent-encoded
(every character except ``A-Z a-z 0-9 - . _``, uppercase hex); ``opaque:{id}`` for opaque IDs. Check digits
of GS1 keys are validated (Digital Link) or computed (EPC URNs carry none). `parse_identifier` accepts its
own canonical strings, so ``parse_identifier(i.canonical) == i``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from tracechain.errors import InvalidInputError
from tracechain.hashing import keccak_text

OPAQUE_MAX_LENGTH = 128
URI_MAX_LENGTH = 512
SERIAL_MAX_LENGTH = 20
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
GS1_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
# GS1 AI encodable character set 39 (component/part references).
GS1_CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

Category = Literal[
    "item", "lot", "class", "logistic_unit", "location", "party", "asset", "service", "document", "opaque"
]
# Categories of things a single party holds at a time (custody makes sense for them).
_INSTANCE_CATEGORIES = frozenset({"item", "logistic_unit", "asset", "service", "document", "opaque"})


@dataclass(frozen=True)
class Identifier:
    """A parsed identifier; build it with `parse_identifier` (or `parse_product_id`).

    `kind` is "gs1" or "opaque"; `scheme` names the GS1 scheme (sgtin, lgtin, gtin, sscc, sgln, pgln,
    grai, giai, gsrn, gsrnp, gdti, ginc, gsin, sgcn, cpi, itip, upui) or "opaque". `company_prefix_length`
    is known only when parsed from an EPC URN (a GS1 key alone does not tell where the company prefix
    ends); it is needed for `epc_urn` and is ignored by equality.
    """

    canonical: str
    kind: Literal["gs1", "opaque"]
    gtin: str | None = None
    serial: str | None = None
    company_prefix_length: int | None = field(default=None, compare=False, repr=False)
    lot: str | None = None

    def __str__(self) -> str:
        return self.canonical

    @cached_property
    def _parts(self) -> tuple[tuple[str, str], ...]:
        """(AI, decoded value) pairs of the canonical path; () for opaque IDs."""
        if self.kind != "gs1":
            return ()
        segments = self.canonical.split("/")
        return tuple((segments[i], unquote(segments[i + 1])) for i in range(0, len(segments), 2))

    @property
    def key(self) -> bytes:
        """keccak256(utf8(canonical)): the 32-byte key the chain uses for this identifier."""
        return keccak_text(self.canonical)

    @cached_property
    def scheme(self) -> str:
        """The GS1 scheme name (e.g. 'sgtin', 'sscc', 'sgln') or 'opaque'."""
        if self.kind != "gs1":
            return "opaque"
        ais = tuple(ai for ai, _ in self._parts)
        primary = ais[0]
        if primary == "01":
            second = ais[1] if len(ais) > 1 else ""
            return {"21": "sgtin", "10": "lgtin", "235": "upui"}.get(second, "gtin")
        if primary == "8006":
            return "itip"
        return _SCHEME_OF_AI[primary]

    @cached_property
    def category(self) -> Category:
        """What the identifier names: item, lot, class, logistic_unit, location, party, asset, service,
        document or opaque."""
        scheme, ais = self.scheme, tuple(ai for ai, _ in self._parts)
        if scheme in ("sgtin", "upui") or (scheme in ("itip", "cpi") and ais[-1] in ("21", "8011")):
            return "item"
        if scheme == "lgtin" or (scheme == "itip" and ais[-1] == "10"):
            return "lot"
        if scheme in ("grai", "gdti", "sgcn"):
            has_serial = self.serial is not None
            if not has_serial:
                return "class"
            return "asset" if scheme == "grai" else "document"
        fixed: dict[str, Category] = {
            "sscc": "logistic_unit",
            "ginc": "logistic_unit",
            "gsin": "logistic_unit",
            "sgln": "location",
            "pgln": "party",
            "giai": "asset",
            "gsrn": "service",
            "gsrnp": "service",
            "opaque": "opaque",
        }
        return fixed.get(scheme, "class")

    @property
    def instance_level(self) -> bool:
        """True for a serialised thing one party holds (item, logistic unit, serialised asset, opaque);
        False for lots, classes, locations and parties."""
        return self.category in _INSTANCE_CATEGORIES

    @property
    def digital_link_path(self) -> str | None:
        """The host-less Digital Link path (``/01/{gtin14}/21/{serial}``), or None for opaque IDs."""
        return None if self.kind != "gs1" else "/" + self.canonical

    def digital_link(self, base: str = "https://id.gs1.org") -> str | None:
        """The Digital Link URI on `base`, or None for opaque IDs."""
        return None if self.kind != "gs1" else base.rstrip("/") + "/" + self.canonical

    @property
    def ai_values(self) -> dict[str, str]:
        """The GS1 Application Identifiers of the canonical form and their decoded values
        (e.g. ``{'414': '0614141000418', '254': '1'}``); empty for opaque IDs."""
        return dict(self._parts)

    @property
    def epc_urn(self) -> str | None:
        """The EPC URN (pure identity, class or pattern), or None for opaque IDs or when the company
        prefix length is unknown."""
        if self.kind != "gs1" or self.company_prefix_length is None:
            return None
        return _epc_urn(self, self.company_prefix_length)


ProductId = Identifier  # the name the provenance services know it by


# ---------------------------------------------------------------- check digits
def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for a GTIN (or other GS1 key) without its check digit."""
    if not isinstance(body, str) or not body.isascii() or not body.isdigit():
        raise InvalidInputError(f"GTIN body must be digits, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(gtin: str) -> bool:
    """True for a GTIN-8/12/13/14 of digits with a correct check digit."""
    if not isinstance(gtin, str) or len(gtin) not in (8, 12, 13, 14):
        return False
    if not gtin.isascii() or not gtin.isdigit():
        return False
    return gtin_check_digit(gtin[:-1]) == int(gtin[-1])


def _digits(value: str, lengths: tuple[int, ...], what: str) -> str:
    if not value.isascii() or not value.isdigit() or len(value) not in lengths:
        lens = "/".join(map(str, lengths))
        raise InvalidInputError(f"invalid {what} {value!r}", hint=f"a {what} is {lens} digits")
    return value


@lru_cache(maxsize=65_536)
def _check_digit(body: str) -> int:
    return gtin_check_digit(body)


def _checked(value: str, lengths: tuple[int, ...], what: str) -> str:
    _digits(value, lengths, what)
    expected = _check_digit(value[:-1])
    if expected != int(value[-1]):
        raise InvalidInputError(
            f"invalid {what} check digit in {value}: expected {expected}, got {value[-1]}",
            hint=f"did you mean {value[:-1]}{expected}?",
        )
    return value


def _with_check(body: str) -> str:
    return body + str(_check_digit(body))


# ---------------------------------------------------------------- value checks and encoding
def _cset82(value: str, what: str, max_length: int = SERIAL_MAX_LENGTH, min_length: int = 1) -> str:
    if not min_length <= len(value) <= max_length:
        raise InvalidInputError(f"{what} must be {min_length}-{max_length} characters: {value!r}")
    bad = sorted(set(value) - GS1_CSET82)
    if bad:
        raise InvalidInputError(
            f"{what} {value!r} has characters outside GS1 character set 82: {''.join(bad)!r}",
            hint="allowed: letters, digits and !\"%&'()*+,-./:;<=>?_",
        )
    return value


def _cset39(value: str, what: str) -> str:
    if not 1 <= len(value) <= 30 or set(value) - GS1_CSET39:
        raise InvalidInputError(f"{what} {value!r} must be 1-30 characters of 0-9, A-Z, # - /")
    return value


def _enc(value: str) -> str:
    return quote(value, safe="")


# Characters an EPC URN component must escape (TDS 2.0 table I.3.1-1), and the ones it may hold as is.
_URN_ESCAPES = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
_URN_COMPONENT = re.compile(r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})*")


def _urn_escape(value: str) -> str:
    return "".join(_URN_ESCAPES.get(c, c) for c in value)


def _urn_unescape(component: str, raw: str) -> str:
    if not _URN_COMPONENT.fullmatch(component):
        raise InvalidInputError(f"invalid character or escape in EPC URN {raw!r}")
    try:
        return unquote(component, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"invalid percent-encoding in EPC URN {raw!r}") from exc


# ---------------------------------------------------------------- building canonical identifiers
def _gs1(
    canonical: str,
    *,
    gtin: str | None = None,
    serial: str | None = None,
    lot: str | None = None,
    cpl: int | None = None,
) -> Identifier:
    return Identifier(canonical=canonical, kind="gs1", gtin=gtin, serial=serial, company_prefix_length=cpl, lot=lot)


def _build(primary: str, value: str, qualifiers: dict[str, str], cpl: int | None = None) -> Identifier:
    """The identifier of a validated primary key value and its (validated) key qualifiers, at its most
    specific level."""
    if primary == "01":
        if "21" in qualifiers:
            serial = qualifiers["21"]
            return _gs1(f"01/{value}/21/{_enc(serial)}", gtin=value, serial=serial, cpl=cpl)
        if "235" in qualifiers:
            tpx = qualifiers["235"]
            return _gs1(f"01/{value}/235/{_enc(tpx)}", gtin=value, serial=tpx, cpl=cpl)
        if "10" in qualifiers:
            lot = qualifiers["10"]
            return _gs1(f"01/{value}/10/{_enc(lot)}", gtin=value, lot=lot, cpl=cpl)
        return _gs1(f"01/{value}", gtin=value, cpl=cpl)
    if primary == "8006":
        gtin = value[:14]
        if "21" in qualifiers:
            return _gs1(f"8006/{value}/21/{_enc(qualifiers['21'])}", gtin=gtin, serial=qualifiers["21"], cpl=cpl)
        if "10" in qualifiers:
            return _gs1(f"8006/{value}/10/{_enc(qualifiers['10'])}", gtin=gtin, lot=qualifiers["10"], cpl=cpl)
        return _gs1(f"8006/{value}", gtin=gtin, cpl=cpl)
    if primary == "414" and "254" in qualifiers:
        return _gs1(f"414/{value}/254/{_enc(qualifiers['254'])}", cpl=cpl)
    if primary == "8010" and "8011" in qualifiers:
        return _gs1(f"8010/{_enc(value)}/8011/{qualifiers['8011']}", serial=qualifiers["8011"], cpl=cpl)
    if primary in ("8003", "253", "255"):
        head = {"8003": 14, "253": 13, "255": 13}[primary]
        tail = value[head:]
        return _gs1(f"{primary}/{value[:head]}{_enc(tail)}", serial=tail or None, cpl=cpl)
    return _gs1(f"{primary}/{_enc(value) if primary in _ALPHANUMERIC_KEYS else value}", cpl=cpl)


_ALPHANUMERIC_KEYS = frozenset({"401", "8004", "8010"})
_SCHEME_OF_AI = {
    "00": "sscc",
    "253": "gdti",
    "255": "sgcn",
    "401": "ginc",
    "402": "gsin",
    "414": "sgln",
    "417": "pgln",
    "8003": "grai",
    "8004": "giai",
    "8010": "cpi",
    "8017": "gsrnp",
    "8018": "gsrn",
}


def _primary_value(ai: str, raw_value: str, raw: str) -> str:
    """A Digital Link primary key value, validated (check digits) and normalised (GTIN to 14 digits)."""
    if ai == "01":
        return _checked(raw_value, (8, 12, 13, 14), "GTIN").zfill(14)
    if ai in ("00", "8017", "8018"):
        return _checked(raw_value, (18,), {"00": "SSCC", "8017": "GSRN-P", "8018": "GSRN"}[ai])
    if ai in ("414", "417"):
        return _checked(raw_value, (13,), "GLN")
    if ai == "402":
        return _checked(raw_value, (17,), "GSIN")
    if ai == "8006":
        _digits(raw_value, (18,), "ITIP")
        _checked(raw_value[:14], (14,), "GTIN")
        return raw_value
    if ai in ("253", "255", "8003"):
        head = 14 if ai == "8003" else 13
        what = {"253": "GDTI", "255": "GCN", "8003": "GRAI"}[ai]
        _checked(raw_value[:head], (head,), what)
        if ai == "8003" and raw_value[0] != "0":
            raise InvalidInputError(f"a GRAI in AI 8003 starts with a 0 filler digit: {raw!r}")
        rest = raw_value[head:]
        if ai == "255":
            if rest and (not rest.isascii() or not rest.isdigit() or len(rest) > 12):
                raise InvalidInputError(f"GCN serial must be up to 12 digits: {raw!r}")
        elif rest:
            _cset82(rest, f"{what} serial", 16 if ai == "8003" else 17)
        return raw_value
    if ai in ("401", "8004"):
        return _cset82(raw_value, "GINC" if ai == "401" else "GIAI", 30)
    if ai == "8010":
        return _cset39(raw_value, "CPID")
    raise InvalidInputError(f"unsupported GS1 key AI {ai} in {raw!r}")  # pragma: no cover - table-driven


# ---------------------------------------------------------------- Digital Link
_SHORT_NAMES = {
    "gtin": "01", "cpv": "22", "lot": "10", "ser": "21", "itip": "8006", "cpid": "8010", "cpsn": "8011",
    "gln": "414", "glnx": "254", "party": "417", "gsrnp": "8017", "gsrn": "8018", "gcn": "255", "sscc": "00",
    "gdti": "253", "ginc": "401", "gsin": "402", "grai": "8003", "giai": "8004",
}  # fmt: skip
_PRIMARY_AIS = frozenset({"01", "00", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010",
                          "8017", "8018"})  # fmt: skip
# Key qualifiers each primary key may carry, in their required order.
_QUALIFIERS = {"01": ("22", "10", "21", "235"), "8006": ("22", "10", "21"), "414": ("254",), "8010": ("8011",)}
_QUALIFIER_NAMES = {"22": "CPV", "10": "lot", "21": "serial", "235": "TPX", "254": "GLN extension",
                    "8011": "CPSN"}  # fmt: skip
_QUALIFIER_MAX = {"22": 20, "10": 20, "21": 20, "235": 28, "254": 20}


def _parse_digital_link(raw: str) -> Identifier:
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
    hint = "expected .../{AI}/{key}[/{qualifier AI}/{value}]..., e.g. /01/{GTIN}/21/{serial} or /00/{SSCC}"
    start = next((i for i, s in enumerate(segments) if _SHORT_NAMES.get(s, s) in _PRIMARY_AIS), None)
    if start is None:
        raise InvalidInputError(f"no GS1 primary key (e.g. AI 01, 00, 414) in Digital Link {raw!r}", hint=hint)
    pairs = segments[start:]
    if "" in segments or len(pairs) % 2:
        raise InvalidInputError(f"malformed Digital Link path in {raw!r}", hint=hint)
    primary = _SHORT_NAMES.get(pairs[0], pairs[0])
    value = _primary_value(primary, _decode(pairs[1], raw), raw)
    allowed = _QUALIFIERS.get(primary, ())
    qualifiers: dict[str, str] = {}
    last = -1
    for i in range(2, len(pairs), 2):
        ai = _SHORT_NAMES.get(pairs[i], pairs[i])
        if ai not in allowed:
            raise InvalidInputError(f"unexpected AI {pairs[i]!r} after AI {primary} in {raw!r}", hint=hint)
        if allowed.index(ai) <= last or (ai == "235" and "21" in qualifiers):
            raise InvalidInputError(f"AI {ai} repeated or out of order in {raw!r}", hint=hint)
        last = allowed.index(ai)
        decoded = _decode(pairs[i + 1], raw)
        if ai == "8011":
            if not decoded.isascii() or not decoded.isdigit() or len(decoded) > 12:
                raise InvalidInputError(f"CPSN must be up to 12 digits: {raw!r}")
            qualifiers[ai] = decoded
        else:
            qualifiers[ai] = _cset82(decoded, _QUALIFIER_NAMES[ai], _QUALIFIER_MAX[ai])
    return _build(primary, value, qualifiers)


def _decode(segment: str, raw: str) -> str:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"invalid percent-encoding in {raw!r}") from exc


# ---------------------------------------------------------------- EPC URNs
_CPL = range(6, 13)
_UrnParser = Callable[[str, str], "Identifier"]


def _split_numeric(body: str, total: int, raw: str, what: str) -> tuple[str, str, int]:
    """'CP.REF' with len(CP)+len(REF) == total digits: (CP, REF, len(CP))."""
    cp, _, ref = body.partition(".")
    if len(cp) not in _CPL or not (cp + ref).isascii() or not (cp + ref).isdigit() or len(cp + ref) != total:
        raise InvalidInputError(
            f"invalid {what} EPC URN {raw!r}",
            hint=f"expected a 6-12 digit company prefix and a reference, {total} digits in all",
        )
    return cp, ref, len(cp)


def _parse_epc_urn(raw: str, any_uri: bool) -> Identifier:
    lower = raw.lower()
    for prefix in ("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:"):
        if lower.startswith(prefix):
            scheme, sep, body = raw[len(prefix) :].partition(":")
            form = prefix[8:-1]
            break
    else:
        raise InvalidInputError(f"unsupported EPC URN {raw!r}", hint="expected urn:epc:id:, urn:epc:class: or idpat:")
    parser = _URN_PARSERS.get((form, scheme.lower()))
    if parser is None or not sep:
        if any_uri and form == "id" and sep and scheme.isalpha() and (form, scheme.lower()) not in _KNOWN_GS1:
            return _opaque_uri(raw)
        raise InvalidInputError(
            f"unsupported EPC URN {raw!r}",
            hint="supported: urn:epc:id:{sgtin,sscc,sgln,pgln,grai,giai,gsrn,gsrnp,gdti,ginc,gsin,sgcn,cpi,itip,"
            "upui}:..., urn:epc:class:lgtin:..., urn:epc:idpat:{sgtin,grai,gdti,sgcn,cpi,itip,upui}:...",
        )
    return parser(body, raw)


def _gtin_of(cp: str, ir: str) -> str:
    return _with_check(ir[0] + cp + ir[1:])


def _urn_sgtin(body: str, raw: str) -> Identifier:
    head, dot, rest = body.partition(".")
    ir, dot2, serial = rest.partition(".")
    if not dot or not dot2:
        raise InvalidInputError(
            f"invalid SGTIN URN {raw!r}",
            hint="expected urn:epc:id:sgtin:<CompanyPrefix>.<IndicatorAndItemRef>.<Serial>, 13 digits in all",
        )
    cp, ir, cpl = _split_numeric(f"{head}.{ir}", 13, raw, "SGTIN")
    serial = _cset82(_urn_unescape(serial, raw), "serial")
    return _build("01", _gtin_of(cp, ir), {"21": serial}, cpl)


def _urn_lgtin(body: str, raw: str) -> Identifier:
    head, _, rest = body.partition(".")
    ir, dot, lot = rest.partition(".")
    if not dot:
        raise InvalidInputError(f"invalid LGTIN URN {raw!r}", hint="expected urn:epc:class:lgtin:<CP>.<IR>.<lot>")
    cp, ir, cpl = _split_numeric(f"{head}.{ir}", 13, raw, "LGTIN")
    return _build("01", _gtin_of(cp, ir), {"10": _cset82(_urn_unescape(lot, raw), "lot")}, cpl)


def _pattern(body: str, raw: str, fields: int) -> list[str]:
    parts = body.split(".")
    if len(parts) != fields + 1 or parts[-1] != "*":
        raise InvalidInputError(f"invalid EPC pattern URN {raw!r}", hint="only patterns ending in .* are supported")
    return parts[:-1]


def _urn_idpat_sgtin(body: str, raw: str) -> Identifier:
    cp, ir, cpl = _split_numeric(".".join(_pattern(body, raw, 2)), 13, raw, "SGTIN pattern")
    return _build("01", _gtin_of(cp, ir), {}, cpl)


def _urn_sscc(body: str, raw: str) -> Identifier:
    cp, sr, cpl = _split_numeric(body, 17, raw, "SSCC")
    return _build("00", _with_check(sr[0] + cp + sr[1:]), {}, cpl)


def _urn_sgln(body: str, raw: str) -> Identifier:
    head, _, rest = body.partition(".")
    lr, dot, ext = rest.partition(".")
    if not dot:
        raise InvalidInputError(f"invalid SGLN URN {raw!r}", hint="expected urn:epc:id:sgln:<CP>.<LocRef>.<ext>")
    cp, lr, cpl = _split_numeric(f"{head}.{lr}", 12, raw, "SGLN")
    ext = _cset82(_urn_unescape(ext, raw), "GLN extension")
    return _build("414", _with_check(cp + lr), {} if ext == "0" else {"254": ext}, cpl)


def _urn_pgln(body: str, raw: str) -> Identifier:
    cp, pr, cpl = _split_numeric(body, 12, raw, "PGLN")
    return _build("417", _with_check(cp + pr), {}, cpl)


def _urn_grai(body: str, raw: str) -> Identifier:
    head, _, rest = body.partition(".")
    at, dot, serial = rest.partition(".")
    if not dot:
        raise InvalidInputError(f"invalid GRAI URN {raw!r}", hint="expected urn:epc:id:grai:<CP>.<AssetType>.<serial>")
    cp, at, cpl = _split_numeric(f"{head}.{at}", 12, raw, "GRAI")
    serial = _cset82(_urn_unescape(serial, raw), "GRAI serial", 16)
    return _build("8003", "0" + _with_check(cp + at) + serial, {}, cpl)


def _urn_idpat_grai(body: str, raw: str) -> Identifier:
    cp, at, cpl = _split_numeric(".".join(_pattern(body, raw, 2)), 12, raw, "GRAI pattern")
    return _build("8003", "0" + _with_check(cp + at), {}, cpl)


def _alnum_key(ai: str, what: str) -> _UrnParser:
    def parse(body: str, raw: str) -> Identifier:
        cp, dot, ref = body.partition(".")
        if not dot or len(cp) not in _CPL or not cp.isascii() or not cp.isdigit():
            raise InvalidInputError(
                f"invalid {what} URN {raw!r}", hint=f"expected urn:epc:id:{what.lower()}:<CP>.<ref>"
            )
        value = _cset82(cp + _urn_unescape(ref, raw), what, 30, len(cp) + 1)
        return _build(ai, value, {}, len(cp))

    return parse


def _numeric_key(ai: str, total: int, what: str) -> _UrnParser:
    def parse(body: str, raw: str) -> Identifier:
        cp, ref, cpl = _split_numeric(body, total, raw, what)
        return _build(ai, _with_check(cp + ref), {}, cpl)

    return parse


def _doc_key(ai: str, what: str, serial_max: int, digits_only: bool) -> _UrnParser:
    def parse(body: str, raw: str) -> Identifier:
        head, _, rest = body.partition(".")
        ref, dot, serial = rest.partition(".")
        if not dot:
            raise InvalidInputError(
                f"invalid {what} URN {raw!r}", hint=f"expected urn:epc:id:{what.lower()}:<CP>.<ref>.<serial>"
            )
        cp, ref, cpl = _split_numeric(f"{head}.{ref}", 12, raw, what)
        serial = _urn_unescape(serial, raw)
        if serial and digits_only and (not serial.isascii() or not serial.isdigit() or len(serial) > serial_max):
            raise InvalidInputError(f"{what} serial must be up to {serial_max} digits: {raw!r}")
        if serial and not digits_only:
            _cset82(serial, f"{what} serial", serial_max)
        return _build(ai, _with_check(cp + ref) + serial, {}, cpl)

    return parse


def _doc_pattern(ai: str, what: str) -> _UrnParser:
    def parse(body: str, raw: str) -> Identifier:
        cp, ref, cpl = _split_numeric(".".join(_pattern(body, raw, 2)), 12, raw, f"{what} pattern")
        return _build(ai, _with_check(cp + ref), {}, cpl)

    return parse


def _urn_cpi(body: str, raw: str) -> Identifier:
    cp, _, rest = body.partition(".")
    ref, dot, serial = rest.rpartition(".")
    if not dot or len(cp) not in _CPL or not cp.isdigit() or not serial.isdigit() or len(serial) > 12:
        raise InvalidInputError(f"invalid CPI URN {raw!r}", hint="expected urn:epc:id:cpi:<CP>.<CPRef>.<serial digits>")
    cpid = _cset39(cp + _urn_unescape(ref, raw), "CPID")
    return _build("8010", cpid, {"8011": serial}, len(cp))


def _urn_idpat_cpi(body: str, raw: str) -> Identifier:
    cp, _, rest = body.partition(".")
    ref, dot, star = rest.rpartition(".")
    if not dot or star != "*" or len(cp) not in _CPL or not cp.isdigit():
        raise InvalidInputError(f"invalid CPI pattern URN {raw!r}", hint="expected urn:epc:idpat:cpi:<CP>.<CPRef>.*")
    return _build("8010", _cset39(cp + _urn_unescape(ref, raw), "CPID"), {}, len(cp))


def _urn_itip(body: str, raw: str) -> Identifier:
    parts = body.split(".", 4)
    if len(parts) != 5 or not all(len(p) == 2 and p.isdigit() for p in parts[2:4]):
        raise InvalidInputError(
            f"invalid ITIP URN {raw!r}", hint="expected urn:epc:id:itip:<CP>.<IR>.<piece>.<total>.<serial>"
        )
    cp, ir, cpl = _split_numeric(f"{parts[0]}.{parts[1]}", 13, raw, "ITIP")
    serial = _cset82(_urn_unescape(parts[4], raw), "serial")
    return _build("8006", _gtin_of(cp, ir) + parts[2] + parts[3], {"21": serial}, cpl)


def _urn_idpat_itip(body: str, raw: str) -> Identifier:
    parts = _pattern(body, raw, 4)
    if not all(len(p) == 2 and p.isdigit() for p in parts[2:4]):
        raise InvalidInputError(f"invalid ITIP pattern URN {raw!r}")
    cp, ir, cpl = _split_numeric(f"{parts[0]}.{parts[1]}", 13, raw, "ITIP pattern")
    return _build("8006", _gtin_of(cp, ir) + parts[2] + parts[3], {}, cpl)


def _urn_upui(body: str, raw: str) -> Identifier:
    head, _, rest = body.partition(".")
    ir, dot, tpx = rest.partition(".")
    if not dot:
        raise InvalidInputError(f"invalid UPUI URN {raw!r}", hint="expected urn:epc:id:upui:<CP>.<IR>.<TPX>")
    cp, ir, cpl = _split_numeric(f"{head}.{ir}", 13, raw, "UPUI")
    return _build("01", _gtin_of(cp, ir), {"235": _cset82(_urn_unescape(tpx, raw), "TPX", 28)}, cpl)


_URN_PARSERS: dict[tuple[str, str], _UrnParser] = {
    ("id", "sgtin"): _urn_sgtin,
    ("id", "sscc"): _urn_sscc,
    ("id", "sgln"): _urn_sgln,
    ("id", "pgln"): _urn_pgln,
    ("id", "grai"): _urn_grai,
    ("id", "giai"): _alnum_key("8004", "GIAI"),
    ("id", "ginc"): _alnum_key("401", "GINC"),
    ("id", "gsrn"): _numeric_key("8018", 17, "GSRN"),
    ("id", "gsrnp"): _numeric_key("8017", 17, "GSRNP"),
    ("id", "gsin"): _numeric_key("402", 16, "GSIN"),
    ("id", "gdti"): _doc_key("253", "GDTI", 17, False),
    ("id", "sgcn"): _doc_key("255", "SGCN", 12, True),
    ("id", "cpi"): _urn_cpi,
    ("id", "itip"): _urn_itip,
    ("id", "upui"): _urn_upui,
    ("class", "lgtin"): _urn_lgtin,
    ("idpat", "sgtin"): _urn_idpat_sgtin,
    ("idpat", "upui"): _urn_idpat_sgtin,
    ("idpat", "grai"): _urn_idpat_grai,
    ("idpat", "gdti"): _doc_pattern("253", "GDTI"),
    ("idpat", "sgcn"): _doc_pattern("255", "SGCN"),
    ("idpat", "cpi"): _urn_idpat_cpi,
    ("idpat", "itip"): _urn_idpat_itip,
}
# GS1 schemes of TDS 2.0 (never opaque, even when their form here is unsupported).
_KNOWN_GS1 = frozenset(("id", s) for s in ("sgtin", "sscc", "sgln", "pgln", "grai", "giai", "ginc", "gsrn", "gsrnp",
                                           "gsin", "gdti", "sgcn", "cpi", "itip", "upui", "lgtin"))  # fmt: skip


def _epc_urn(ident: Identifier, cpl: int) -> str | None:
    """The EPC URN of a GS1 identifier whose company prefix has `cpl` digits."""
    scheme, ai = ident.scheme, ident.ai_values
    if scheme in ("sgtin", "lgtin", "gtin", "upui"):
        gtin = ident.gtin or ""
        numeric = f"{gtin[1 : 1 + cpl]}.{gtin[0]}{gtin[1 + cpl : 13]}"
        tail = {
            "sgtin": f"urn:epc:id:sgtin:{numeric}.{_urn_escape(ident.serial or '')}",
            "lgtin": f"urn:epc:class:lgtin:{numeric}.{_urn_escape(ident.lot or '')}",
            "gtin": f"urn:epc:idpat:sgtin:{numeric}.*",
            "upui": f"urn:epc:id:upui:{numeric}.{_urn_escape(ident.serial or '')}",
        }
        return tail[scheme]
    if scheme == "sscc":
        sscc = ai["00"]
        return f"urn:epc:id:sscc:{sscc[1 : 1 + cpl]}.{sscc[0]}{sscc[1 + cpl : 17]}"
    if scheme in ("sgln", "pgln"):
        gln = ai["414" if scheme == "sgln" else "417"]
        numeric = f"{gln[:cpl]}.{gln[cpl:12]}"
        if scheme == "pgln":
            return f"urn:epc:id:pgln:{numeric}"
        return f"urn:epc:id:sgln:{numeric}.{_urn_escape(ai.get('254', '0'))}"
    if scheme == "grai":
        grai = ai["8003"]
        numeric = f"{grai[1 : 1 + cpl]}.{grai[1 + cpl : 13]}"
        if ident.serial is None:
            return f"urn:epc:idpat:grai:{numeric}.*"
        return f"urn:epc:id:grai:{numeric}.{_urn_escape(ident.serial)}"
    if scheme in ("giai", "ginc"):
        value = ai["8004" if scheme == "giai" else "401"]
        return f"urn:epc:id:{scheme}:{value[:cpl]}.{_urn_escape(value[cpl:])}"
    if scheme in ("gsrn", "gsrnp", "gsin"):
        value = ai[{"gsrn": "8018", "gsrnp": "8017", "gsin": "402"}[scheme]]
        return f"urn:epc:id:{scheme}:{value[:cpl]}.{value[cpl:-1]}"
    if scheme in ("gdti", "sgcn"):
        value = ai["253" if scheme == "gdti" else "255"]
        numeric = f"{value[:cpl]}.{value[cpl:12]}"
        if ident.serial is None:
            return f"urn:epc:idpat:{scheme}:{numeric}.*"
        return f"urn:epc:id:{scheme}:{numeric}.{_urn_escape(ident.serial)}"
    if scheme == "cpi":
        cpid = ai["8010"]
        ref = cpid[cpl:].replace("#", "%23").replace("/", "%2F")
        if "8011" in ai:
            return f"urn:epc:id:cpi:{cpid[:cpl]}.{ref}.{ai['8011']}"
        return f"urn:epc:idpat:cpi:{cpid[:cpl]}.{ref}.*"
    if scheme == "itip":
        value = ai["8006"]
        numeric = f"{value[1 : 1 + cpl]}.{value[0]}{value[1 + cpl : 13]}.{value[14:16]}.{value[16:18]}"
        if "21" in ai:
            return f"urn:epc:id:itip:{numeric}.{_urn_escape(ai['21'])}"
        return f"urn:epc:idpat:itip:{numeric}.*" if "10" not in ai else None
    return None  # pragma: no cover - every GS1 scheme is listed above


# ---------------------------------------------------------------- opaque IDs
_OPAQUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")
_WHITESPACE = re.compile(r"\s")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")
_LOOKS_GS1 = re.compile(
    r"(?:^|/)(?:01|00|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018|gtin|sscc|gln|party|grai|giai|gdti|"
    r"gcn|ginc|gsin|itip|cpid|gsrn|gsrnp)/"
)


def _looks_like_gs1(raw: str) -> bool:
    return raw.startswith("/") or _LOOKS_GS1.search(raw) is not None


def _parse_opaque(raw: str) -> Identifier:
    if len(raw) > OPAQUE_MAX_LENGTH:
        raise InvalidInputError(f"opaque ID longer than {OPAQUE_MAX_LENGTH} characters")
    if not _OPAQUE.fullmatch(raw):
        raise InvalidInputError(
            f"invalid identifier {raw!r}",
            hint="opaque IDs use letters, digits and - . _ : / and start with a letter or digit",
        )
    return Identifier(canonical=f"opaque:{raw}", kind="opaque")


def _opaque_uri(raw: str) -> Identifier:
    if len(raw) > URI_MAX_LENGTH:
        raise InvalidInputError(f"identifier URI longer than {URI_MAX_LENGTH} characters")
    return Identifier(canonical=f"opaque:{raw}", kind="opaque")


# ---------------------------------------------------------------- entry points
def parse_identifier(raw: str, *, any_uri: bool = False) -> Identifier:
    """Parse any accepted identifier form (see module docs) into its canonical Identifier.

    Raises:
        InvalidInputError: not a string, empty, a malformed GS1 form (bad check digit, unknown AI,
            bad serial), or neither a GS1 form nor an opaque ID (nor, with `any_uri`, a URI).
    """
    if not isinstance(raw, str):
        raise InvalidInputError(f"identifier must be a string, got {type(raw).__name__}")
    return _parse_cached(raw, any_uri)


@lru_cache(maxsize=65_536)
def _parse_cached(raw: str, any_uri: bool) -> Identifier:
    text = raw.strip()
    if not text:
        raise InvalidInputError("identifier is empty")
    if _WHITESPACE.search(text):
        raise InvalidInputError(f"identifier contains whitespace: {raw!r}")
    lower = text.lower()
    if lower.startswith("urn:epc:"):
        return _parse_epc_urn(text, any_uri)
    if lower.startswith(("http://", "https://")):
        if any_uri and not _LOOKS_GS1.search(urlsplit(text).path):
            return _opaque_uri(text)
        return _parse_digital_link(text)
    if _looks_like_gs1(text) and not text.startswith("opaque:"):
        return _parse_digital_link(text)
    if text.startswith("opaque:"):
        body = text[len("opaque:") :]
        if any_uri and body and not body.startswith("opaque:"):
            parsed = _parse_cached(body, True)  # a canonical opaque:X is valid when X parses to it
            if parsed.canonical != text:
                raise InvalidInputError(f"{text!r} is not a canonical opaque ID (did you mean {parsed.canonical!r}?)")
            return parsed
        if _looks_like_gs1(body) or "://" in body or body.lower().startswith("urn:epc:"):
            raise InvalidInputError(f"opaque ID {body!r} looks like a GS1 identifier or URL")
        return _parse_opaque(body)
    if "://" in text:
        if any_uri and _URI.fullmatch(text):
            return _opaque_uri(text)
        raise InvalidInputError(f"unsupported URI {raw!r}", hint="only http(s) GS1 Digital Link URIs are product IDs")
    if any_uri and _URI.fullmatch(text) and not _OPAQUE.fullmatch(text):
        return _opaque_uri(text)
    return _parse_opaque(text)


def parse_product_id(raw: str) -> Identifier:
    """Parse an identifier given by a user (API path, CLI argument): GS1 forms and opaque IDs, but no
    arbitrary URIs. See `parse_identifier`.

    Raises:
        InvalidInputError: see `parse_identifier`.
    """
    return parse_identifier(raw)
