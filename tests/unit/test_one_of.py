"""``db.one_of``: a column among a long list of values, on the test database (one array on PostgreSQL, IN on SQLite):
the same rows as asking value by value, whatever the text holds."""
import itertools

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.common.db import one_of
from tests.support import Databases

_metadata = sa.MetaData()
_codes = sa.Table("codes", _metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("code", sa.String(50), nullable=False), sa.Column("number", sa.BigInteger))
_STORED = ["A 1", "O'Brien", "C:\\new", "{x,y}", "NULL", "商品１", "", "z\"q", "u\x1fs"]
_databases = itertools.count()


@pytest.fixture
def engine(tmp_path):
    databases = Databases(tmp_path)
    engine = sa.create_engine(databases.create(f"one_of{next(_databases)}"))
    _metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(_codes.insert(), [{"code": code, "number": n * 10} for n, code in enumerate(_STORED)])
    yield engine
    engine.dispose()
    databases.drop_all()


def test_text_values_find_their_rows_and_nothing_else(engine):
    asked = ["O'Brien", "C:\\new", "{x,y}", "NULL", "商品１", "", "z\"q", "absent", "a 1"]
    with Session(engine) as session:
        found = session.execute(sa.select(_codes.c.code).where(one_of(session, _codes.c.code, asked))).scalars()
        assert sorted(found) == sorted(["O'Brien", "C:\\new", "{x,y}", "NULL", "商品１", "", "z\"q"])


def test_the_empty_text_alone_and_a_value_holding_the_separator(engine):
    with Session(engine) as session:
        def found(asked):
            return sorted(session.execute(sa.select(_codes.c.code).where(one_of(session, _codes.c.code, asked)))
                          .scalars())

        assert found([""]) == [""]
        assert found(["", ""]) == [""]
        assert found(["u\x1fs", "A 1"]) == ["A 1", "u\x1fs"]
        assert found(["u", "s"]) == []


def test_numbers_and_a_thousand_values_at_once(engine):
    with Session(engine) as session:
        asked = list(range(0, 10_000, 10))
        found = session.execute(sa.select(_codes.c.id).where(one_of(session, _codes.c.number, asked))).scalars()
        assert sorted(found) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
        assert session.execute(sa.select(_codes.c.id).where(one_of(session, _codes.c.number, []))).all() == []
