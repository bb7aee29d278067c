"""Configuration: defaults, instance file, TOWNSHIP_* environment, documented keys."""

import logging
from pathlib import Path

import pytest

from core import create_app
from core.config import SETTINGS, normalise_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWNSHIP_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [key for key in SETTINGS if f"`TOWNSHIP_{key}`" not in readme]
    assert not missing, f"settings missing from the README: {missing}"


def test_defaults_are_the_embedded_mode(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'township.db'}"
    assert app.config["BROKER_URL"] is None
    assert app.config["DEFAULT_LOCALE"] == "zh_CN"
    assert app.config["DEFAULT_TIMEZONE"] == "Asia/Shanghai"
    from core.db import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_secret_key_is_generated_once_into_the_instance_folder(instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (instance / "secret_key").read_text() == first
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0
    (instance / "secret_key").unlink()
    assert create_app().config["SECRET_KEY"] != first


def test_instance_file_then_environment_then_arguments(instance, monkeypatch):
    (instance / "township.toml").write_text("page_size = 30\nport = 6000\n")
    assert create_app().config["PAGE_SIZE"] == 30
    monkeypatch.setenv("TOWNSHIP_PAGE_SIZE", "40")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 40 and app.config["PORT"] == 6000
    assert create_app({"PAGE_SIZE": 50}).config["PAGE_SIZE"] == 50


def test_unknown_settings_are_warned(instance, monkeypatch, caplog):
    monkeypatch.setenv("TOWNSHIP_BROKER_ULR", "redis://x")
    with caplog.at_level(logging.WARNING, logger="core.config"):
        create_app()
    assert "unknown setting BROKER_ULR" in caplog.text


def test_postgres_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_a_wrong_broker_url_is_a_clear_error(instance):
    with pytest.raises(ValueError, match="BROKER_URL must start with redis://"):
        create_app({"BROKER_URL": "kafka://x"})
