"""JSON columns' text (db.dumps_json): the value json.dumps stores, faster."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select, text

from shopops.db import dumps_json, make_engine

VALUES = [
    {"order_id": 12, "lines": [{"sku_id": 3, "quantity": 2, "unit_price": 29_900}], "paid": True},
    {"title": "快充头 65W", "tags": ["3C", "爆款"], "note": None, "rate": 0.1},
    {"big": 2**70, "neg": -(2**65), "nested": {"a": [[], {}, ""]}},
    [1, "two", 3.5, None, False],
    "plain text",
    0,
]


@pytest.mark.parametrize("value", VALUES)
def test_the_text_reads_back_as_json_dumps_would(value) -> None:
    assert json.loads(dumps_json(value)) == json.loads(json.dumps(value))


def test_what_msgspec_refuses_goes_to_json_dumps() -> None:
    assert json.loads(dumps_json({True: 1, None: 2})) == {"true": 1, "null": 2}
    assert json.loads(dumps_json({1: "a"})) == {"1": "a"}
    with pytest.raises(TypeError):
        dumps_json({"x": object()})  # what json.dumps refuses is still refused


def test_stored_utf8_and_read_back_equal(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("doc", JSON))
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "doc": v} for i, v in enumerate(VALUES)])
        back = conn.execute(select(table.c.doc).order_by(table.c.id)).scalars().all()
        raw = conn.execute(text("SELECT doc FROM t WHERE id = 1")).scalar_one()
    engine.dispose()
    assert back == VALUES
    assert "快充头" in raw  # UTF-8, not \\u escapes
