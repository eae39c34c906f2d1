"""The one user-error class, and optional dependencies that become one.

Anything a user can cause (a bad path, a bad flag value, a damaged file, a
missing optional package) raises :class:`ActinrError`. The command line prints
its message on one line and exits with status 1; library code never calls
``sys.exit``.
"""

from __future__ import annotations

import importlib


class ActinrError(Exception):
    """A mistake in the user's input or files, reported without a traceback."""


def missing_package(package: str, extra: str | None = None) -> ActinrError:
    """The error for an optional dependency that is not installed."""
    hint = f"pip install 'actinr[{extra}]'" if extra else f"pip install {package}"
    return ActinrError(f"this needs the Python package '{package}', which is not installed: {hint}")


def optional_import(module: str | tuple[str, ...], extra: str | None = None, package: str | None = None):
    """Import an optional dependency, or raise :class:`ActinrError` with the one-line install hint.

    ``module`` may list alternatives (a package that moved its module), tried in
    order; ``package`` is the name to pip-install (default: the module's top
    level); ``extra`` the actinr extra that brings it.
    """
    names = (module,) if isinstance(module, str) else tuple(module)
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise missing_package(package or names[0].split(".")[0], extra)
