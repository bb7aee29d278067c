"""Seed the benchmark database: a county of 10 townships, 100,000 cases, staff, people,
and the rows each plugin's pages need (see :mod:`bench.pages`).

Rows go in with bulk INSERTs (minutes would go by through the services); the
numbers are what a county with ten busy townships holds. Seeding is skipped when
the database already holds this seed (``bench_meta``); ``--reseed`` starts over.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

SEED_VERSION = "5"
TOWNSHIPS = 10
CASES = 100_000
PEOPLE_PER_TOWNSHIP = 2_000
HANDLERS_PER_TOWNSHIP = 20
AUDIT_PER_TOWNSHIP = 2_000
#: the county administrator's inbox: overdue cases handled and extensions to decide, per
#: township (with the releases' products to approve and topics to answer: 10,000 items)
INBOX_CASES_PER_TOWNSHIP = 400
INBOX_EXTENSIONS_PER_TOWNSHIP = 200
PASSWORD = "bench-password"
CHUNK = 5_000


@dataclass
class Seeded:
    """What the pages and the measurements need to know about the seeded rows."""

    county_id: int = 0
    township_ids: list[int] = field(default_factory=list)
    township_codes: list[str] = field(default_factory=list)
    #: user names by role: "county", "leader", "clerk" ...
    users: dict[str, str] = field(default_factory=dict)
    receipt_no: str = ""
    #: anything a plugin's seeder wants its pages to find (ids, receipt numbers)
    extra: dict[str, object] = field(default_factory=dict)


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_rows(model, rows) -> None:
    """Bulk INSERT ``rows`` (dicts) into ``model``'s table, a chunk at a time."""
    from sqlalchemy import insert

    from core.db import db

    for chunk in _chunks(rows):
        db.session.execute(insert(model), chunk)


def _meta_table():
    from sqlalchemy import Column, MetaData, String, Table

    return Table(
        "bench_meta",
        MetaData(),
        Column("key", String(64), primary_key=True),
        Column("value", String(4000)),
    )


def read_seed() -> Seeded | None:
    """The seed already in the database, if it is this version."""
    import json

    from sqlalchemy import inspect, select

    from core.db import db

    if not inspect(db.engine).has_table("bench_meta"):
        return None
    meta = _meta_table()
    rows = dict(db.session.execute(select(meta.c.key, meta.c.value)).all())
    if rows.get("version") != SEED_VERSION or "seeded" not in rows:
        return None
    data = json.loads(rows["seeded"])
    return Seeded(**data)


def _write_seed(seeded: Seeded) -> None:
    import dataclasses
    import json

    from sqlalchemy import delete, insert

    from core.db import db

    meta = _meta_table()
    meta.create(db.engine, checkfirst=True)
    db.session.execute(delete(meta))
    db.session.execute(
        insert(meta),
        [
            {"key": "version", "value": SEED_VERSION},
            {"key": "seeded", "value": json.dumps(dataclasses.asdict(seeded))},
        ],
    )
    db.session.commit()


