from tests.services.cases_kit import Procurement
from tracechain.services.cases import CaseReader, CaseService
import time

def test_smoke(net, runtime):
    t = time.perf_counter()
    CaseService(runtime).register_template(net.accounts["governance"])
    p = Procurement(net, runtime, "PO-1").complete()
    print("write", time.perf_counter() - t)
    t = time.perf_counter()
    view = CaseReader(runtime).case(p.case_id)
    print("read", time.perf_counter() - t)
    print(view.verification)
    for s in view.timeline:
        print(s.index, s.kind, s.verified, s.problems)
    for f in view.findings:
        print(f.code, f.message)
    print(view.reconciliation)
    print(view.price_checks)
    assert view.verification.verified
