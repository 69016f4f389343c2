"""Files for the import benchmark: an EC-CUBE 4 受注CSV and its 会員CSV, as the cart's admin exports them.

Both are CP932 with CRLF line ends and the exact columns of EC-CUBE 4's CSV出力項目設定 (csv_type_id=3 受注CSV,
csv_type_id=2 会員CSV), dates as EC-CUBE writes them (``2024-03-05 14:22:10``), postal codes and phone numbers without
hyphens. The 受注CSV has one row per order line; an order's rows are consecutive and repeat its order-level columns.

Deterministic for a seed, and written as it is generated (only small per-member tables are kept: a few bytes a
member), so a million lines take seconds and little memory. The two files agree: every 会員ID of the orders is a
member of the 会員CSV of the same ``customers`` and ``seed``, with the same name, address and phone, registered
before the member's first order.
"""
import array
import bisect
import csv
import datetime as dt
import functools
import io
import itertools
import random

from bench.generate import FAMILY, GIVEN

MEMBER_COLUMNS = (
    "会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),住所1,住所2,"
    "メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,初回購入日,最終購入日,購入回数,ショップ用メモ欄,"
    "会員ステータス(ID),会員ステータス(名称),登録日,更新日,ポイント").split(",")
ORDER_COLUMNS = (
    "注文ID,注文番号,会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),"
    "住所1,住所2,メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,ショップ用メモ欄,小計,値引き,送料,税金,"
    "合計,支払合計,対応状況(ID),対応状況(名称),支払方法(ID),支払方法(名称),受注日,入金日,注文詳細ID,商品ID,商品規格ID,"
    "商品名,商品コード,規格名1,規格名2,規格分類名1,規格分類名2,価格,個数,税率,税率ルール(ID),明細区分(ID),明細区分(名称),"
    "出荷ID,配送先_お名前(姓),配送先_お名前(名),配送先_お名前(セイ),配送先_お名前(メイ),配送先_会社名,配送先_郵便番号,"
    "配送先_都道府県(ID),配送先_都道府県(名称),配送先_住所1,配送先_住所2,配送先_TEL,配送業者(ID),配送業者(名称),"
    "お届け時間ID,お届け時間(名称),お届け希望日,送料,発送日,出荷伝票番号,配達用メモ,出荷メール送信日").split(",")

# (JIS prefecture code, name, first three digits of the postal code, 住所1)
PLACES = [(13, "東京都", "105", "港区虎ノ門"), (13, "東京都", "160", "新宿区西新宿"), (14, "神奈川県", "220", "横浜市西区みなとみらい"),
          (27, "大阪府", "530", "大阪市北区梅田"), (23, "愛知県", "460", "名古屋市中区栄"), (11, "埼玉県", "330", "さいたま市大宮区桜木町"),
          (12, "千葉県", "260", "千葉市中央区富士見"), (28, "兵庫県", "650", "神戸市中央区三宮町"), (1, "北海道", "060", "札幌市中央区北一条西"),
          (40, "福岡県", "810", "福岡市中央区天神"), (22, "静岡県", "420", "静岡市葵区追手町"), (26, "京都府", "600", "京都市下京区四条通")]
SEXES = {"male": ("1", "男性"), "female": ("2", "女性")}
JOBS = [("", ""), ("", ""), ("", ""), ("8", "総務・人事・事務"), ("9", "営業・販売"), ("17", "主婦"), ("16", "学生・フリーター"),
        ("18", "その他")]
PAYMENTS = [("4", "代金引換"), ("4", "代金引換"), ("3", "銀行振込"), ("1", "郵便振替")]
DELIVERY_TIMES = [("", ""), ("", ""), ("", ""), ("1", "午前中"), ("2", "14時～16時"), ("3", "18時～20時")]
PRODUCT_WORDS = ["国産", "無添加", "オーガニック", "プレミアム", "お徳用", "季節限定", "手作り", "北海道産"]
PRODUCT_ITEMS = ["緑茶", "ほうじ茶", "コーヒー豆", "はちみつ", "青汁", "石けん", "化粧水", "サプリメント", "玄米", "ドレッシング",
                 "今治タオル", "黒酢", "味噌", "梅干し", "オリーブオイル", "ハンドクリーム"]
PRODUCT_SIZES = ["100g", "300g", "500g", "1kg", "24本入り", "3個セット", "詰め替え用", "お試しサイズ"]

NEW, SHIPPED, CANCELLED, RETURNED = ("1", "新規受付"), ("5", "発送済み"), ("3", "キャンセル"), ("9", "返品")
REGISTERED, WITHDRAWN = ("2", "本会員"), ("3", "退会")

