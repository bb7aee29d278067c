"""The catalogue finds Chinese words inside longer text on both backends (SQLite FTS5
trigram, PostgreSQL pg_trgm), with filters and a fixed number of queries per page."""

from __future__ import annotations

from sqlalchemy import select

from plugins.archives import services
from plugins.archives.models import ArchiveClass, Retention


def _codes(items):
    return sorted(i.title for i in items)


def test_search_finds_a_word_inside_a_longer_title_and_in_the_content(db, enabled, filed_item):
    filed_item("宅基地审批申请表（李四）")
    filed_item("林木采伐许可", content="<p>涉及宅基地周边林木</p>")
    filed_item("低保资格审核")
    find = lambda q: _codes(services.catalogue([enabled.id], services.CatalogueFilter(q=q))[0])  # noqa: E731
    assert find("宅基地") == ["宅基地审批申请表（李四）", "林木采伐许可"]
    assert find("宅基地审批") == ["宅基地审批申请表（李四）"]
    assert find("审批") == ["宅基地审批申请表（李四）"]  # two characters: shorter than a trigram
    assert find("审核") == ["低保资格审核"]
    assert find("宅基地 林木") == ["林木采伐许可"]  # every word must be there
    assert find("不存在的词") == []
    assert find('50%_"') == []  # wildcards and quotes are searched as text


def test_filters_by_code_year_class_retention_institution_and_responsible(
    db, enabled, filed_item, paper, archivist
):
    a = filed_item("宅基地审批一", responsible="农业服务中心")
    b = filed_item("宅基地审批二", retention_hint="10y", source="core")
    ws = db.session.scalar(select(ArchiveClass.id).where(ArchiveClass.code == "WS"))
    c = paper("宅基地会议纪要", class_id=ws, retention=Retention.permanent)
    services.file_items(enabled.id, [c.id], archivist)

    def find(**kw):
        return _codes(services.catalogue([enabled.id], services.CatalogueFilter(**kw))[0])

    assert find(code=a.reference_code) == ["宅基地审批一"]
    assert find(year=2020) == ["宅基地会议纪要"]
    assert find(class_id=ws) == ["宅基地会议纪要"]
    assert find(retention=Retention.y10) == ["宅基地审批二"]
    assert find(institution="core") == ["宅基地审批二"]
    assert find(responsible="农业") == ["宅基地审批一"]
    assert find(q="宅基地", retention=Retention.permanent) == ["宅基地会议纪要"]
    assert b.reference_code != a.reference_code


def test_the_catalogue_page_costs_the_same_queries_for_5_and_50_rows(
    client, staff, db, enabled, archivist, waiting_item, query_counter
):
    ids = [waiting_item(f"宅基地审批 {n}").id for n in range(50)]
    services.file_items(enabled.id, ids[:5], archivist)
    staff.login(archivist)
    client.get("/admin/archives_catalogue/?q=宅基地")
    with query_counter() as five:
        response = client.get("/admin/archives_catalogue/?q=宅基地")
    assert response.get_data(as_text=True).count('class="catalogue-row"') == 5
    services.file_items(enabled.id, ids[5:], archivist)
    client.get("/admin/archives_catalogue/?q=宅基地")
    with query_counter() as fifty:
        response = client.get("/admin/archives_catalogue/?q=宅基地")
    assert response.get_data(as_text=True).count('class="catalogue-row"') == 50
    assert len(fifty) == len(five)


def test_the_catalogue_exports_xlsx_with_the_national_columns(
    client, staff, db, enabled, archivist, filed_item
):
    import io

    from openpyxl import load_workbook

    item = filed_item("宅基地审批申请", doc_number="东政发〔2026〕1号", pages=3)
    staff.login(archivist)
    response = client.get("/admin/archives_catalogue/export.xlsx?q=宅基地")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == (
        "Item no.",
        "Responsible party",
        "Doc. no.",
        "Archival title",
        "Date",
        "Number of pages",
        "Remarks",
    )
    assert rows[2][0] == item.reference_code and rows[2][2] == "东政发〔2026〕1号"
    assert rows[2][3] == "宅基地审批申请" and rows[2][5] == 3
