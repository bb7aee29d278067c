"""gunicorn settings for the platform's web processes.

    gunicorn -c python:core.gunicorn_conf -w 4 -b 0.0.0.0:8000 'core:create_app()'

The app is built once, in gunicorn's master process, and the workers are forked from
it (``preload_app``): the imported code, the 116 mapped models and the admin views are
then pages the workers share instead of each building its own copy. For those pages to
stay shared, the collector must not write into the objects made before the fork, so the
master freezes them (:func:`gc.freeze`, as Python's documentation advises for a
pre-forking server) and each worker starts collecting again on its own objects.

Nothing made in the master may be used by two processes: the app opens no database
connection while it is built, and each worker drops the database pool it inherited
all the same (``Engine.dispose(close=False)``), so a worker only ever talks over its
own connections. Redis clients (the cache, the broker) reconnect by themselves in a new
process; the heartbeat thread starts on a worker's first request.

Every other gunicorn setting (``-w``, ``-b``, ``--timeout`` ...) is given on the command
line as usual.
"""

from __future__ import annotations

import gc

preload_app = True


def on_starting(server) -> None:
    """Building the app makes many objects and frees few: no collection until the fork."""
    gc.disable()


def pre_fork(server, worker) -> None:
    """Keep the collector out of the shared objects (it would copy their pages)."""
    gc.freeze()


def post_fork(server, worker) -> None:
    """Drop the inherited database pool and collect this worker's own objects again."""
    gc.enable()
    app = server.app.wsgi()
    from core.db import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
