"""Exit codes, and the error that carries one to the user: a message, no traceback."""

EXIT_OK = 0
EXIT_UNREACHABLE = 3  # the orchestrator
EXIT_RUNNER = 4  # unknown, busy or not ready
EXIT_PARAMS = 5  # refused by the runner
EXIT_INPUT = 6  # the input video cannot be read
EXIT_STREAM = 7  # the stream failed or gave no output
EXIT_INTERRUPTED = 130  # Ctrl-C
# (2, a usage error, is argparse's own.)


class ClientError(Exception):
    """An error with a message for the user and the exit code it maps to."""

    def __init__(self, message: str, exit_code: int = EXIT_STREAM) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ChannelClosed(ClientError):
    """The trickle channel is gone (404 or Lp-Trickle-Closed): the session ended."""
