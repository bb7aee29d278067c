"""The `township` command as an operator uses it."""

from click.testing import CliRunner
from sqlalchemy import func, select

from core.cli import main
from core.models import Membership, OrgUnit, User


def run(app, *args, input=None):
    result = CliRunner().invoke(main, list(args), obj=_script_info(app), input=input)
    return result


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_demo_is_idempotent_and_prints_logins(app, db):
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    assert "dongfeng-clerk" in first.output and "county_admin" in first.output
    counts = db.session.scalar(select(func.count(User.id)))
    second = run(app, "demo")
    assert second.exit_code == 0 and "0 new login(s)" in second.output
    assert db.session.scalar(select(func.count(User.id))) == counts
    kinds = dict(
        db.session.execute(
            select(OrgUnit.kind, func.count(OrgUnit.id)).group_by(OrgUnit.kind)
        ).all()
    )
    assert kinds == {"county": 1, "township": 2, "village": 5, "station": 6}


def test_demo_login_works_with_the_printed_password(app, db, client):
    output = run(app, "demo").output
    line = next(line for line in output.splitlines() if line.strip().startswith("hongqi-clerk"))
    username, password = line.split()[:2]
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302


def test_users_create(app, db, township):
    result = run(
        app,
        "users",
        "create",
        "li",
        "--name",
        "李四",
        "--role",
        f"clerk@{township.code}",
        "--password",
        "long enough pw",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "li"))
    assert [m.role for m in user.memberships] == ["clerk"]


def test_users_create_with_bad_input_writes_nothing(app, db, township):
    bad_role = run(
        app,
        "users",
        "create",
        "li",
        "--name",
        "x",
        "--role",
        f"emperor@{township.code}",
        "--password",
        "long enough pw",
    )
    assert bad_role.exit_code == 2 and "unknown role 'emperor'" in bad_role.output
    bad_unit = run(
        app,
        "users",
        "create",
        "li",
        "--name",
        "x",
        "--role",
        "clerk@nowhere",
        "--password",
        "long enough pw",
    )
    assert "no org unit with code 'nowhere'" in bad_unit.output
    short = run(
        app,
        "users",
        "create",
        "li",
        "--name",
        "x",
        "--role",
        f"clerk@{township.code}",
        "--password",
        "short",
    )
    assert short.exit_code == 2 and "8 characters" in short.output
    assert db.session.scalar(select(func.count(User.id))) == 0
    assert db.session.scalar(select(func.count(Membership.id))) == 0


def test_plugins_list_shows_versions_hooks_and_townships(app, db, township):
    from core.institutions import set_enabled

    set_enabled(township, "example", True)
    result = run(app, "plugins", "list")
    assert result.exit_code == 0, result.output
    assert "example 0.1" in result.output
    assert f"enabled in: {township.name}" in result.output
    assert "township_blueprints" in result.output


def test_db_upgrade_reports_the_heads(app, db):
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "0001example" in result.output


def test_users_token_prints_a_token_the_api_accepts(app, db, client, clerk):
    result = run(app, "users", "token", clerk.username, "--name", "county OA")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["username"] == clerk.username
    unknown = run(app, "users", "token", "nobody", "--name", "x")
    assert unknown.exit_code == 2 and "no user 'nobody'" in unknown.output
