"""``township backup`` and ``township restore``: the database and the instance files, one archive.

The archive is a gzipped tar file::

    manifest.json          what is inside: format, when, the database kind, the
                           migration heads, row counts, and every file with its
                           size and SHA-256
    database.sqlite3       an SQLite database copied with SQLite's online backup API
                           (consistent while the platform keeps writing), or
    database.pgdump        ``pg_dump --format=custom`` of a PostgreSQL database
    instance/...           the instance folder: the secret key, township.toml, files
                           the institutions keep there (archived documents,
                           uploads); never the live SQLite files

:func:`restore_backup` checks every checksum before it touches anything and refuses
a damaged or incomplete archive with a message naming what is wrong; it restores
only into an empty database (no tables), so a backup never overwrites live data.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

FORMAT = "township-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
INSTANCE_PREFIX = "instance/"
#: never copied from the instance folder (the live database, its journals, old backups)
SKIPPED_NAMES = {"township.db", "township.db-wal", "township.db-shm", "township.db-journal"}
SKIPPED_DIRS = {"backups", "__pycache__"}


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class BackupSummary:
    path: Path
    database: str
    files: int
    bytes: int
    tables: int
    rows: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _kind(database_url: str) -> str:
    name = make_url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_url(database_url: str) -> str:
    """The URL for pg_dump/pg_restore/psql (no SQLAlchemy driver suffix)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = make_url(database_url).password
    if password:
        env["PGPASSWORD"] = str(password)
    return env


def _run(args: list[str], database_url: str, what: str) -> None:
    tool = args[0]
    if shutil.which(tool) is None:
        raise BackupError(
            f"{tool} is not installed; install the PostgreSQL client of your server's "
            "version (Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(args, env=_pg_env(database_url), capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def table_counts(database_url: str) -> dict[str, int]:
    """Rows per table of the database (every table the database has)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            quote = conn.dialect.identifier_preparer.quote
            return {
                name: conn.execute(text(f"SELECT COUNT(*) FROM {quote(name)}")).scalar_one()
                for name in names
            }
    finally:
        engine.dispose()


def _heads(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return []
            return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def _instance_files(instance_path: Path) -> list[Path]:
    files = []
    if not instance_path.exists():
        return files
    for root, dirs, names in os.walk(instance_path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            if name in SKIPPED_NAMES:
                continue
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                files.append(path)
    return files


def default_archive_name(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"township-{now:%Y%m%d-%H%M%S}.tar.gz"


def create_backup(
    database_url: str, instance_path: str | Path, output: str | Path, version: str = ""
) -> BackupSummary:
    """Write one archive with the database and the instance files; returns a summary.

    The archive is written to a temporary name beside ``output`` and renamed when
    complete, so a crash never leaves a half archive under the final name.
    """
    kind = _kind(database_url)
    instance_path = Path(instance_path)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    counts = table_counts(database_url)
    with tempfile.TemporaryDirectory(prefix="township-backup-") as work:
        work_dir = Path(work)
        if kind == "sqlite":
            member = SQLITE_MEMBER
            source = sqlite3.connect(_sqlite_path(database_url))
            target = sqlite3.connect(work_dir / member)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            member = PG_MEMBER
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={work_dir / member}",
                    f"--dbname={_libpq_url(database_url)}",
                ],
                database_url,
                "pg_dump",
            )
        entries: list[tuple[str, Path]] = [(member, work_dir / member)]
        for path in _instance_files(instance_path):
            relative = path.relative_to(instance_path).as_posix()
            entries.append((INSTANCE_PREFIX + relative, path))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "version": version,
            "database": {
                "kind": kind,
                "member": member,
                "heads": _heads(database_url),
                "tables": counts,
            },
            "files": {
                name: {"size": path.stat().st_size, "sha256": _sha256(path)}
                for name, path in entries
            },
        }
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(datetime.now(UTC).timestamp())
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, path in entries:
                tar.add(path, arcname=name, recursive=False)
        os.chmod(partial, 0o600)  # it holds the secret key
        partial.replace(output)
    return BackupSummary(
        path=output,
        database=kind,
        files=len(entries) - 1,
        bytes=output.stat().st_size,
        tables=len(counts),
        rows=sum(counts.values()),
    )


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def verify_archive(archive: str | Path, into: Path) -> dict[str, Any]:
    """Unpack ``archive`` into ``into`` and check it whole; the manifest, or BackupError.

    Refuses: not a readable gzipped tar, no manifest or another format, a member the
    manifest does not list or a listed member missing, a size or SHA-256 that differs,
    a name that would leave the target folder, a link or device.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive}: no such file")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if not member.isfile() or not _safe_name(member.name):
                    raise BackupError(
                        f"{archive}: refused: the member {member.name!r} is not a plain file "
                        "inside the archive's folder"
                    )
            tar.extractall(into, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{archive}: damaged or not a backup archive ({exc})") from exc
    manifest_path = into / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{archive}: no {MANIFEST}: not a township backup")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise BackupError(f"{archive}: the manifest is damaged ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{archive}: unknown backup format {manifest.get('format')!r} (expected {FORMAT})"
        )
    listed = manifest.get("files") or {}
    present = {m.name for m in members} - {MANIFEST}
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    if missing:
        raise BackupError(f"{archive}: damaged: missing {', '.join(missing[:5])}")
    if extra:
        raise BackupError(f"{archive}: damaged: unexpected {', '.join(extra[:5])}")
    for name, expected in sorted(listed.items()):
        path = into / name
        if path.stat().st_size != expected.get("size") or _sha256(path) != expected.get("sha256"):
            raise BackupError(f"{archive}: damaged: the checksum of {name} does not match")
    database = manifest.get("database") or {}
    if database.get("member") not in listed:
        raise BackupError(f"{archive}: damaged: the database is missing")
    return manifest


