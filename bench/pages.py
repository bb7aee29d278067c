"""The pages ``make bench`` measures, and the rows each plugin seeds for them.

Every staff list (each admin model view deriving from ``TownshipModelView``, core
and plugins) is found and measured by itself, 50 rows a page, signed in as the
county administrator; :data:`STAFF_OPTIONS` only says how a list is sorted or who
signs in when that matters. Public pages are listed in :data:`PUBLIC_PAGES`.

A plugin adds its own pages and rows in one of two ways, no hook involved:

* an entry here (``PUBLIC_PAGES``, ``STAFF_OPTIONS``, ``SEEDERS``) for a plugin in
  this repository, or
* a module ``<plugin package>.bench`` (e.g. ``plugins/petitions/bench.py``) with
  ``PAGES`` (a list of :class:`Page`) and/or ``seed(context)`` (bulk rows: see
  :class:`bench.seed.SeedContext`); ``bench/run.py`` imports it when the plugin is
  loaded. Path templates are formatted with :meth:`bench.seed.Seeded` fields:
  ``{t0}`` (the first township's code), ``{receipt_no}`` and ``{extra[...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Page:
    """One page to measure: a path template, who asks for it, its plugin."""

    name: str
    path: str
    plugin: str = "core"
    #: "public" (anonymous) or a seeded user's role ("county", "leader", "clerk" ...)
    user: str = "public"

    def url(self, seeded) -> str:
        return self.path.format(
            t0=seeded.township_codes[0],
            receipt_no=seeded.receipt_no,
            extra=seeded.extra,
        )


#: public pages (anonymous visitors)
PUBLIC_PAGES = [
    Page("township page", "/t/{t0}/"),
    Page("receipt lookup (form)", "/lookup"),
    Page("receipt lookup (a case)", "/lookup?receipt={receipt_no}"),
    Page("release list", "/t/{t0}/releases/", plugin="releases"),
    Page("release product", "/t/{t0}/releases/p/{extra[releases_product]}", plugin="releases"),
    Page("disclosure board", "/t/{t0}/releases/board", plugin="releases"),
]

#: how a staff list is asked for: extra query arguments and the user (default: county)
STAFF_OPTIONS: dict[str, dict] = {
    # the figure: 50 cases sorted by due date, county administrator
    "admin_cases": {"sort": "due_on"},
}

#: the inbox page (issue 11: a leader with 10,000 open items across institutions)
INBOX_PAGE = Page("inbox, page 1", "/admin/admin_inbox/", user="county")


# ---------------------------------------------------------------------------
# Rows per plugin
# ---------------------------------------------------------------------------


def seed_releases(ctx) -> None:
    """Per township: 300 collected items, 500 products (200 published in 10 batches, 200
    waiting for approval), 100 disclosures, 200 open topic requests, the archive."""
    from sqlalchemy import select

    from bench.seed import insert_rows, utc
    from core.db import db
    from plugins.releases import models as m

    for n, tid in enumerate(ctx.township_ids):
        officer = ctx.user_ids.get(f"{ctx.seeded.township_codes[n]}-leader")
        insert_rows(
            m.CollectedItem,
            [
                {
                    "township_id": tid,
                    "title": f"葡萄防霜冻技术要点 {i}",
                    "body": "覆膜、熏烟、灌水。",
                    "source": list(m.SourceChannel)[i % len(m.SourceChannel)],
                    "source_detail": "农业频道",
                    "category": ["种植技术", "市场行情", "政策法规"][i % 3],
                    "useful_until": ctx.today + timedelta(days=i % 90),
                    "collected_on": ctx.today - timedelta(days=i % 60),
                    "created_at": ctx.now,
                }
                for i in range(300)
            ],
        )
        batches = []
        for b in range(10):
            at = utc(ctx.today - timedelta(days=30 * (b + 1)))
            batches.append(
                {
                    "township_id": tid,
                    "scheduled_for": at,
                    "status": m.BatchStatus.published,
                    "channels": ["web", "blackboard"],
                    "created_at": at,
                    "published_at": at,
                    "lateness_seconds": 3,
                    "product_count": 20,
                    "empty": False,
                }
            )
        insert_rows(m.ReleaseBatch, batches)
        batch_ids = list(
            db.session.scalars(
                select(m.ReleaseBatch.id)
                .where(m.ReleaseBatch.township_id == tid)
                .order_by(m.ReleaseBatch.id)
            )
        )
        body = "<p>" + "葡萄防霜冻技术要点：覆膜、熏烟、灌水。" * 10 + "</p>"
        products = []
        for i in range(500):
            published = i < 200
            submitted = i >= 300  # 200 waiting for a leader (the inbox)
            at = utc(ctx.today - timedelta(days=i % 300))
            products.append(
                {
                    "township_id": tid,
                    "title": f"第{i}期 致富信息",
                    "audience": "葡萄种植户",
                    "body": body,
                    "status": m.ProductStatus.published
                    if published
                    else (m.ProductStatus.submitted if submitted else m.ProductStatus.draft),
                    "approved_by_id": officer if published else None,
                    "approved_at": at if published else None,
                    "batch_id": batch_ids[i % 10] if published else None,
                    "published_at": at if published else None,
                    "withdrawn_reason": "",
                    "created_at": at,
                    "updated_at": at,
                }
            )
        insert_rows(m.Product, products)
        insert_rows(
            m.ArchiveEntry,
            [
                {
                    "township_id": tid,
                    "kind": m.ArchiveKind.published,
                    "batch_id": batch_ids[i % 10],
                    "title": f"第{i}期 致富信息",
                    "audience": "葡萄种植户",
                    "body": body,
                    "approved_by": "镇长",
                    "channels": ["web"],
                    "reason": "",
                    "recorded_at": utc(ctx.today - timedelta(days=i)),
                }
                for i in range(200)
            ],
        )
        categories = list(
            db.session.scalars(
                select(m.DisclosureCategory.id).where(m.DisclosureCategory.township_id == tid)
            )
        )
        insert_rows(
            m.Disclosure,
            [
                {
                    "township_id": tid,
                    "category_id": categories[i % len(categories)],
                    "title": f"宅基地审批结果公示 {i}",
                    "stage": list(m.DisclosureStage)[i % 3],
                    "policy": "《土地管理法》第六十二条",
                    "conditions": "本村户籍，一户一宅。",
                    "procedure": "申请、村审核、镇审批。",
                    "time_limit": "20个工作日",
                    "result": "同意",
                    "fee": "不收费",
                    "person_in_charge": "王主任",
                    "liability": "违规审批的，依法追究责任。",
                    "created_at": ctx.now - timedelta(days=i),
                    "updated_at": ctx.now - timedelta(days=i),
                }
                for i in range(100)
            ],
        )
        insert_rows(
            m.TopicRequest,
            [
                {
                    "township_id": tid,
                    "receipt_no": f"T{tid}-{i:05d}",
                    "topic": f"村集体经济收支 {i}",
                    "details": "",
                    "contact": "",
                    "submitted_on": ctx.today - timedelta(days=i % 30),
                    "due_on": ctx.today + timedelta(days=15 - i % 30),
                    "status": m.TopicStatus.open,
                    "answer": "",
                    "created_at": ctx.now,
                }
                for i in range(200)
            ],
        )
    first = ctx.township_ids[0]
    ctx.seeded.extra["releases_product"] = db.session.scalar(
        select(m.Product.id)
        .where(m.Product.township_id == first, m.Product.status == m.ProductStatus.published)
        .order_by(m.Product.published_at.desc())
        .limit(1)
    )


def seed_training(ctx) -> None:
    """Per township: 500 learners, 100 sessions, 20 techniques, 200 masteries, and
    20 days of self-study for 100 learners (2,000 entries)."""
    from sqlalchemy import select

    from bench.seed import insert_rows
    from core.db import db
    from plugins.training import models as m

    for tid in ctx.township_ids:
        villages = ctx.village_ids(tid)
        people = ctx.person_ids(tid, 500)
        insert_rows(
            m.TrainingLearner,
            [
                {
                    "township_id": tid,
                    "person_id": pid,
                    "category": list(m.LearnerCategory)[i % 3],
                    "village_id": villages[i % len(villages)],
                    "education": list(m.Education)[i % 4],
                    "joined_on": ctx.today - timedelta(days=400 + i),
                    "active": True,
                    "created_at": ctx.now,
                }
                for i, pid in enumerate(people)
            ],
        )
        learners = list(
            db.session.scalars(
                select(m.TrainingLearner.id)
                .where(m.TrainingLearner.township_id == tid)
                .order_by(m.TrainingLearner.id)
            )
        )
        insert_rows(
            m.TrainingSession,
            [
                {
                    "township_id": tid,
                    "organiser_id": tid if i % 2 else villages[i % len(villages)],
                    "held_on": ctx.today - timedelta(days=3 * i),
                    "half_days": 2,
                    "topic": f"集中学习 第{i}次",
                    "readings": "党章",
                    "place": "镇会议室",
                    "created_at": ctx.now,
                }
                for i in range(100)
            ],
        )
        insert_rows(
            m.TrainingTechnique,
            [
                {"township_id": tid, "name": f"实用技术 {i}", "description": "果树嫁接"}
                for i in range(20)
            ],
        )
        techniques = list(
            db.session.scalars(
                select(m.TrainingTechnique.id).where(m.TrainingTechnique.township_id == tid)
            )
        )
        insert_rows(
            m.TrainingMastery,
            [
                {
                    "township_id": tid,
                    "learner_id": learners[i],
                    "technique_id": techniques[i % len(techniques)],
                    "mastered_on": ctx.today - timedelta(days=i),
                    "verified_by": "农技站",
                }
                for i in range(200)
            ],
        )
        insert_rows(
            m.TrainingStudyLog,
            [
                {
                    "township_id": tid,
                    "learner_id": learners[i],
                    "studied_on": ctx.today - timedelta(days=d + 1),
                    "half_hours": 2,
                    "material_kind": next(iter(m.MaterialKind)),
                    "material": "党章",
                    "note_chars": 300,
                    "status": next(iter(m.LogStatus)),
                    "created_at": ctx.now,
                }
                for i in range(100)
                for d in range(20)
            ],
        )


#: (plugin key, seeder) for the plugins of this repository
SEEDERS = [("releases", seed_releases), ("training", seed_training)]
