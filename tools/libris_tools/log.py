"""Progress lines and the one way a command fails."""

import sys


class Failure(Exception):
    """A check or a step that cannot go on; `__main__` prints it as `error: …` and exits with `code`."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def log(message):
    """A progress line on stderr, the `==> …` lines every script has printed."""
    print(f"\n==> {message}", file=sys.stderr, flush=True)


def warn(message):
    print(f"warning: {message}", file=sys.stderr, flush=True)
