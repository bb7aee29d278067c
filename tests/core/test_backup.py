"""`township backup` and `township restore`: the demo county round-trips; damage is refused."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core.backup import (
    BackupError,
    create_backup,
    database_is_empty,
    restore_backup,
    table_counts,
)
from core.cli import main
from core.config import normalise_database_url
from core.plugins import state


def _rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, as sorted tuples of text (JSON and dates compare as text)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            return {
                name: sorted(
                    tuple(repr(value) for value in row)
                    for row in conn.execute(text(f"SELECT * FROM {quote(name)}"))
                )
                for name in sorted(inspect(conn).get_table_names())
            }
    finally:
        engine.dispose()


def _files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "backups" not in path.parts
    }


@pytest.fixture
def target_url(database_url, tmp_path):
    """An empty database of the same kind as the test database (PostgreSQL: a sibling)."""
    url = normalise_database_url(database_url)
    if make_url(url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"{make_url(url).database}_restore"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def demo_instance(app, db, tmp_path):
    """The demo county (every institution's demo data) and an instance folder with files."""
    from core.demo import load_demo

    load_demo()
    folder = tmp_path / "instance"
    (folder / "archives" / "2026").mkdir(parents=True)
    (folder / "secret_key").write_text("the-secret-of-this-instance")
    (folder / "township.toml").write_text('default_locale = "zh_CN"\n')
    (folder / "archives" / "2026" / "scan.pdf").write_bytes(b"%PDF-1.4 " + bytes(range(256)))
    (folder / "township.db").write_bytes(b"the live SQLite file is never copied")
    return folder


def test_the_demo_county_round_trips_through_backup_and_restore(
    app, db, database_url, demo_instance, target_url, tmp_path
):
    source_url = app.config["SQLALCHEMY_DATABASE_URI"]
    source = _rows(source_url)
    # data of every institution: each loaded plugin with tables has rows in them
    for key in state(app).plugins:
        tables = [t for t in source if t.startswith(f"{key}_")]
        if tables:
            assert any(source[t] for t in tables), f"the demo has no {key} data"

    archive = tmp_path / "out" / "backup.tar.gz"
    summary = create_backup(source_url, demo_instance, archive, version="test")
    assert summary.path == archive and archive.exists()
    assert summary.rows == sum(len(rows) for rows in source.values())

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "instance/township.db" not in names
    assert {"instance/secret_key", "instance/archives/2026/scan.pdf"} <= names
    assert manifest["database"]["tables"] == table_counts(source_url)
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())

    restored_instance = tmp_path / "restored-instance"
    restore_backup(archive, target_url, restored_instance)

    assert _rows(target_url) == source, "every table, every row"
    expected_files = {k: v for k, v in _files(demo_instance).items() if k != "township.db"}
    assert _files(restored_instance) == expected_files

    # a second restore is refused: the target database is no longer empty
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive, target_url, restored_instance)


def test_a_damaged_archive_is_refused_and_nothing_is_written(
    app, db, demo_instance, target_url, tmp_path
):
    archive = tmp_path / "backup.tar.gz"
    create_backup(app.config["SQLALCHEMY_DATABASE_URI"], demo_instance, archive)
    restored = tmp_path / "restored"

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(BackupError, match="damaged or not a backup archive"):
        restore_backup(truncated, target_url, restored)

    # a member changed after the backup: the checksum gives it away
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "instance/archives/2026/scan.pdf":
                data = data.replace(b"%PDF", b"%PDX")
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(BackupError, match=r"checksum of instance/archives/2026/scan\.pdf"):
        restore_backup(tampered, target_url, restored)

    not_a_backup = tmp_path / "notes.tar.gz"
    with tarfile.open(not_a_backup, "w:gz") as tar:
        tar.add(demo_instance / "township.toml", arcname="township.toml")
    with pytest.raises(BackupError, match="not a township backup"):
        restore_backup(not_a_backup, target_url, restored)

    assert database_is_empty(target_url)
    assert not restored.exists()


def test_the_commands_write_and_refuse_with_a_clear_message(app, db, tmp_path):
    info = ScriptInfo(create_app=lambda: app)
    archive = tmp_path / "cli.tar.gz"
    result = CliRunner().invoke(main, ["backup", "--output", str(archive)], obj=info)
    assert result.exit_code == 0, result.output
    assert f"Backup written: {archive}" in result.output
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not an archive")
    result = CliRunner().invoke(main, ["restore", str(broken)], obj=info)
    assert result.exit_code == 1
    assert (
        "Nothing restored:" in result.output and "damaged or not a backup archive" in result.output
    )
    # this instance's database has tables: a good archive is refused too
    result = CliRunner().invoke(main, ["restore", str(archive)], obj=info)
    assert result.exit_code == 1 and "not empty" in result.output
