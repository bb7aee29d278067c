"""Run ``township worker`` / ``township scheduler`` in a subprocess with the example plugin.

Tests only: ``python -m tests.scheduler.township_proc scheduler`` builds the app with
``EXTRA_PLUGINS=[tests.example_plugin]`` (the rest of the configuration comes from
``TOWNSHIP_*`` variables, as for the real command) and runs the same click commands
the ``township`` group runs.
"""

from __future__ import annotations

from flask.cli import FlaskGroup


def _create_app():
    from core.app import create_app
    from tests import example_plugin

    return create_app({"EXTRA_PLUGINS": [example_plugin]})


def main() -> None:
    from core.worker import worker_command
    from scheduler.cli import scheduler_command

    group = FlaskGroup(
        create_app=_create_app,
        add_default_commands=False,
        add_version_option=False,
        load_dotenv=False,
        set_debug_flag=False,
    )
    group.add_command(worker_command)
    group.add_command(scheduler_command)
    group(prog_name="township")


if __name__ == "__main__":
    main()
