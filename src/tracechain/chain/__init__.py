"""Everything that talks to an EVM chain: compile, connect, deploy, transact and typed clients."""
