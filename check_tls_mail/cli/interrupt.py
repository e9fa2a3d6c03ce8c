"""The words of the one UNKNOWN line SIGINT gives, shared by the console entry and the run (no imports)."""

INTERRUPTED = "interrupted (SIGINT): the check did not complete"
