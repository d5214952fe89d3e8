"""CaseRegistry on a real chain: templates, opening, co-signed steps checked on-chain (wrong roles,
stale states, replays refused with exact errors and nothing changed), amendments, the hash formulas
shared with Python, and relayed opening."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import Net
from tracechain import errors
from tracechain.chain.cases import (
    ZERO_ADDRESS,
    CaseRegistryClient,
    CaseState,
    Step,
    StepRule,
    case_id_of,
    genesis_head,
    next_head,
    pack_rules,
    rule_of,
)
from tracechain.hashing import document_hash, keccak_text, to_hex

B, S, INSP = StepRule.BUYER, StepRule.SUPPLIER, StepRule.INSPECTOR
KINDS = ("approval", "award", "contract", "acceptance", "invoice", "settlement")
RULES = pack_rules({1: B, 2: B | StepRule.NAMES_SUPPLIER, 3: B | S, 4: B | INSP, 5: S, 6: B | S | StepRule.CLOSES})
TEMPLATE = keccak_text("test-template-v1")
PO = "urn:epcglobal:cbv:bt:0614141000005:PO-4711"
APPROVAL, AWARD, CONTRACT, ACCEPTANCE, INVOICE, SETTLEMENT = range(1, 7)


class Case:
    """One open case and the state the next append must pass."""

    def __init__(self, net: Net, client: CaseRegistryClient, supplier: str = ZERO_ADDRESS) -> None:
        self.net, self.client = net, client
        buyer = net.accounts["retailer"]
        self.meta = document_hash({"po": PO})
        result = client.open_case(buyer, PO, TEMPLATE, supplier, self.meta)
        self.opened = result
        self.id = case_id_of(PO, buyer.address)
        head = genesis_head(self.id, buyer.address, supplier, TEMPLATE, self.meta)
        self.state = CaseState(head, 0, buyer.address, supplier, RULES)

    def deadline(self) -> int:
        return int(self.net.chain.w3.eth.get_block("latest")["timestamp"]) + 3600

    def signatures(self, step: Step, signers: list[str], deadline: int, keys: list | None = None) -> list[str]:
        accounts = {a.address: a for a in self.net.accounts.values()}
        keys = keys or [accounts[s] for s in signers]
        return [self.client.sign(k, self.id, self.state.steps + 1, step, signers, deadline) for k in keys]

    def append(
        self,
        kind: int,
        signer_names: list[str],
        *,
        party: str = ZERO_ADDRESS,
        amends: int = 0,
        doc: object = None,
        keys: list | None = None,
    ):  # noqa: ANN205
        signers = [self.net.accounts[n].address for n in signer_names]
        step = Step(kind, document_hash(doc or {"kind": kind, "n": self.state.steps}), amends, party=party)
        deadline = self.deadline()
        sigs = self.signatures(step, signers, deadline, keys)
        result = self.client.append_step(
            self.net.accounts["relayer"], self.id, self.state, step, signers, deadline, sigs
        )
        timestamp = int(self.net.chain.w3.eth.get_block(result.block_number)["timestamp"])
        self.state = self.state.after(step, signers, timestamp)
        return result

    def awarded(self) -> Case:
        self.append(APPROVAL, ["retailer"])
        self.append(AWARD, ["retailer"], party=self.net.accounts["manufacturer"].address)
        return self


@pytest.fixture
def client(net: Net) -> CaseRegistryClient:
    c = CaseRegistryClient(net.contract("CaseRegistry"), net.tx)
    c.register_template(net.accounts["governance"], TEMPLATE, RULES, KINDS)
    return c


# ---------------------------------------------------------------- templates
def test_template_registration_logs_rules_and_kind_names(net: Net, client: CaseRegistryClient) -> None:
    assert client.template_rules(TEMPLATE) == RULES
    assert client.template_log(TEMPLATE) == (RULES, KINDS)
    assert rule_of(RULES, 6) == B | S | StepRule.CLOSES and rule_of(RULES, 7) == 0


def test_only_governance_registers_templates(net: Net, client: CaseRegistryClient) -> None:
    with pytest.raises(errors.ActorRegistryMissingRole):
        client.register_template(net.accounts["retailer"], keccak_text("other"), RULES, KINDS)
    with pytest.raises(errors.CaseRegistryTemplateExists):
        client.register_template(net.accounts["governance"], TEMPLATE, RULES, KINDS)


@pytest.mark.parametrize(
    ("rules", "kinds", "error"),
    [
        (pack_rules({1: B, 2: StepRule.CLOSES}), ("a", "b"), errors.CaseRegistryInvalidRules),  # no signer
        (pack_rules({1: B, 2: 0x40}), ("a", "b"), errors.CaseRegistryInvalidRules),  # undefined bit
        (pack_rules({1: B, 3: B}), ("a", "b", "c"), errors.CaseRegistryInvalidRules),  # a gap at code 2
        (pack_rules({1: B, 2: B}), ("a",), errors.CaseRegistryKindNames),
        ((1).to_bytes(32, "big"), ("a",), errors.CaseRegistryInvalidRules),  # byte 0 is unused
    ],
)
def test_invalid_rules_are_refused(net: Net, client: CaseRegistryClient, rules, kinds, error) -> None:  # noqa: ANN001
    with pytest.raises(error):
        client.register_template(net.accounts["governance"], keccak_text("bad"), rules, kinds)


# ---------------------------------------------------------------- opening
def test_open_stores_one_state_hash_and_logs_the_case(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client)
    assert client.state_hash_of(case.id) == to_hex(case.state.hash)
    assert to_hex(case.id) == to_hex(client.contract.functions.caseIdOf(PO, case.state.buyer).call())
    log = client.contract.events.CaseOpened().process_receipt({"logs": case.opened.logs})[0]["args"]
    assert log["bizTransaction"] == PO and log["bizTransactionKey"] == keccak_text(PO)
    assert bytes(log["templateHash"]) == TEMPLATE and log["supplier"] == ZERO_ADDRESS


def test_case_ids_bind_the_buyer_and_open_once(net: Net, client: CaseRegistryClient) -> None:
    Case(net, client)
    with pytest.raises(errors.CaseRegistryCaseExists):
        client.open_case(net.accounts["retailer"], PO, TEMPLATE)
    other = client.open_case(net.accounts["logistics"], PO, TEMPLATE)  # another buyer's order, same number
    assert other.gas_used > 0


def test_who_may_open(net: Net, client: CaseRegistryClient) -> None:
    with pytest.raises(errors.CaseRegistryNotSupplyChainActor):
        client.open_case(net.accounts["inspector"], PO, TEMPLATE)
    with pytest.raises(errors.ActorRegistryUnknownActor):
        client.open_case(net.accounts["outsider"], PO, TEMPLATE)
    with pytest.raises(errors.CaseRegistryUnknownTemplate):
        client.open_case(net.accounts["retailer"], PO, keccak_text("nope"))
    with pytest.raises(errors.CaseRegistryInvalidSupplier):
        client.open_case(net.accounts["retailer"], PO, TEMPLATE, net.accounts["retailer"].address)
    with pytest.raises(errors.CaseRegistryInvalidSupplier):
        client.open_case(net.accounts["retailer"], PO, TEMPLATE, net.accounts["notary"].address)
    with pytest.raises(errors.CaseRegistryEmptyBizTransaction):
        client.open_case(net.accounts["retailer"], "", TEMPLATE)


def test_open_as_relayed_request(net: Net, client: CaseRegistryClient) -> None:
    relayed = CaseRegistryClient(client.contract, net.relayed)
    result = relayed.open_case(net.accounts["retailer"], PO, TEMPLATE)
    assert client.state_hash_of(case_id_of(PO, net.accounts["retailer"].address)) != to_hex(bytes(32))
    assert result.gas_used > 0


# ---------------------------------------------------------------- steps
def test_steps_chain_like_python_and_update_the_slot(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    case.append(CONTRACT, ["retailer", "manufacturer"])
    case.append(ACCEPTANCE, ["retailer", "inspector"])
    assert client.state_hash_of(case.id) == to_hex(case.state.hash)
    assert case.state.steps == 4 and case.state.supplier == net.accounts["manufacturer"].address
    chain_case = client.read_case(case.id)
    assert chain_case is not None and chain_case.verified
    assert [s.index for s in chain_case.steps] == [1, 2, 3, 4]
    assert chain_case.kinds == KINDS
    step = Step(CONTRACT, document_hash({"x": 1}), 2, keccak_text("ref"), ZERO_ADDRESS)
    signers = [net.accounts["retailer"].address]
    on_chain = client.contract.functions.nextHead(b"\x01" * 32, 7, step.as_tuple(), signers, 1234).call()
    assert bytes(on_chain) == next_head(b"\x01" * 32, 7, step, signers, 1234)


def test_step_digest_matches_python_typed_data(net: Net, client: CaseRegistryClient) -> None:
    from eth_account.messages import encode_typed_data

    from tracechain.chain.cases import step_typed_data

    step = Step(CONTRACT, document_hash({"x": 1}), 0, bytes(32), ZERO_ADDRESS)
    signers = [net.accounts["retailer"].address, net.accounts["manufacturer"].address]
    typed = step_typed_data(net.chain.chain_id, client.address, b"\x02" * 32, 3, step, signers, 99)
    message = encode_typed_data(full_message=typed)
    from eth_utils import keccak

    digest = keccak(b"\x19\x01" + message.header + message.body)
    assert client.step_digest(b"\x02" * 32, 3, step, signers, 99) == digest


@pytest.mark.parametrize(
    ("kind", "signer_names", "error"),
    [
        (INVOICE, ["retailer"], errors.CaseRegistryWrongSigner),  # the buyer signs the supplier's invoice
        (CONTRACT, ["manufacturer", "retailer"], errors.CaseRegistryWrongSigner),  # signers out of rule order
        (CONTRACT, ["retailer", "logistics"], errors.CaseRegistryWrongSigner),  # not the awarded supplier
        (ACCEPTANCE, ["retailer", "manufacturer"], errors.CaseRegistryInspectorNotIndependent),
        (ACCEPTANCE, ["retailer", "notary"], errors.ActorRegistryMissingRole),  # no inspector role
        (ACCEPTANCE, ["retailer"], errors.CaseRegistrySignerCount),
    ],
)
def test_a_step_signed_by_the_wrong_role_is_refused_and_nothing_changes(
    net: Net, client: CaseRegistryClient, kind: int, signer_names: list[str], error: type[Exception]
) -> None:
    case = Case(net, client).awarded()
    before = client.state_hash_of(case.id)
    with pytest.raises(error):
        case.append(kind, signer_names)
    assert client.state_hash_of(case.id) == before
    chain_case = client.read_case(case.id)
    assert chain_case is not None and len(chain_case.steps) == 2 and chain_case.verified


def test_a_signature_by_another_key_is_refused(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    with pytest.raises(errors.CaseRegistryInvalidSignature) as refused:
        case.append(INVOICE, ["manufacturer"], keys=[net.accounts["manufacturer2"]])
    assert refused.value.error_args == {"signer": net.accounts["manufacturer"].address, "index": 0}


def test_supplier_signature_needs_a_named_supplier(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client)
    with pytest.raises(errors.CaseRegistryNoSupplier):
        case.append(INVOICE, ["manufacturer"])
    with pytest.raises(errors.CaseRegistryInvalidParty):
        case.append(AWARD, ["retailer"])  # an award must name the supplier
    with pytest.raises(errors.CaseRegistryInvalidParty):
        case.append(APPROVAL, ["retailer"], party=net.accounts["manufacturer"].address)
    with pytest.raises(errors.CaseRegistryInvalidSupplier):
        case.append(AWARD, ["retailer"], party=net.accounts["inspector"].address)


def test_supplier_named_at_opening_may_sign_at_once(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client, supplier=net.accounts["manufacturer"].address)
    case.append(CONTRACT, ["retailer", "manufacturer"])
    assert client.state_hash_of(case.id) == to_hex(case.state.hash)


def test_stale_or_forged_state_is_refused(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    stale = case.state
    case.append(CONTRACT, ["retailer", "manufacturer"])
    case.state = stale
    with pytest.raises(errors.CaseRegistryStateMismatch):
        case.append(INVOICE, ["manufacturer"])
    case.state = replace(stale, supplier=net.accounts["logistics"].address)  # a forged supplier
    with pytest.raises(errors.CaseRegistryStateMismatch):
        case.append(INVOICE, ["logistics"])
    with pytest.raises(errors.CaseRegistryUnknownCase):
        client.append_step(net.accounts["relayer"], b"\x09" * 32, stale, Step(1, b"\x01" * 32), [], 2**40, [])


def test_signatures_are_good_for_one_position_only(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    signers = [net.accounts["manufacturer"].address]
    step = Step(INVOICE, document_hash({"invoice": 1}))
    deadline = case.deadline()
    sigs = case.signatures(step, signers, deadline)
    relayer = net.accounts["relayer"]
    result = client.append_step(relayer, case.id, case.state, step, signers, deadline, sigs)
    timestamp = int(net.chain.w3.eth.get_block(result.block_number)["timestamp"])
    case.state = case.state.after(step, signers, timestamp)
    with pytest.raises(errors.CaseRegistryInvalidSignature):  # replayed as step 4
        client.append_step(relayer, case.id, case.state, step, signers, deadline, sigs)


def test_expired_signatures_and_unknown_kinds(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    signers = [net.accounts["retailer"].address]
    step = Step(APPROVAL, document_hash({"late": True}))
    deadline = case.deadline()
    sigs = case.signatures(step, signers, deadline)
    net.chain.increase_time(7200)
    with pytest.raises(errors.CaseRegistrySignaturesExpired):
        client.append_step(net.accounts["relayer"], case.id, case.state, step, signers, deadline, sigs)
    for kind in (0, 7, 200):
        with pytest.raises(errors.CaseRegistryUnknownKind):
            case.append(kind, ["retailer"])


def test_amendments_reference_earlier_steps_only(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    case.append(CONTRACT, ["retailer", "manufacturer"], doc={"contract": "v1"})
    case.append(CONTRACT, ["retailer", "manufacturer"], doc={"contract": "v2"}, amends=3)
    with pytest.raises(errors.CaseRegistryInvalidAmendment):
        case.append(CONTRACT, ["retailer", "manufacturer"], amends=5)  # itself
    chain_case = client.read_case(case.id)
    assert chain_case is not None and chain_case.verified
    assert [s.step.amends for s in chain_case.steps] == [0, 0, 0, 3]


def test_suspended_party_cannot_sign(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    net.actors.suspend_actor(net.accounts["governance"], net.accounts["manufacturer"].address)
    with pytest.raises(errors.ActorRegistryActorSuspended):
        case.append(INVOICE, ["manufacturer"])


def test_a_withheld_step_breaks_the_fold(net: Net, client: CaseRegistryClient) -> None:
    case = Case(net, client).awarded()
    case.append(CONTRACT, ["retailer", "manufacturer"])
    chain_case = client.read_case(case.id)
    assert chain_case is not None
    state = CaseState(bytes.fromhex(chain_case.heads[0][2:]), 0, chain_case.opened.buyer, ZERO_ADDRESS, RULES)
    for s in (chain_case.steps[0], chain_case.steps[2]):  # step 2 (the award) withheld
        state = state.after(s.step, s.signers, s.timestamp)
    assert to_hex(state.hash) != chain_case.stored_state_hash