def seed(app, plugin_seeders, *, log=print) -> Seeded:
    """Seed everything (inside ``app``'s context); returns what was seeded."""
    from sqlalchemy import select, text, update

    from core import clock
    from core.auth import hash_password
    from core.db import db, utcnow
    from core.institutions import set_enabled
    from core.models import (
        OPEN_STATUSES,
        AuditEvent,
        Case,
        ExtensionRequest,
        LimitUnit,
        Membership,
        Notification,
        OrgUnit,
        Person,
        PersonCategory,
        UnitKind,
        User,
    )
    from core.plugins import CORE_KEY, state

    rng = random.Random(20261201)
    started = time.perf_counter()
    now = utcnow()
    today = clock.today()  # due dates spread around the default zone's today
    seeded = Seeded()

    county = OrgUnit(kind=UnitKind.county, name="基准县", code="bench-county")
    db.session.add(county)
    db.session.flush()
    seeded.county_id = county.id
    townships = []
    for n in range(TOWNSHIPS):
        unit = OrgUnit(
            kind=UnitKind.township, name=f"基准{n:02d}镇", code=f"bench{n:02d}", parent_id=county.id
        )
        db.session.add(unit)
        db.session.flush()
        unit.township_id = unit.id
        townships.append(unit)
    db.session.flush()
    units = []
    for t in townships:
        for v in range(3):
            units.append(
                {
                    "kind": UnitKind.village,
                    "name": f"{t.name}第{v + 1}村",
                    "code": f"{t.code}-v{v + 1}",
                    "parent_id": t.id,
                    "township_id": t.id,
                    "timezone": "Asia/Shanghai",
                    "created_at": now,
                }
            )
        for s, name in enumerate(("党政办", "民政办", "农业服务中心")):
            units.append(
                {
                    "kind": UnitKind.station,
                    "name": f"{t.name}{name}",
                    "code": f"{t.code}-s{s + 1}",
                    "parent_id": t.id,
                    "township_id": t.id,
                    "timezone": "Asia/Shanghai",
                    "created_at": now,
                }
            )
    insert_rows(OrgUnit, units)
    seeded.township_ids = [t.id for t in townships]
    seeded.township_codes = [t.code for t in townships]
    stations = {
        tid: ids
        for tid, ids in _group(
            db.session.execute(
                select(OrgUnit.township_id, OrgUnit.id).where(
                    OrgUnit.kind == UnitKind.station, OrgUnit.township_id.in_(seeded.township_ids)
                )
            )
        ).items()
    }
    villages = _group(
        db.session.execute(
            select(OrgUnit.township_id, OrgUnit.id).where(
                OrgUnit.kind == UnitKind.village, OrgUnit.township_id.in_(seeded.township_ids)
            )
        )
    )

    # -- staff: a county administrator, per township every role, and handlers
    hashed = hash_password(PASSWORD)
    users, memberships = [], []
    roles = [r for r in state().roles.values() if not r.county_level]

    def user(username, name, role, unit_id):
        users.append(
            {
                "username": username,
                "name": name,
                "email": f"{username}@bench.invalid",
                "password_hash": hashed,
                "active": True,
                "created_at": now,
            }
        )
        memberships.append((username, unit_id, role))

    user("bench-county", "县管理员", "county_admin", county.id)
    for n, t in enumerate(townships):
        for role in roles:
            user(f"{t.code}-{role.code}", f"{t.name}{role.label}", role.code, t.id)
        for h in range(HANDLERS_PER_TOWNSHIP):
            user(f"{t.code}-handler{h:02d}", f"办事员{n:02d}-{h:02d}", "clerk", t.id)
    insert_rows(User, users)
    ids = dict(db.session.execute(select(User.username, User.id)).all())
    insert_rows(
        Membership,
        [{"user_id": ids[u], "org_unit_id": unit, "role": role} for u, unit, role in memberships],
    )
    seeded.users = {
        "county": "bench-county",
        "leader": f"{townships[0].code}-leader",
        "clerk": f"{townships[0].code}-clerk",
        "township_admin": f"{townships[0].code}-township_admin",
    }
    for role in roles:
        seeded.users.setdefault(role.code, f"{townships[0].code}-{role.code}")
    handlers = {
        t.id: [ids[f"{t.code}-handler{h:02d}"] for h in range(HANDLERS_PER_TOWNSHIP)]
        for t in townships
    }
    log(f"  units and {len(users)} staff in {time.perf_counter() - started:.1f} s")

    # -- the people register
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "建国秀英志强桂兰明华丽娟海燕德胜玉梅春生"
    people = []
    categories = list(PersonCategory)
    for t in townships:
        for p in range(PEOPLE_PER_TOWNSHIP):
            people.append(
                {
                    "township_id": t.id,
                    "village_id": villages[t.id][p % 3],
                    "name": rng.choice(surnames) + rng.choice(given) + rng.choice(given),
                    "category": categories[p % len(categories)],
                    "id_number": f"150102{1950 + p % 50}0101{p % 10000:04d}",
                    "phone": f"139{t.id % 100:02d}{p:06d}",
                    "created_at": now,
                }
            )
    insert_rows(Person, people)
    person_ids = _group(db.session.execute(select(Person.township_id, Person.id)))
    log(f"  {len(people)} people in {time.perf_counter() - started:.1f} s")

    # -- 100,000 open cases, due dates spread over the last and the next weeks
    kinds = [("service", 3, LimitUnit.working_days), ("approval", 5, LimitUnit.working_days)]
    kinds += [("inquiry", 15, LimitUnit.calendar_days), ("commitment", 10, LimitUnit.calendar_days)]
    titles = ["开具户籍关系证明", "办理低保资格证明", "宅基地审批申请", "咨询养老保险补缴政策"]
    titles += ["修复村道路灯", "申请临时救助", "办理残疾人证", "农机购置补贴申请"]
    statuses = [s for s in OPEN_STATUSES if s.value != "received"]
    per_township = CASES // TOWNSHIPS
    clerk_ids = {t.id: ids[f"{t.code}-clerk"] for t in townships}
    cases = []
    for t in townships:
        for c in range(per_township):
            kind, amount, unit = kinds[c % len(kinds)]
            received = today - timedelta(days=rng.randint(0, 60))
            due = received + timedelta(days=rng.randint(3, 40))
            pid = rng.choice(person_ids[t.id])
            cases.append(
                {
                    "township_id": t.id,
                    "kind": kind,
                    "receipt_no": f"{t.code.upper()}-{c:06d}",
                    "title": f"{titles[c % len(titles)]}（{c}）",
                    "description": "群众来电反映，需核实后办理。",
                    "applicant_id": pid,
                    "applicant_name": "群众",
                    "first_responder_id": clerk_ids[t.id],
                    "handler_id": handlers[t.id][c % HANDLERS_PER_TOWNSHIP],
                    "department_id": stations[t.id][c % 3],
                    "status": statuses[c % len(statuses)],
                    "received_on": received,
                    "accepted_on": received,
                    "limit_amount": amount,
                    "limit_unit": unit,
                    "due_on": due,
                    "paused_working_days": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    insert_rows(Case, cases)
    seeded.receipt_no = cases[17]["receipt_no"]
    del cases
    log(f"  {CASES} cases in {time.perf_counter() - started:.1f} s")

    # the county administrator's inbox (issue 11): overdue cases handled, extensions to decide
    county_admin = ids["bench-county"]
    for t in townships:
        overdue = list(
            db.session.scalars(
                select(Case.id)
                .where(Case.township_id == t.id, Case.due_on < today)
                .order_by(Case.id)
                .limit(INBOX_CASES_PER_TOWNSHIP + INBOX_EXTENSIONS_PER_TOWNSHIP)
            )
        )
        db.session.execute(
            update(Case)
            .where(Case.id.in_(overdue[:INBOX_CASES_PER_TOWNSHIP]))
            .values(handler_id=county_admin)
        )
        insert_rows(
            ExtensionRequest,
            [
                {
                    "case_id": case_id,
                    "requested_by_id": clerk_ids[t.id],
                    "requested_at": now,
                    "amount": 10,
                    "reason": "需要实地调查",
                }
                for case_id in overdue[INBOX_CASES_PER_TOWNSHIP:]
            ],
        )

    audits = [
        {
            "at": now - timedelta(minutes=n),
            "user_id": clerk_ids[t.id],
            "township_id": t.id,
            "action": "update",
            "object_type": "Person",
            "object_id": str(n),
            "before": {"phone": "13900000000"},
            "after": {"phone": "13900000001"},
        }
        for t in townships
        for n in range(AUDIT_PER_TOWNSHIP)
    ]
    insert_rows(AuditEvent, audits)
    insert_rows(
        Notification,
        [
            {
                "user_id": ids["bench-county"],
                "township_id": townships[0].id,
                "title": f"提醒 {n}",
                "body": "",
                "created_at": now,
            }
            for n in range(30)
        ],
    )
    db.session.commit()

    # -- every institution enabled everywhere, the plugins' own demo rows, then bulk rows
    for t in townships:
        for info in state().institutions():
            set_enabled(t, info.key, True)
    for t in townships:
        for impl in state().pm.hook.township_demo_data.get_hookimpls():
            if impl.plugin_name != CORE_KEY:
                impl.function(township=t, session=db.session)
        db.session.commit()
    context = SeedContext(seeded=seeded, rng=rng, now=now, today=today, user_ids=ids)
    for key, seeder in plugin_seeders:
        if key in state().plugins:
            t0 = time.perf_counter()
            seeder(context)
            db.session.commit()
            log(f"  plugin {key} rows in {time.perf_counter() - t0:.1f} s")
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    _write_seed(seeded)
    log(f"seeded in {time.perf_counter() - started:.1f} s")
    return seeded


@dataclass
class SeedContext:
    """What a plugin's seeder gets: the seed so far, a random source, now and today."""

    seeded: Seeded
    rng: random.Random
    now: datetime
    today: date
    user_ids: dict[str, int]

    @property
    def township_ids(self) -> list[int]:
        return self.seeded.township_ids

    def person_ids(self, township_id: int, limit: int) -> list[int]:
        from sqlalchemy import select

        from core.db import db
        from core.models import Person

        return list(
            db.session.scalars(
                select(Person.id)
                .where(Person.township_id == township_id)
                .order_by(Person.id)
                .limit(limit)
            )
        )

    def village_ids(self, township_id: int) -> list[int]:
        from sqlalchemy import select

        from core.db import db
        from core.models import OrgUnit, UnitKind

        return list(
            db.session.scalars(
                select(OrgUnit.id).where(
                    OrgUnit.township_id == township_id, OrgUnit.kind == UnitKind.village
                )
            )
        )


def _group(rows) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for key, value in rows:
        out.setdefault(key, []).append(value)
    return out


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
