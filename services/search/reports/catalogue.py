"""The one list of 集計's reports: each report's key, the operator's name for it, the 権限設定 flags that let a shop
account see it (利用許可) and download it (出力許可), the options its screen offers, and its default period. The
gateway builds its menu, its filters and its permission checks from this list (``search.report_catalogue``)."""
from dataclasses import asdict, dataclass

from ..report_schemas import CHOICES


@dataclass(frozen=True)
class Report:
    kind: str
    title: str
    use_permission: str | None  # None: every account may see it (購入状況 has no 利用許可)
    export_permission: str
    options: tuple  # the option names of report_schemas.ReportOptions its screen offers
    default_days: int  # the period when none is given: this many days up to today (0: no period)
    summary: str  # one line under the title: what the report answers


REPORTS = (
    Report("daily_monthly", "日報・月報", "may_use_daily_monthly_report", "may_export_daily_monthly_report",
           ("date_from", "date_to", "unit", "shop_ids", "excluded_products"), 365,
           "日ごと・月ごとの受注件数、売上、購入者数（新規・リピート）、客単価"),
    Report("sales", "売上", "may_use_sales_report", "may_export_sales_report",
           ("date_from", "date_to", "by", "shop_ids", "excluded_products"), 365,
           "期間の売上を店舗別・購入メディア別・商品カテゴリ別・顧客区分別に"),
    Report("repeat", "リピート率", "may_use_repeat_rate_report", "may_export_repeat_rate_report",
           ("date_from", "date_to", "shop_ids", "excluded_products"), 730,
           "初回購入月ごとのF2転換率（30・60・90・180・360日以内）、期間のリピート率、F2→F3→F4…の転換"),
    Report("ltv", "LTV推移", "may_use_repeat_rate_report", "may_export_repeat_rate_report",
           ("date_from", "date_to", "shop_ids", "excluded_products", "first_product", "first_category",
            "first_media"), 730,
           "初回購入月ごとの新規顧客1人あたり累計購入金額とリピート率（初回購入から30日〜720日）"),
    Report("retention", "継続・離脱", "may_use_repeat_rate_report", "may_export_repeat_rate_report",
           ("day", "lapse_days", "shop_ids", "excluded_products"), 0,
           "F1→F2→F3…の継続と、最新購入から一定日数購入のない離脱顧客"),
    Report("products", "商品", "may_use_product_report", "may_export_product_report",
           ("date_from", "date_to", "view", "order_by", "product", "together", "top", "shop_ids",
            "excluded_products"), 365,
           "商品ランキング（数量・売上・購入者数）、初回購入者が買った商品、併売（同じ注文・その後の購入）"),
    Report("purchase_status", "購入状況", None, "may_export_purchase_status",
           ("day", "shop_ids", "excluded_products"), 0,
           "購入回数別（1回〜10回以上）と最新購入からの日数別の顧客数"),
)
BY_KIND = {report.kind: report for report in REPORTS}


def catalogue():
    """The list as the RPC returns it: [{kind, title, use_permission, export_permission, options, default_days,
    summary, choices: {option: [[value, the operator's word], …]} of its options that have choices}]."""
    return [dict(asdict(report), options=list(report.options),
                 choices={name: [[value, label] for value, label in CHOICES[name].items()]
                          for name in report.options if name in CHOICES})
            for report in REPORTS]
