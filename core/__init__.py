"""The township platform's small core.

Plugins import their public names from here: ``from core import hookimpl``.
"""

import pluggy

__version__ = "0.1.0"

#: The marker every plugin uses for its hook implementations.
hookimpl = pluggy.HookimplMarker("township")


def create_app(config=None):
    """Build the Flask application (see :func:`core.app.create_app`)."""
    from core.app import create_app as _create_app

    return _create_app(config)


__all__ = ["__version__", "create_app", "hookimpl"]
