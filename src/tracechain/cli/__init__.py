"""The `tracechain` command line (Typer). Only this package knows about exit codes."""
