"""Logging set-up of the ai-runner v0.14.1 offline double; every line says it is the double."""

import logging
import os


def configure_logging(role: str) -> None:
    """Log to stderr at INFO (DEBUG when VERBOSE_LOGGING=1), tagging lines as the double's."""
    level = logging.DEBUG if os.environ.get("VERBOSE_LOGGING") == "1" else logging.INFO
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s ai-runner-double[{role}] %(levelname)s %(name)s: %(message)s",
    )