def database_is_empty(database_url: str) -> bool:
    """Whether the database has no table at all (a new, empty database)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore_backup(
    archive: str | Path, database_url: str, instance_path: str | Path
) -> dict[str, Any]:
    """Bring an archive back into an empty database and instance folder; the manifest.

    The whole archive is checked first (:func:`verify_archive`); nothing is written
    unless it is intact. The database must have no table, and the archive's database
    kind must match the target's (an SQLite backup restores into SQLite, a PostgreSQL
    one into PostgreSQL). Instance files are written over any file of the same name
    (a fresh instance has only a generated secret key, which the backup's replaces).
    """
    kind = _kind(database_url)
    instance_path = Path(instance_path)
    with tempfile.TemporaryDirectory(prefix="township-restore-") as work:
        work_dir = Path(work)
        manifest = verify_archive(archive, work_dir)
        database = manifest["database"]
        if database.get("kind") != kind:
            raise BackupError(
                f"the archive holds a {database.get('kind')} database; the target is {kind}"
            )
        if not database_is_empty(database_url):
            raise BackupError(
                "the target database is not empty: restore into a new, empty database "
                "(nothing was changed)"
            )
        source = work_dir / database["member"]
        if kind == "sqlite":
            target_path = _sqlite_path(database_url)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            src = sqlite3.connect(source)
            dst = sqlite3.connect(target_path)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "--clean",  # the target has no table: this only replaces an empty schema
                    "--if-exists",
                    f"--dbname={_libpq_url(database_url)}",
                    str(source),
                ],
                database_url,
                "pg_restore",
            )
        instance_path.mkdir(parents=True, exist_ok=True)
        for name in manifest["files"]:
            if not name.startswith(INSTANCE_PREFIX):
                continue
            relative = name[len(INSTANCE_PREFIX) :]
            target = instance_path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_dir / name, target)
            if relative == "secret_key":
                target.chmod(0o600)
        restored = table_counts(database_url)
        expected = database.get("tables") or {}
        wrong = {t: (n, restored.get(t)) for t, n in expected.items() if restored.get(t) != n}
        if wrong:
            raise BackupError(f"the restored row counts differ from the manifest: {wrong}")
    return manifest
