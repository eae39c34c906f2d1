"""The one user-error class.

Anything a user can cause (a bad path, a bad flag value, a damaged file) raises
:class:`ActinrError`. The command line prints its message on one line and exits
with status 1; library code never calls ``sys.exit``.
"""


class ActinrError(Exception):
    """A mistake in the user's input or files, reported without a traceback."""


def missing_package(package: str, extra: str | None = None) -> ActinrError:
    """The error for an optional dependency that is not installed."""
    hint = f"pip install 'actinr[{extra}]'" if extra else f"pip install {package}"
    return ActinrError(f"this needs the Python package '{package}', which is not installed: {hint}")
