"""Builders of EPCIS 2.0 JSON events, one per event type, for the demo, the CLI and tests.

Identifiers given without a host are written as ``{digital_link_base}/{path}`` or else as EPC URNs (when
the company prefix length is known); opaque IDs as ``opaque:{id}``. Standard values are written as bare
CBV terms (the JSON binding's form), times with millisecond precision in their own offset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tracechain.epcis.events import check_event
from tracechain.epcis.identifiers import Identifier, parse_product_id
from tracechain.epcis.vocabulary import EPCIS_CONTEXT, Vocabulary, bare_value
from tracechain.errors import InvalidInputError

IdLike = str | Identifier
Quantity = tuple[IdLike, float | int | None, str | None]  # (epcClass, quantity, uom)


def epc_uri(item: IdLike, digital_link_base: str | None = None) -> str:
    """How an identifier is written in an event: URNs and Digital Link URIs as given, opaque IDs as
    ``opaque:{id}``, host-less GS1 forms on `digital_link_base` or as EPC URNs.

    Raises:
        InvalidInputError: an invalid identifier, or a GS1 form without host and no way to write it.
    """
    pid = item if isinstance(item, Identifier) else parse_product_id(item)
    if pid.kind == "opaque":
        return pid.canonical
    if isinstance(item, str) and item.strip().lower().startswith(("urn:epc:", "http://", "https://")):
        return item.strip()
    if digital_link_base and pid.digital_link_path:
        return digital_link_base.rstrip("/") + pid.digital_link_path
    if pid.epc_urn:
        return pid.epc_urn
    raise InvalidInputError(
        f"cannot write {pid.canonical} as a URI for an event",
        hint="pass a Digital Link URI or EPC URN, or digital_link_base='https://your.resolver'",
    )


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset()
    assert delta is not None
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _event(
    kind: str,
    fields: Mapping[str, Any],
    *,
    event_time: datetime,
    action: str | None,
    biz_step: str | None,
    disposition: str | None,
    read_point: str | None,
    biz_location: str | None,
    biz_transactions: Sequence[tuple[str | None, str]],
    sources: Sequence[tuple[str, str]],
    destinations: Sequence[tuple[str, str]],
    extensions: Mapping[str, Any] | None,
    namespaces: Mapping[str, str] | None,
) -> dict[str, Any]:
    if event_time.tzinfo is None or event_time.utcoffset() is None:
        raise InvalidInputError("event_time must be timezone-aware")
    event: dict[str, Any] = {}
    if namespaces:
        event["@context"] = [EPCIS_CONTEXT, dict(namespaces)]
    event["type"] = kind
    event["eventTime"] = event_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event["eventTimeZoneOffset"] = _offset(event_time)
    event.update({k: v for k, v in fields.items() if v not in (None, [])})
    if action is not None:
        event["action"] = action
    if biz_step is not None:
        event["bizStep"] = bare_value(Vocabulary.BIZ_STEP, biz_step, "biz_step")
    if disposition is not None:
        event["disposition"] = bare_value(Vocabulary.DISPOSITION, disposition, "disposition")
    if read_point is not None:
        event["readPoint"] = {"id": read_point}
    if biz_location is not None:
        event["bizLocation"] = {"id": biz_location}
    if biz_transactions:
        event["bizTransactionList"] = [
            {"type": bare_value(Vocabulary.BIZ_TRANSACTION_TYPE, t, "biz_transactions"), "bizTransaction": i}
            if t is not None else {"bizTransaction": i}
            for t, i in biz_transactions
        ]  # fmt: skip
    for key, id_key, entries in (("sourceList", "source", sources), ("destinationList", "destination", destinations)):
        if entries:
            event[key] = [
                {"type": bare_value(Vocabulary.SOURCE_DESTINATION_TYPE, t, key), id_key: i} for t, i in entries
            ]
    for key, value in (extensions or {}).items():
        if key in event:
            raise InvalidInputError(f"extension {key!r} would overwrite a standard field")
        event[key] = value
    check_event(event)
    return event


def _quantities(items: Sequence[Quantity], base: str | None) -> list[dict[str, Any]]:
    result = []
    for epc_class, quantity, uom in items:
        element: dict[str, Any] = {"epcClass": epc_uri(epc_class, base)}
        if quantity is not None:
            element["quantity"] = quantity
        if uom is not None:
            element["uom"] = uom
        result.append(element)
    return result


def make_object_event(
    *,
    product_ids: Sequence[IdLike],
    event_time: datetime,
    biz_step: str | None = None,
    disposition: str | None = None,
    read_point: str | None = None,
    biz_location: str | None = None,
    action: str = "OBSERVE",
    quantities: Sequence[Quantity] = (),
    biz_transactions: Sequence[tuple[str | None, str]] = (),
    sources: Sequence[tuple[str, str]] = (),
    destinations: Sequence[tuple[str, str]] = (),
    ilmd: Mapping[str, Any] | None = None,
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated ObjectEvent about `product_ids` (and/or `quantities` of classes).

    `event_time` must be timezone-aware. `extensions` are top-level namespaced fields ("acme:lot": ...),
    their prefixes declared in `namespaces` ({"acme": "https://acme.example/ns/"}), which becomes the
    event's @context.

    Raises:
        InvalidInputError: no products or quantities, an invalid identifier or value, a naive time.
    """
    if not product_ids and not quantities:
        raise InvalidInputError("an ObjectEvent needs product IDs or quantities")
    fields = {
        "epcList": [epc_uri(p, digital_link_base) for p in product_ids],
        "quantityList": _quantities(quantities, digital_link_base),
        "ilmd": dict(ilmd) if ilmd else None,
    }
    return _event("ObjectEvent", fields, event_time=event_time, action=action, biz_step=biz_step,
                  disposition=disposition, read_point=read_point, biz_location=biz_location,
                  biz_transactions=biz_transactions, sources=sources, destinations=destinations,
                  extensions=extensions, namespaces=namespaces)  # fmt: skip


