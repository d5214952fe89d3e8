"""The base of every typed contract client."""

from __future__ import annotations

from web3.contract import Contract

from tracechain.chain.transact import Transactor


class ContractClient:
    """A deployed contract and the Transactor its writes go through (direct or relayed)."""

    def __init__(self, contract: Contract, transactor: Transactor) -> None:
        self.contract = contract
        self.tx = transactor

    @property
    def address(self) -> str:
        """The contract's address."""
        return str(self.contract.address)