START = dt.datetime(2022, 1, 1)
SPAN = 3 * 365 * 86400  # orders fall on 2022-01-01 … 2024-12-30
DAY = 86400
REGISTRATION_FROM = -365 * DAY  # members registered from a year before the first order to a year before the last
REGISTRATION_TO = SPAN - 365 * DAY
LINE_WEIGHTS = [38, 25, 14, 9, 5, 4, 3, 2]  # rows per order 1–8: mean 2.52, so 1,000,000 lines are ~400,000 orders
GUEST, CANCEL, RETURN, LEFT_NEW = 0.03, 0.02, 0.005, 0.03
RECENT = 30 * DAY  # orders of the last 30 days are not shipped yet
FREE_SHIPPING, SHIPPING = 10_000, 800
TAX_RATE = 10


def _stamp(seconds):
    """EC-CUBE's CSV date format, ``seconds`` after START (datetime arithmetic is the slow part; days are cached)."""
    day, rest = divmod(seconds, DAY)
    return f"{_day(day)} {rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}"


@functools.lru_cache(maxsize=None)
def _day(day):
    return (START + dt.timedelta(days=day)).strftime("%Y-%m-%d")


def _open(path):
    """A CP932 text file writing CRLF through csv.writer (the writer ends lines; the wrapper translates nothing)."""
    raw = open(path, "wb")
    return io.TextIOWrapper(raw, encoding="cp932", newline="", write_through=False)


class _Members:
    """Who the members are, a few bytes each, drawn alike by both writers from the seed."""

    def __init__(self, customers, seed):
        rng = random.Random(f"{seed}:members")
        rand = rng.random
        self.count = customers
        self.family = array.array("B", (int(rand() * len(FAMILY)) for _ in range(customers)))
        self.given = array.array("B", (int(rand() * len(GIVEN)) for _ in range(customers)))
        self.place = array.array("B", (int(rand() * len(PLACES)) for _ in range(customers)))
        self.job = array.array("B", (int(rand() * len(JOBS)) for _ in range(customers)))
        # birth: days after 1945-01-01, or -1 when not given (a tenth of the members)
        self.birth = array.array("l", (-1 if rand() < 0.1 else int(rand() * 60 * 365) for _ in range(customers)))
        span = REGISTRATION_TO - REGISTRATION_FROM
        self.registered = array.array("q", (REGISTRATION_FROM + int(rand() * span) for _ in range(customers)))
        self.salt = seed * 7919

    def person(self, number):
        """The order-level columns 姓 … 誕生日 of member ``number`` (1-based)."""
        i = number - 1
        return _person(FAMILY[self.family[i]], GIVEN[self.given[i]], PLACES[self.place[i]], number + self.salt,
                       f"member{number}@example.jp", JOBS[self.job[i]], self.birth[i])


def _person(family, given, place, key, email, job, birth):
    postal = f"{place[2]}{key * 37 % 10000:04d}"
    address2 = f"{key % 9 + 1}-{key * 7 % 20 + 1}-{key * 13 % 30 + 1}"
    tel = f"0{(9, 8, 7)[key % 3]}0{key * 7919 % 100_000_000:08d}"
    birth_text = "" if birth < 0 else (dt.date(1945, 1, 1) + dt.timedelta(days=birth)).strftime("%Y-%m-%d 00:00:00")
    return [family[0], given[0], family[1], given[1], "", postal, str(place[0]), place[1], place[3], address2, email,
            tel, *SEXES[given[2]], *job, birth_text]


def _catalogue(products, rng):
    """(商品ID, name, code, price) of every product, and cumulative weights: a few best sellers, a long tail."""
    items = []
    for n in range(1, products + 1):
        name = (f"{PRODUCT_WORDS[n % len(PRODUCT_WORDS)]}{PRODUCT_ITEMS[n // len(PRODUCT_WORDS) % len(PRODUCT_ITEMS)]} "
                f"{PRODUCT_SIZES[n // 7 % len(PRODUCT_SIZES)]}")
        price = int(300 + rng.random() ** 2 * 19_700) // 10 * 10
        items.append((str(n), name, f"A-{n:05d}", price))
    weights = list(itertools.accumulate(1 / (n + 10) for n in range(products)))
    return items, weights


def write_eccube_members(path, customers=100_000, seed=1):
    """Write the 会員CSV of ``customers`` members (会員ID 1..customers) to ``path``.

    初回購入日, 最終購入日 and 購入回数 are left empty: the members file does not know how many orders the 受注CSV
    holds (an importer derives them from the orders). Returns the number of rows written.
    """
    members = _Members(customers, seed)
    rng = random.Random(f"{seed}:member-rows")
    with _open(path) as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(MEMBER_COLUMNS)
        for number in range(1, customers + 1):
            registered = members.registered[number - 1]
            updated = min(registered + int(rng.random() * 400 * DAY), SPAN - 1)
            status = WITHDRAWN if rng.random() < 0.01 else REGISTERED
            points = int(rng.random() * 50) * 10 if rng.random() < 0.4 else 0
            writer.writerow([number, *members.person(number), "", "", "", "", *status, _stamp(registered),
                             _stamp(updated), points])
    return customers


