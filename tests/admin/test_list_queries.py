"""Every staff list of the core and of the two built-in institutions runs the same few SQL
queries for 5 rows and for 100 (at most 6: the user, the count, the rows, a collection the
list shows, the inbox and notification badges), and shows every row.

Rows go in with bulk INSERTs (the lists read them, nothing else needs them); the page
is asked for once first, as a signed-in user would have, so the settings it reads come
from core.cache as in production.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select

MAX_QUERIES = 6
NOW = datetime(2026, 11, 20, 8, tzinfo=UTC)
DAY = date(2026, 11, 20)


def _cases(n, ctx):
    from core.models import CaseStatus

    return [
        {
            "township_id": ctx.township.id,
            "kind": "service",
            "receipt_no": f"EAST-L-{ctx.next():05d}",
            "title": f"事项{i}",
            "applicant_name": "张三",
            "first_responder_id": ctx.clerk.id,
            "handler_id": ctx.clerk.id,
            "department_id": ctx.station.id,
            "status": CaseStatus.accepted,
            "received_on": DAY,
            "due_on": DAY + timedelta(days=i % 9 - 4),
        }
        for i in range(n)
    ]


def _people(n, ctx):
    return [
        {
            "township_id": ctx.township.id,
            "village_id": ctx.village.id,
            "name": f"居民{ctx.next()}",
            "id_number": "110101199003071234",
            "phone": "13812345678",
        }
        for _ in range(n)
    ]


def _units(n, ctx):
    from core.models import UnitKind

    return [
        {
            "kind": UnitKind.village,
            "name": f"村{i}",
            "code": f"east-l{ctx.next()}",
            "parent_id": ctx.township.id,
            "township_id": ctx.township.id,
        }
        for i in range(n)
    ]


def _audit(n, ctx):
    return [
        {
            "at": NOW,
            "user_id": ctx.clerk.id,
            "township_id": ctx.township.id,
            "action": "update",
            "object_type": "Person",
            "object_id": str(ctx.next()),
            "before": {"phone": "1"},
            "after": {"phone": "2"},
        }
        for _ in range(n)
    ]


def _items(n, ctx):
    from plugins.releases.models import SourceChannel

    return [
        {
            "township_id": ctx.township.id,
            "title": f"信息{i}",
            "source": SourceChannel.tv,
            "category": "种植技术",
            "collected_on": DAY,
        }
        for i in range(n)
    ]


def _products(n, ctx):
    from plugins.releases.models import ProductStatus

    return [
        {
            "township_id": ctx.township.id,
            "title": f"产品{i}",
            "audience": "农户",
            "body": "<p>正文</p>" * 50,
            "status": ProductStatus.approved,
            "approved_by_id": ctx.admin.id,
            "approved_at": NOW,
        }
        for i in range(n)
    ]


def _batches(n, ctx):
    from plugins.releases.models import BatchStatus

    return [
        {
            "township_id": ctx.township.id,
            "scheduled_for": NOW - timedelta(days=ctx.next()),
            "status": BatchStatus.published,
            "channels": ["web", "blackboard"],
            "published_at": NOW,
            "lateness_seconds": 2,
        }
        for _ in range(n)
    ]


def _archive(n, ctx):
    from plugins.releases.models import ArchiveKind

    return [
        {
            "township_id": ctx.township.id,
            "kind": ArchiveKind.published,
            "title": f"产品{i}",
            "channels": ["web"],
            "recorded_at": NOW,
        }
        for i in range(n)
    ]


def _category_id(ctx) -> int:
    from core.db import db
    from plugins.releases.models import DisclosureCategory

    return db.session.scalar(
        select(DisclosureCategory.id).where(DisclosureCategory.township_id == ctx.township.id)
    )


def _disclosures(n, ctx):
    from plugins.releases.models import DisclosureStage

    category = _category_id(ctx)
    text = {
        k: "内容"
        for k in ("policy", "conditions", "procedure", "time_limit", "result", "fee", "liability")
    }
    return [
        {
            "township_id": ctx.township.id,
            "category_id": category,
            "title": f"公示{i}",
            "stage": DisclosureStage.after,
            "person_in_charge": "王主任",
            **text,
        }
        for i in range(n)
    ]


def _categories(n, ctx):
    return [
        {"township_id": ctx.township.id, "name": f"自设类别{ctx.next()}", "position": 200}
        for _ in range(n)
    ]


def _topics(n, ctx):
    from plugins.releases.models import TopicStatus

    return [
        {
            "township_id": ctx.township.id,
            "receipt_no": f"TQ-{ctx.next():05d}",
            "topic": "村务收支",
            "submitted_on": DAY,
            "due_on": DAY + timedelta(days=15),
            "status": TopicStatus.open,
        }
        for _ in range(n)
    ]


def _learner_ids(n, ctx) -> list[int]:
    """``n`` new learners (and their people) of the township."""
    from core.db import db
    from core.models import Person
    from plugins.training.models import Education, LearnerCategory, TrainingLearner

    first = ctx.next()
    db.session.execute(
        insert(Person),
        [
            {"township_id": ctx.township.id, "name": f"学员{first}-{i}", "village_id": None}
            for i in range(n)
        ],
    )
    people = db.session.scalars(
        select(Person.id).where(Person.name.like(f"学员{first}-%")).order_by(Person.id)
    ).all()
    db.session.execute(
        insert(TrainingLearner),
        [
            {
                "township_id": ctx.township.id,
                "person_id": pid,
                "category": LearnerCategory.party_member,
                "village_id": ctx.village.id,
                "education": Education.junior_middle,
                "joined_on": DAY - timedelta(days=400),
            }
            for pid in people
        ],
    )
    return list(
        db.session.scalars(
            select(TrainingLearner.id)
            .where(TrainingLearner.person_id.in_(people))
            .order_by(TrainingLearner.id)
        )
    )


def _learners(n, ctx):
    _learner_ids(n, ctx)
    return []


def _sessions(n, ctx):
    return [
        {
            "township_id": ctx.township.id,
            "organiser_id": ctx.village.id,
            "held_on": DAY - timedelta(days=i),
            "half_days": 2,
            "topic": f"集中学习{i}",
        }
        for i in range(n)
    ]


def _techniques(n, ctx):
    return [{"township_id": ctx.township.id, "name": f"技术{ctx.next()}"} for _ in range(n)]


def _masteries(n, ctx):
    from core.db import db
    from plugins.training.models import TrainingTechnique

    learners = _learner_ids(n, ctx)
    db.session.execute(
        insert(TrainingTechnique), [{"township_id": ctx.township.id, "name": f"嫁接{ctx.next()}"}]
    )
    technique = db.session.scalar(
        select(TrainingTechnique.id).order_by(TrainingTechnique.id.desc()).limit(1)
    )
    return [
        {
            "township_id": ctx.township.id,
            "learner_id": lid,
            "technique_id": technique,
            "mastered_on": DAY,
            "verified_by": "农技站",
        }
        for lid in learners
    ]


def _logs(n, ctx):
    from plugins.training.models import LogStatus, MaterialKind

    learners = _learner_ids(n, ctx)
    return [
        {
            "township_id": ctx.township.id,
            "learner_id": lid,
            "studied_on": DAY,
            "half_hours": 2,
            "material_kind": MaterialKind.set_reading,
            "material": "党章",
            "note_chars": 100,
            "status": LogStatus.confirmed,
        }
        for lid in learners
    ]


def _model(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(__import__(module, fromlist=[name]), name)


#: endpoint -> (model whose rows the list shows, factory of n row dicts, a row's marker)
LISTS = {
    "admin_cases": ("core.models.Case", _cases, r"EAST-L-\d+"),
    "admin_people": ("core.models.Person", _people, r"居民\d+"),
    "admin_units": ("core.models.OrgUnit", _units, r"east-l\d+"),
    "admin_audit": ("core.models.AuditEvent", _audit, r'class="col-object_id">\d+'),
    "releases_items": ("plugins.releases.models.CollectedItem", _items, r"信息\d+"),
    "releases_products": ("plugins.releases.models.Product", _products, r"产品\d+"),
    "releases_batches": ("plugins.releases.models.ReleaseBatch", _batches, r"<tr>"),
    "releases_archive": ("plugins.releases.models.ArchiveEntry", _archive, r"产品\d+"),
    "releases_disclosures": ("plugins.releases.models.Disclosure", _disclosures, r"公示\d+"),
    "releases_categories": (
        "plugins.releases.models.DisclosureCategory",
        _categories,
        r"自设类别\d+",
    ),
    "releases_topics": ("plugins.releases.models.TopicRequest", _topics, r"TQ-\d+"),
    "training_learners": ("plugins.training.models.TrainingLearner", _learners, r"学员\d+-\d+"),
    "training_sessions": ("plugins.training.models.TrainingSession", _sessions, r"集中学习\d+"),
    "training_techniques": ("plugins.training.models.TrainingTechnique", _techniques, r"技术\d+"),
    "training_mastery": ("plugins.training.models.TrainingMastery", _masteries, r"学员\d+-\d+"),
    "training_logs": ("plugins.training.models.TrainingStudyLog", _logs, r"学员\d+-\d+"),
}


class Context:
    """The ids the factories need (the rows themselves leave the session between requests)."""

    def __init__(self, *rows):
        from types import SimpleNamespace

        self.township, self.village, self.station, self.clerk, self.admin = (
            SimpleNamespace(id=row.id) for row in rows
        )
        self._n = 0

    def next(self) -> int:
        self._n += 1
        return self._n


@pytest.fixture
def everything_enabled(db, township):
    from core.institutions import set_enabled

    for key in ("releases", "training"):
        set_enabled(township, key, True)
    return township


@pytest.mark.parametrize("endpoint", list(LISTS))
def test_a_list_runs_the_same_few_queries_for_5_and_100_rows(
    endpoint,
    client,
    staff,
    db,
    everything_enabled,
    village,
    station,
    create_user,
    query_counter,
):
    from core.db import db as _db

    township = everything_enabled
    clerk = create_user("lclerk", "clerk", township, name="办事员")
    admin = create_user(
        "ladmin",
        roles=[
            ("township_admin", township),
            ("releases_officer", township),
            ("training_officer", township),
        ],
        name="镇管理员",
    )
    ctx = Context(township, village, station, clerk, admin)
    model_path, factory, marker = LISTS[endpoint]
    model = _model(model_path)
    staff.login(admin)
    url = f"/admin/{endpoint}/?page_size=100"

    def fill(n):
        rows = factory(n, ctx)
        if rows:
            _db.session.execute(insert(model), rows)
        _db.session.commit()

    def measure():
        assert client.get(url).status_code == 200  # a page asked for before, as in use
        _db.session.remove()  # a request of its own starts with an empty session
        with query_counter() as statements:
            response = client.get(url)
        assert response.status_code == 200
        return statements, response.get_data(as_text=True)

    fill(5)
    few, page = measure()
    shown_few = len(re.findall(marker, page))
    fill(95)
    many, page = measure()
    shown_many = len(re.findall(marker, page))
    # every row of the page is shown (a list may hold a few rows of its own besides ours)
    assert shown_few >= 5 and shown_many >= 90, (shown_few, shown_many)
    listing = "\n".join(s.split("\n")[0][:100] for s in many)
    assert len(few) == len(many), listing
    assert len(many) <= MAX_QUERIES, listing


def test_every_model_list_of_the_built_in_institutions_is_covered(app):
    """A new list in the core or the two built-in institutions needs its line in LISTS."""
    from flask_admin.contrib.sqla import ModelView

    admin = app.extensions["township_admin"]
    endpoints = {
        view.endpoint
        for view in admin._views
        if isinstance(view, ModelView)
        and (view.endpoint.startswith(("admin_", "releases_", "training_")))
    }
    assert endpoints - {"admin_users"} <= set(LISTS)


def test_a_list_past_its_threshold_says_about_and_then_asks_the_planner_only(
    client, staff, db, township, village, station, create_user, query_counter, monkeypatch
):
    """On PostgreSQL a list counts at most ``count_estimate_threshold`` + 1 rows; past it the
    page says "about N" (the planner's estimate), and the next requests of that list neither
    count nor ask the planner while the estimate is fresh; once it is old, they ask the
    planner only (one EXPLAIN). Back under the threshold, the count is exact again."""
    from sqlalchemy import delete

    from admin import views as admin_views
    from admin.views import TownshipModelView, _big_counts
    from core.db import db as _db
    from core.models import Case

    if _db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite counts exactly")
    monkeypatch.setattr(TownshipModelView, "count_estimate_threshold", 10)
    _big_counts.clear()
    admin = create_user("ladmin", roles=[("township_admin", township)], name="镇管理员")
    ctx = Context(township, village, station, admin, admin)
    _db.session.execute(insert(Case), _cases(30, ctx))
    _db.session.commit()
    _db.session.execute(text_sql("ANALYZE core_case"))
    _db.session.commit()
    staff.login(admin)
    url = "/admin/admin_cases/?page_size=20"

    def count_label():
        with query_counter() as statements:
            html = client.get(url).get_data(as_text=True)
        label = re.search(r'id="list-count">([^<]*)<', html).group(1)
        return label, statements

    def counted(statements) -> bool:  # the list's own capped COUNT (not the navbar's)
        return any(s.startswith("SELECT count(") and "SELECT 1" in s for s in statements)

    label, first = count_label()
    assert "about" in label, label
    assert any(s.startswith("EXPLAIN") for s in first)
    assert counted(first)
    label, second = count_label()
    assert "about" in label, label
    assert not any(s.startswith("EXPLAIN") for s in second), second
    assert not counted(second), second
    assert len(second) < len(first)

    # the estimate is kept per user (some lists add the user's own rows to the townships'):
    # another administrator of the same township asks the planner, but counts nothing
    staff.login(create_user("ladmin2", roles=[("township_admin", township)], name="另一位"))
    label, others = count_label()
    assert "about" in label, label
    assert any(s.startswith("EXPLAIN") for s in others)
    assert not counted(others), others
    staff.login(admin)

    minutes = [0]  # the views' clock, moved on a minute at a time
    monkeypatch.setattr(
        admin_views,
        "time",
        SimpleNamespace(
            monotonic=lambda: time.monotonic() + (admin_views.ESTIMATE_SECONDS + 1) * minutes[0]
        ),
    )
    minutes[0] += 1  # the kept estimate is now old
    label, third = count_label()
    assert "about" in label, label
    assert any(s.startswith("EXPLAIN") for s in third)
    assert not counted(third), third

    _db.session.execute(delete(Case).where(Case.receipt_no > "EAST-L-00005"))
    _db.session.commit()
    _db.session.execute(text_sql("ANALYZE core_case"))
    _db.session.commit()
    label, _ = count_label()
    assert "about 30" in label, label  # the estimate kept for the minute
    minutes[0] += 1
    label, _ = count_label()
    assert "about" not in label and "(5)" in label, label


def text_sql(sql: str):
    from sqlalchemy import text

    return text(sql)


@pytest.mark.parametrize("desc", [False, True])
def test_a_long_list_reads_its_page_keys_first_and_keeps_their_order(
    desc, client, staff, db, township, village, station, create_user, query_counter, monkeypatch
):
    """Past ``page_first_from`` rows a page reads its keys (sorted and cut on the list's
    own table), then its rows with what they show: same rows, same order, one query more."""
    from admin.views import TownshipModelView
    from core.db import db as _db
    from core.models import Case

    admin = create_user("ladmin", roles=[("township_admin", township)], name="镇管理员")
    ctx = Context(township, village, station, admin, admin)
    rows = _cases(30, ctx)
    for i, row in enumerate(rows):  # distinct due dates: one right order
        row["due_on"] = DAY + timedelta(days=(i * 7) % 30)
    _db.session.execute(insert(Case), rows)
    _db.session.commit()
    staff.login(admin)
    url = "/admin/admin_cases/?page_size=20&sort=5" + ("&desc=1" if desc else "")
    expected = [
        r.receipt_no
        for r in _db.session.execute(
            select(Case.receipt_no).order_by(Case.due_on.desc() if desc else Case.due_on)
        )
    ]

    def page():
        client.get(url)
        _db.session.remove()
        with query_counter() as statements:
            html = client.get(url).get_data(as_text=True)
        return re.findall(r"EAST-L-\d+", html), statements

    joined, one_query = page()
    monkeypatch.setattr(TownshipModelView, "page_first_from", 5)
    keyed, two_queries = page()
    assert keyed == joined == expected[:20]
    assert len(two_queries) == len(one_query) + 1 <= MAX_QUERIES


def test_a_list_shows_units_by_name_without_reading_their_parents(
    client, staff, db, township, village, station, create_user, query_counter
):
    """The people register shows each person's village and township by name: its page
    reads those two units per row, not also the county above each (``str_reads``)."""
    from core.db import db as _db
    from core.models import Person

    admin = create_user("ladmin", roles=[("township_admin", township)], name="镇管理员")
    ctx = Context(township, village, station, admin, admin)
    _db.session.execute(insert(Person), _people(3, ctx))
    _db.session.commit()
    staff.login(admin)
    client.get("/admin/admin_people/")
    _db.session.remove()
    with query_counter() as statements:
        html = client.get("/admin/admin_people/").get_data(as_text=True)
    rows = [s for s in statements if "FROM core_person" in s and "core_person.name" in s]
    assert len(rows) == 1, statements
    assert rows[0].count("core_org_unit AS") == 2, rows[0]
    cells = re.findall(r'<td class="col-village">([^<]*)</td>', html)
    assert cells == [village.name] * 3
    assert re.findall(r'<td class="col-township">([^<]*)</td>', html) == [township.name] * 3
