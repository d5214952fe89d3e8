"""The running API anchors notary batches that become due by age, with no request to trigger it."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tracechain.api.app import create_app
from tracechain.hashing import keccak_text
from tracechain.services.notary import NotaryService
from tracechain.types import Role


def test_partial_batch_is_anchored_once_due_by_age(net, runtime) -> None:
    net.actors.register_actor(net.accounts["governance"], runtime.operator.address, "Platform", [Role.NOTARY])
    runtime.settings = runtime.settings.model_copy(update={"batch_max_age_seconds": 1, "batch_max_records": 1000})
    service = NotaryService(runtime)
    record = keccak_text("delivery note 77")
    service.enqueue(record, "delivery")
    assert service.status(record).status == "queued"
    with TestClient(create_app(runtime, batch_interval=0.2)):
        deadline = time.monotonic() + 15
        while service.status(record).status != "notarized" and time.monotonic() < deadline:
            time.sleep(0.2)
    status = service.status(record)
    assert status.status == "notarized" and status.method == "batched"
    assert status.notary == runtime.operator.address
