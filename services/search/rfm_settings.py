"""RFM設定: each company's seven ranks (fixed colours, names of its own), the six bands of R, F and M, and the rank of
each of the 36 R×F cells. A company that never saved its own uses the defaults below.

The defaults suit a Japanese mail-order business selling consumables (a supplement, a cosmetic) and occasional goods
alike:

- R, days since the latest purchase: 0〜30, 31〜60, 61〜90, 91〜180, 181〜365, 366〜 — a month is the usual
  replenishment cycle, a quarter the point where a regular customer is slipping, a year the point where one is gone.
- F, purchases: 1, 2, 3, 4〜5, 6〜9, 10〜 — the first repeat (F2) is the step that matters most, so the low counts
  are bands of their own.
- M, billed total: 0〜4,999円, 5,000〜9,999円, 10,000〜29,999円, 30,000〜49,999円, 50,000〜99,999円, 100,000円〜 —
  one order of a typical product, a few of them, a regular's year, a fan's.
- The ranks of the cells (rows R, columns F)::

               1回  2回  3回  4〜5回  6〜9回  10回〜
    0〜30日     C    B    B    A      A      A
    31〜60日    C    B    B    A      A      A
    61〜90日    E    D    D    D      D      D
    91〜180日   E    E    D    D      D      D
    181〜365日  G    F    F    F      F      F
    366日〜     G    G    G    G      G      G

  Recent and frequent customers are 優良 (A), recent ones with two or three purchases 有望 (B), recent first-timers
  新規 (C); repeaters whose last purchase is two to six months old are 浮気予備軍 (D), one- or two-time buyers of that
  age 悩み (E); repeaters silent for half a year 浮気・不満 (F); a first-timer gone half a year, and everyone gone a
  year, 離反 (G).
"""
import dataclasses
import datetime as dt
import json

from sqlalchemy import select

from services.common import arguments
from services.common.contracts import load
from services.common.db import insert_for

from .conditions import RANKS
from .models import RfmSetting
from .schemas import AXES, BANDS, RfmSettingsInput

COLOURS = {"A": ("yellow", "#f7d84a"), "B": ("pink", "#f5a9c8"), "C": ("green", "#8fd18a"), "D": ("red", "#ef6b63"),
           "E": ("light_blue", "#8dd3f0"), "F": ("light_brown", "#d4b48c"), "G": ("purple", "#a98bd3")}
"""Each rank's colour (黄, 桃, 緑, 赤, 水色, 薄茶, 紫) and the colour a screen paints it with."""
NOT_YET = "none"
"""The rank of a customer who had not bought yet (未購入), in the movement between two days."""
NOT_YET_NAME = "未購入"
UNITS = {"recency_days": "日", "purchase_count": "回", "purchase_total": "円"}
_input = RfmSettingsInput()


@dataclasses.dataclass(frozen=True)
class RfmSettings:
    names: dict  # rank → name
    bands: dict  # axis → the first value of each of its six bands
    cells: tuple  # six rows (R bands) of six ranks (F bands)
    version: int = 0  # 0: the defaults, never saved

    def ranges(self, axis):
        """Each band of an axis as (min, max) of the figure, both inclusive; None where it is open (the first band
        takes anything below the second, the last anything above its start)."""
        starts = self.bands[axis]
        return [(None if band == 0 else starts[band], starts[band + 1] - 1 if band + 1 < BANDS else None)
                for band in range(BANDS)]

    def labels(self, axis):
        """``0〜30日``, ``4〜5回``, ``100,000円〜``: each band from its start (the axis's floor for the first)."""
        starts, unit = self.bands[axis], UNITS[axis]
        labels = []
        for band in range(BANDS):
            low = starts[band]
            if band + 1 == BANDS:
                labels.append(f"{low:,}{unit}〜")
            elif starts[band + 1] - 1 == low:
                labels.append(f"{low:,}{unit}")
            else:
                labels.append(f"{low:,}〜{starts[band + 1] - 1:,}{unit}")
        return labels

    def ranks(self):
        """The seven ranks, best first: [{rank, name, colour, hex}]."""
        return [{"rank": rank, "name": self.names[rank], "colour": COLOURS[rank][0], "hex": COLOURS[rank][1]}
                for rank in RANKS]

    def document(self):
        """What an operator edits, as ``update`` takes it."""
        return {"rank_names": dict(self.names), **{axis: list(self.bands[axis]) for axis in AXES},
                "cells": [list(row) for row in self.cells]}

    def as_dict(self):
        """The RPC result: the editable document, the ranks with their colours, each band's label, and whether the
        company saved its own (``version`` 0: the defaults)."""
        return {**self.document(), "ranks": self.ranks(), "labels": {axis: self.labels(axis) for axis in AXES},
                "version": self.version}


DEFAULTS = RfmSettings(
    names={"A": "優良顧客", "B": "有望顧客", "C": "新規顧客", "D": "浮気予備軍顧客", "E": "悩み顧客",
           "F": "浮気・不満顧客", "G": "離反顧客"},
    bands={"recency_days": (0, 31, 61, 91, 181, 366), "purchase_count": (1, 2, 3, 4, 6, 10),
           "purchase_total": (0, 5_000, 10_000, 30_000, 50_000, 100_000)},
    cells=(("C", "B", "B", "A", "A", "A"),
           ("C", "B", "B", "A", "A", "A"),
           ("E", "D", "D", "D", "D", "D"),
           ("E", "E", "D", "D", "D", "D"),
           ("G", "F", "F", "F", "F", "F"),
           ("G", "G", "G", "G", "G", "G")),
)


def _from_document(document, version):
    return RfmSettings(names={rank: document["rank_names"][rank] for rank in RANKS},
                       bands={axis: tuple(document[axis]) for axis in AXES},
                       cells=tuple(tuple(row) for row in document["cells"]), version=version)


def settings_of(session, company_id):
    """The company's RFM設定 (the defaults when it never saved its own)."""
    row = session.get(RfmSetting, company_id)
    if row is None:
        return DEFAULTS
    return _from_document(json.loads(row.settings), row.version)


def merged(current, changes):
    """The settings after ``changes`` (the keys of ``RfmSettingsInput``; a key left out keeps its value, and
    ``rank_names`` may name some ranks only). Raises ValidationFailed with every error by path."""
    changes = arguments.mapping(changes, "settings")
    loaded = load(_input, changes)
    document = current.document()
    for key, value in loaded.items():
        if value is None:
            continue
        if key == "rank_names":
            document[key].update({rank: name.strip() for rank, name in value.items()})
        else:
            document[key] = value
    return _from_document(document, current.version)


def update(session, scope, changes):
    """Save the company's RFM設定 (company operators only: the caller checks the scope). Returns ``as_dict()``."""
    settings = merged(settings_of(session, scope.company_id), changes)
    table = RfmSetting.__table__
    values = {"settings": json.dumps(settings.document(), ensure_ascii=False), "updated_by": scope.account_id,
              "updated_at": dt.datetime.now(dt.timezone.utc)}
    insert = insert_for(session, table).values(company_id=scope.company_id, version=1, **values)
    session.execute(insert.on_conflict_do_update(index_elements=["company_id"],
                                                 set_={**values, "version": table.c.version + 1}))
    version = session.scalar(select(table.c.version).where(table.c.company_id == scope.company_id))
    return dataclasses.replace(settings, version=version).as_dict()
