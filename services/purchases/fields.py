"""The catalogues of the purchases service (part of its contract): the operator's words for its coded values and
the columns of the 購入情報 download, as the 購入履歴 tab names them."""

# 集計対象: a purchase counted in reports and purchase counts, or kept but left out of them.
VALUE_LABELS = {"counted": {True: "対象", False: "対象外"},
                # an order that stands, or one kept on record but never counted (cancelled or returned in the cart)
                "status": {"ordered": "受注", "cancelled": "キャンセル", "returned": "返品"}}

PURCHASE_EXPORT_HEADERS = ("会員番号", "受注コード", "購入店舗", "購入日時", "発送日時", "商品番号", "商品名称", "商品備考",
                           "商品数", "単価", "金額", "売上", "請求金額", "割引", "購入メディア", "集計対象")