class _Renderer:
    """Fields → one CSV line's text without its line end, quoted as csv.writer quotes."""

    def __init__(self):
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="")

    def __call__(self, fields):
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(fields)
        return self.buffer.getvalue()


def _line_counts(lines, rng):
    """Rows of every order, 1–8 each, adding up to ``lines`` exactly (the last order takes what is left)."""
    cumulative = list(itertools.accumulate(LINE_WEIGHTS))
    total = cumulative[-1]
    counts = array.array("B")
    left = lines
    while left > 0:
        n = min(bisect.bisect_right(cumulative, rng.random() * total) + 1, left)
        counts.append(n)
        left -= n
    return counts


def write_eccube_orders(path, lines=1_000_000, customers=100_000, products=5_000, seed=1):
    """Write an EC-CUBE 4 受注CSV of ``lines`` order lines (about lines / 2.5 orders) to ``path``.

    Orders are numbered in time order over three years (注文ID = 注文番号); 3 % are guest orders (empty 会員ID), the
    rest are by members 1..customers registered before the order. 対応状況: 発送済み, 新規受付 for the last 30 days
    (and a few older ones never updated), 2 % キャンセル and 0.5 % 返品. Every row carries its order's 小計 (the sum
    of 価格 × 個数 of the order's rows; 価格 includes tax), 値引き, 送料 and 合計 = 支払合計 = 小計 + 送料 − 値引き.
    Returns the number of orders written.
    """
    members = _Members(customers, seed)
    rng = random.Random(f"{seed}:orders")
    rand = rng.random
    catalogue, weights = _catalogue(products, rng)
    top = weights[-1]
    counts = _line_counts(lines, rng)
    orders = len(counts)
    first_registered = min(members.registered)
    line_id = 0
    render = _Renderer()
    # An order's columns and each product's are quoted by csv once; a row only joins them,
    # which spares csv most of the fields.
    products_text = [render([product[0], product[0], product[1], product[2], "", "", "", "", product[3]])
                     for product in catalogue]
    with _open(path) as out:
        out.write(render(ORDER_COLUMNS) + "\r\n")
        for order_id, count in enumerate(counts, 1):
            ordered = min(int(SPAN * (order_id - 1 + rand()) / orders), SPAN - 1)
            # before the first member registered, only guests can order
            if rand() < GUEST or ordered <= first_registered:
                member = ""
                person = _person(FAMILY[int(rand() * len(FAMILY))], GIVEN[int(rand() * len(GIVEN))],
                                 PLACES[int(rand() * len(PLACES))], order_id * 31 + members.salt,
                                 f"guest{order_id}@example.com", ("", ""), -1)
            else:
                member = int(rand() * customers) + 1
                while members.registered[member - 1] >= ordered:  # a member orders only once registered
                    member = int(rand() * customers) + 1
                person = members.person(member)

            chosen, items = set(), []
            while len(items) < count:
                index = bisect.bisect_right(weights, rand() * top) if products > 1 else 0
                if index in chosen and len(chosen) < products:
                    continue  # a product once per order, as a cart merges it
                chosen.add(index)
                items.append((index, int(rand() * 5) + 1))
            subtotal = sum(catalogue[index][3] * quantity for index, quantity in items)
            discount = (500, 1000)[int(rand() * 2)] if rand() < 0.1 else 0
            discount = min(discount, subtotal)
            shipping = 0 if subtotal >= FREE_SHIPPING else SHIPPING
            total = subtotal + shipping - discount
            tax = subtotal * TAX_RATE // (100 + TAX_RATE)

            r = rand()
            shipped_at = paid_at = slip = ""
            if r < CANCEL:
                status = CANCELLED
            elif ordered >= SPAN - RECENT or r > 1 - LEFT_NEW:
                status = NEW
            else:
                status = RETURNED if r < CANCEL + RETURN else SHIPPED
                shipped = min(ordered + DAY + int(rand() * 2 * DAY), SPAN - 1)
                shipped_at = paid_at = _stamp(shipped)
                slip = f"{order_id * 7919 % 10**12:012d}"
            payment = PAYMENTS[int(rand() * len(PAYMENTS))]
            time_slot = DELIVERY_TIMES[int(rand() * len(DELIVERY_TIMES))]

            head = render([order_id, order_id, member, *person, "", subtotal, discount, shipping, tax, total, total,
                    *status, *payment, _stamp(ordered), paid_at])
            tail = render([TAX_RATE, "1", "1", "商品", order_id, *person[:10], person[11], "1", "サンプル業者",
                           *time_slot, "", shipping, shipped_at, slip, "", shipped_at])
            rows = []
            for index, quantity in items:
                line_id += 1
                rows.append(f"{head},{line_id},{products_text[index]},{quantity},{tail}\r\n")
            out.write("".join(rows))
    return orders
