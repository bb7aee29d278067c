"""The app gunicorn serves in ``make bench``: ``create_app()`` with ``TOWNSHIP_BENCH=true``.

With the bench setting on, the factory adds the hello-world route ``/bench/hello``
(the ceiling public pages are compared with); a tree older than that setting gets
the same route here, so a "before" measurement has its ceiling too.
"""

from __future__ import annotations

from core import create_app

app = create_app()
if "bench_hello" not in app.view_functions:
    app.add_url_rule("/bench/hello", "bench_hello", lambda: "Hello, World!")
