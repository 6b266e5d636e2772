"""Progress lines and warnings, on stderr: stdout stays clean for --json."""

import sys


class Progress:
    def __init__(self, quiet: bool = False) -> None:
        self._quiet = quiet

    def line(self, message: str) -> None:
        if not self._quiet:
            print(message, file=sys.stderr, flush=True)

    def warn(self, message: str) -> None:
        """Printed even when quiet."""
        print(f"warning: {message}", file=sys.stderr, flush=True)
