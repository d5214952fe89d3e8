"""`python -m tracechain.cli`: the same as the `tracechain` command."""

from tracechain.cli.main import main

main()