def make_aggregation_event(
    *,
    parent_id: IdLike | None,
    child_ids: Sequence[IdLike],
    event_time: datetime,
    action: str = "ADD",
    child_quantities: Sequence[Quantity] = (),
    biz_step: str | None = None,
    disposition: str | None = None,
    read_point: str | None = None,
    biz_location: str | None = None,
    biz_transactions: Sequence[tuple[str | None, str]] = (),
    sources: Sequence[tuple[str, str]] = (),
    destinations: Sequence[tuple[str, str]] = (),
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated AggregationEvent: `child_ids` (and `child_quantities`) packed into (ADD), seen in
    (OBSERVE) or taken out of (DELETE) `parent_id`.

    Raises:
        InvalidInputError: see `make_object_event`; no parent for ADD/DELETE, no children for ADD/OBSERVE.
    """
    fields = {
        "parentID": epc_uri(parent_id, digital_link_base) if parent_id is not None else None,
        "childEPCs": [epc_uri(c, digital_link_base) for c in child_ids],
        "childQuantityList": _quantities(child_quantities, digital_link_base),
    }
    return _event("AggregationEvent", fields, event_time=event_time, action=action, biz_step=biz_step,
                  disposition=disposition, read_point=read_point, biz_location=biz_location,
                  biz_transactions=biz_transactions, sources=sources, destinations=destinations,
                  extensions=extensions, namespaces=namespaces)  # fmt: skip


def make_association_event(
    *,
    parent_id: IdLike,
    child_ids: Sequence[IdLike],
    event_time: datetime,
    action: str = "ADD",
    child_quantities: Sequence[Quantity] = (),
    biz_step: str | None = None,
    disposition: str | None = None,
    read_point: str | None = None,
    biz_location: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated AssociationEvent (e.g. a sensor device associated with an asset).

    Raises:
        InvalidInputError: see `make_aggregation_event`.
    """
    fields = {
        "parentID": epc_uri(parent_id, digital_link_base),
        "childEPCs": [epc_uri(c, digital_link_base) for c in child_ids],
        "childQuantityList": _quantities(child_quantities, digital_link_base),
    }
    return _event("AssociationEvent", fields, event_time=event_time, action=action, biz_step=biz_step,
                  disposition=disposition, read_point=read_point, biz_location=biz_location, biz_transactions=(),
                  sources=(), destinations=(), extensions=extensions, namespaces=namespaces)  # fmt: skip


def make_transformation_event(
    *,
    event_time: datetime,
    input_ids: Sequence[IdLike] = (),
    output_ids: Sequence[IdLike] = (),
    input_quantities: Sequence[Quantity] = (),
    output_quantities: Sequence[Quantity] = (),
    transformation_id: str | None = None,
    biz_step: str | None = None,
    disposition: str | None = None,
    read_point: str | None = None,
    biz_location: str | None = None,
    ilmd: Mapping[str, Any] | None = None,
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated TransformationEvent: inputs (EPCs and/or quantities) made into outputs.

    Raises:
        InvalidInputError: see `make_object_event`; neither inputs nor outputs.
    """
    fields = {
        "inputEPCList": [epc_uri(i, digital_link_base) for i in input_ids],
        "inputQuantityList": _quantities(input_quantities, digital_link_base),
        "outputEPCList": [epc_uri(o, digital_link_base) for o in output_ids],
        "outputQuantityList": _quantities(output_quantities, digital_link_base),
        "transformationID": transformation_id,
        "ilmd": dict(ilmd) if ilmd else None,
    }
    return _event("TransformationEvent", fields, event_time=event_time, action=None, biz_step=biz_step,
                  disposition=disposition, read_point=read_point, biz_location=biz_location, biz_transactions=(),
                  sources=(), destinations=(), extensions=extensions, namespaces=namespaces)  # fmt: skip


def make_transaction_event(
    *,
    biz_transactions: Sequence[tuple[str | None, str]],
    event_time: datetime,
    product_ids: Sequence[IdLike] = (),
    quantities: Sequence[Quantity] = (),
    parent_id: IdLike | None = None,
    action: str = "ADD",
    biz_step: str | None = None,
    disposition: str | None = None,
    read_point: str | None = None,
    biz_location: str | None = None,
    sources: Sequence[tuple[str, str]] = (),
    destinations: Sequence[tuple[str, str]] = (),
    extensions: Mapping[str, Any] | None = None,
    namespaces: Mapping[str, str] | None = None,
    digital_link_base: str | None = None,
) -> dict[str, Any]:
    """Build a validated TransactionEvent linking products to business transactions ((type, id) pairs,
    e.g. ("po", "urn:epc:id:gdti:...")).

    Raises:
        InvalidInputError: see `make_object_event`; no business transaction.
    """
    fields = {
        "parentID": epc_uri(parent_id, digital_link_base) if parent_id is not None else None,
        "epcList": [epc_uri(p, digital_link_base) for p in product_ids],
        "quantityList": _quantities(quantities, digital_link_base),
    }
    return _event("TransactionEvent", fields, event_time=event_time, action=action, biz_step=biz_step,
                  disposition=disposition, read_point=read_point, biz_location=biz_location,
                  biz_transactions=biz_transactions, sources=sources, destinations=destinations,
                  extensions=extensions, namespaces=namespaces)  # fmt: skip
