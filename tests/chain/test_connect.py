"""The embedded chain's clock: tests must never depend on how fast the machine runs them."""

from __future__ import annotations

from tracechain.chain.connect import embedded_chain


def _pending_timestamp(chain) -> int:  # noqa: ANN001
    return int(chain.w3.eth.get_block("pending")["timestamp"])


def test_increase_time_never_travels_backwards_when_the_wall_clock_ran_ahead() -> None:
    chain = embedded_chain()
    tester = chain._tester
    latest = int(chain.w3.eth.get_block("latest")["timestamp"])
    # A slow run: the pending block (on the wall clock) is already far past latest + 60.
    backend = tester.backend
    backend.chain.header = backend.chain.header.copy(timestamp=latest + 3600)
    assert chain.increase_time(60) >= latest + 60


def test_manual_clock_blocks_are_one_second_apart_whatever_the_wall_clock() -> None:
    chain = embedded_chain(manual_clock=True)
    chain._tester.mine_blocks(3)
    times = [int(chain.w3.eth.get_block(n)["timestamp"]) for n in (1, 2, 3)]
    assert times[1] - times[0] == 1 and times[2] - times[1] == 1
    assert _pending_timestamp(chain) == times[2] + 1


def test_manual_clock_moves_exactly_as_told_and_survives_a_revert() -> None:
    chain = embedded_chain(manual_clock=True)
    snapshot = chain.snapshot()
    before = int(chain.w3.eth.get_block("latest")["timestamp"])
    assert chain.increase_time(120) == before + 120
    chain.revert(snapshot)
    assert _pending_timestamp(chain) == before + 1
