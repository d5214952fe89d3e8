"""GS1 CBV 2.0 vocabularies (the one home): business steps and their one-byte codes, dispositions,
business-transaction, source/destination and error-reason types, sensor measurement types, alert types
and components, event types and actions, and the EPCIS 2.0 JSON-LD context URLs.

JSON/JSON-LD EPCIS writes standard values as bare strings (``shipping``); XML and older documents use
URNs (``urn:epcglobal:cbv:bizstep:shipping``), JSON-LD may use Web URIs
(``https://ref.gs1.org/cbv/BizStep-shipping``) or CURIEs (``cbv:BizStep-shipping``). `bare_value` maps
all of them to the bare term; any other URI is an extension value and is kept as it is.

Business-step codes (the byte the chain records): the 1-based position in the CBV's alphabetical list
of its 41 steps, 0 for an event without a bizStep (bizStep is optional in EPCIS 2.0), 255 for any
other URI. The table is part of the protocol: append only, never reorder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tracechain.errors import InvalidInputError

# ---------------------------------------------------------------- JSON-LD contexts
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EPCIS_SIMPLE_CONTEXT = "https://gs1.github.io/EPCIS/epcis-context-simple.jsonld"
# Context URLs accepted in documents. GS1's examples use the 2.0.0 context and the "simple" one; both
# give standard terms the same meaning, and neither is ever fetched (no network, no JSON-LD processing).
KNOWN_CONTEXTS = frozenset(
    {
        EPCIS_CONTEXT,
        EPCIS_SIMPLE_CONTEXT,
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context-simple.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
# Prefixes the EPCIS context itself defines (CURIEs with them are standard, not extensions).
CONTEXT_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "gs1": "https://gs1.org/voc/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
}

# ---------------------------------------------------------------- events
EVENT_TYPES: tuple[str, ...] = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS: tuple[str, ...] = ("ADD", "OBSERVE", "DELETE")


# ---------------------------------------------------------------- CBV term lists
def _terms(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# CBV 2.0 business steps in the CBV's alphabetical order: code = position + 1 (1..41).
BIZ_STEP_LIST: tuple[str, ...] = _terms(
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding entering_exiting
    holding inspecting installing killing loading other packing picking receiving removing repackaging
    repairing replacing reserving retail_selling sampling sensor_reporting shipping staging_outbound
    stock_taking stocking storing transporting unloading unpacking void_shipping"""
)
BIZ_STEPS: frozenset[str] = frozenset(BIZ_STEP_LIST)
DISPOSITIONS: frozenset[str] = frozenset(
    _terms(
        """active available completeness_inferred completeness_verified conformant container_closed
        container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit inactive
        mismatch_class mismatch_instance mismatch_quantity needs_replacement no_pedigree_match non_conformant
        non_sellable_other partially_dispensed recalled reserved retail_sold returned sellable_accessible
        sellable_not_accessible stolen unavailable unknown"""
    )
)
BIZ_TRANSACTION_TYPES: frozenset[str] = frozenset(
    _terms("bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt")
)
SOURCE_DESTINATION_TYPES: frozenset[str] = frozenset(_terms("owning_party possessing_party location"))
ERROR_REASONS: frozenset[str] = frozenset(_terms("did_not_occur incorrect_data"))
SENSOR_ALERT_TYPES: frozenset[str] = frozenset(_terms("ALARM_CONDITION ERROR_CONDITION"))
SENSOR_COMPONENTS: frozenset[str] = frozenset(
    _terms(
        """x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting northing
        latitude longitude altitude"""
    )
)
MEASUREMENT_TYPES: frozenset[str] = frozenset(
    _terms(
        """AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude AmountOfSubstance
        AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum AngularVelocity Area Capacitance
        Conductance Conductivity Count Density Dimensionless DoseEquivalent DoseEquivalentRate DynamicViscosity
        ElectricCharge ElectricCurrent ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force
        Frequency Illuminance Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance
        LuminousFlux LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass
        MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy MolarMass
        MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity Resistance Resistivity SolidAngle
        SpecificVolume Speed SurfaceDensity SurfaceTension Temperature Time Torque Voltage Volume VolumeFlowRate
        VolumeFraction VolumetricFlux Wavenumber"""
    )
)


class Vocabulary(StrEnum):
    """A CBV/GS1 vocabulary whose bare terms JSON-LD EPCIS may use."""

    BIZ_STEP = "bizStep"
    DISPOSITION = "disposition"
    BIZ_TRANSACTION_TYPE = "bizTransactionType"
    SOURCE_DESTINATION_TYPE = "sourceDestinationType"
    ERROR_REASON = "errorReason"
    MEASUREMENT_TYPE = "measurementType"
    SENSOR_ALERT_TYPE = "sensorAlertType"
    COMPONENT = "component"


