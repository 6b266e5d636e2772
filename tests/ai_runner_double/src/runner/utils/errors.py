"""Exceptions of the ai-runner v0.14.1 offline double (same names as ai-runner's)."""


class InferenceError(Exception):
    """A pipeline call failed; the routes answer it with 400 and its message."""

    def __init__(self, message="Error during model execution", original_exception=None):
        if original_exception:
            message = f"{message}: {original_exception}"
        super().__init__(message)
        self.original_exception = original_exception
