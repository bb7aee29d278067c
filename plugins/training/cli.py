"""``township training import FILE``: the sheet import on the command line, with a progress bar."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("training")
def training():
    """Training records (学习培训): imports."""


@training.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--township", "code", required=True, help="Code of the township (e.g. demo).")
@click.option(
    "--kind",
    type=click.Choice(["hours", "roster"]),
    default="hours",
    show_default=True,
    help="What the sheet holds.",
)
@click.option("--dry-run", is_flag=True, help="Check every row, write nothing.")
@with_appcontext
def import_command(path: str, code: str, kind: str, dry_run: bool) -> None:
    """Check every row of an XLSX sheet, then write all rows, or none when any is bad."""
    from sqlalchemy import select

    from core.db import db
    from core.institutions import is_enabled
    from core.models import OrgUnit, UnitKind
    from plugins.training import imports
    from plugins.training.services import TrainingError

    township = db.session.scalar(
        select(OrgUnit).where(OrgUnit.code == code, OrgUnit.kind == UnitKind.township)
    )
    if township is None:
        raise click.ClickException(f"no township with code {code!r}")
    if not is_enabled(township.id, "training"):
        raise click.ClickException(f"{township.name} has not enabled the training institution")
    try:
        with open(path, "rb") as stream:
            rows = imports.read_sheet(stream)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(length=len(rows), label=f"Checking {len(rows)} rows") as bar:
        valid, problems = imports.parse_rows(township.id, kind, rows, progress=bar.update)
    if problems:
        for problem in problems:
            click.echo(f"row {problem['row']}: " + "; ".join(problem["errors"]), err=True)
        raise click.ClickException(
            f"{len(problems)} bad rows of {len(rows)}: nothing was written; fix the sheet"
        )
    if dry_run:
        click.echo(f"{len(valid)} rows are fine (dry run: nothing written).")
        return
    try:
        count = imports.write_rows(township.id, kind, valid)
        db.session.commit()
    except TrainingError as exc:
        db.session.rollback()
        raise click.ClickException("; ".join(exc.problems)) from None
    click.echo(f"{count} rows imported into {township.name}.")


COMMANDS = [training]