@dataclass(frozen=True)
class _VocabularyInfo:
    terms: frozenset[str]
    uri_prefix: str  # Web URI of a term = uri_prefix + term
    urn_prefix: str | None  # EPCIS 1.x URN form, where there is one
    example: str


_INFO: dict[Vocabulary, _VocabularyInfo] = {
    Vocabulary.BIZ_STEP: _VocabularyInfo(
        BIZ_STEPS, "https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:", "shipping"
    ),
    Vocabulary.DISPOSITION: _VocabularyInfo(
        DISPOSITIONS, "https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:", "in_transit"
    ),
    Vocabulary.BIZ_TRANSACTION_TYPE: _VocabularyInfo(
        BIZ_TRANSACTION_TYPES, "https://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:", "po"
    ),
    Vocabulary.SOURCE_DESTINATION_TYPE: _VocabularyInfo(
        SOURCE_DESTINATION_TYPES, "https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:", "owning_party"
    ),
    Vocabulary.ERROR_REASON: _VocabularyInfo(
        ERROR_REASONS, "https://ref.gs1.org/cbv/ER-", "urn:epcglobal:cbv:er:", "incorrect_data"
    ),
    Vocabulary.MEASUREMENT_TYPE: _VocabularyInfo(MEASUREMENT_TYPES, "https://gs1.org/voc/", None, "Temperature"),
    Vocabulary.SENSOR_ALERT_TYPE: _VocabularyInfo(SENSOR_ALERT_TYPES, "https://gs1.org/voc/", None, "ALARM_CONDITION"),
    Vocabulary.COMPONENT: _VocabularyInfo(SENSOR_COMPONENTS, "https://ref.gs1.org/cbv/Comp-", None, "latitude"),
}
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
# URIs in the CBV's own namespaces must name CBV terms (of the right vocabulary).
_CBV_NAMESPACES = ("urn:epcglobal:cbv:", "https://ref.gs1.org/cbv/", "cbv:")


def terms_of(vocabulary: Vocabulary) -> frozenset[str]:
    """The bare terms of `vocabulary`."""
    return _INFO[vocabulary].terms


def vocabulary_uri(vocabulary: Vocabulary, term: str) -> str:
    """The Web URI of a bare term (``shipping`` -> ``https://ref.gs1.org/cbv/BizStep-shipping``)."""
    return _INFO[vocabulary].uri_prefix + term


def bare_value(vocabulary: Vocabulary, value: object, field: str) -> str:
    """The bare term of a standard value in any of its forms, or the value itself if it is another URI
    (an extension value).

    Raises:
        InvalidInputError: not a string, or neither a term of `vocabulary` nor a URI (`field` names it).
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    info = _INFO[vocabulary]
    if value in info.terms:
        return value
    for prefix in (info.uri_prefix, info.urn_prefix, _curie(info.uri_prefix)):
        if prefix and value.startswith(prefix) and value[len(prefix) :] in info.terms:
            return value[len(prefix) :]
    if _URI.fullmatch(value) and not value.startswith(_CBV_NAMESPACES):
        return value
    raise InvalidInputError(
        f"{field} {value!r} is neither a CBV 2.0 {vocabulary.value} nor a URI",
        hint=f"use e.g. {info.example!r} or a URI of your own vocabulary",
    )


def _curie(uri_prefix: str) -> str:
    for prefix, namespace in CONTEXT_PREFIXES.items():
        if uri_prefix.startswith(namespace):
            return f"{prefix}:{uri_prefix[len(namespace) :]}"
    return ""


# ---------------------------------------------------------------- business-step codes
NO_BIZ_STEP = 0  # the event has no bizStep
EXTENSION_BIZ_STEP = 255  # a non-CBV business step (a URI named in the event document)
_CODES = {name: i + 1 for i, name in enumerate(BIZ_STEP_LIST)}


def biz_step_code(biz_step: str | None) -> int:
    """The one-byte code of a business step: 1-41 for CBV steps (in any form), 255 for any other URI,
    0 for None (no bizStep).

    Raises:
        InvalidInputError: neither a CBV step nor a URI.
    """
    if biz_step is None:
        return NO_BIZ_STEP
    bare = bare_value(Vocabulary.BIZ_STEP, biz_step.strip() if isinstance(biz_step, str) else biz_step, "bizStep")
    return _CODES.get(bare, EXTENSION_BIZ_STEP)


def biz_step_name(code: int) -> str:
    """The CBV name of `code` ('none' for 0, 'extension' for 255, 'invalid' otherwise)."""
    if 1 <= code <= len(BIZ_STEP_LIST):
        return BIZ_STEP_LIST[code - 1]
    return {NO_BIZ_STEP: "none", EXTENSION_BIZ_STEP: "extension"}.get(code, "invalid")
