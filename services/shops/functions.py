"""機能のご契約状況: the functions a company has, as 企業情報 lists them (part of the shops service's contract).

Every company has every function this system offers; functions not offered yet are not listed (screens and menus name
only what exists).
"""
# key, the label 企業情報 shows, the screens it covers
FUNCTIONS = (
    ("customer_search", "顧客管理: 検索", "属性検索・最新購入情報（RFM分析）・期間設定・メール送信履歴の条件、件数、一覧、保存"),
    ("customer_master", "顧客管理: 登録・顧客一覧", "顧客の手動登録、属性情報・購入履歴・メール送信履歴・対応履歴"),
    ("customer_export", "顧客情報 出力", "検索結果のCSVダウンロード（店舗アカウントは権限設定の出力許可が必要）"),
    ("customer_import", "顧客管理: インポート機能", "会員CSV・受注CSV（EC-CUBE 4、Shopify、任意の形式）の取込み、カート連携（コネクタ）"),
    ("purchase_history", "購入履歴・商品", "購入履歴の手動登録、商品カテゴリ・商品マスタ、履歴グループ"),
    ("mail_history", "配信管理", "メール配信の履歴（送信・開封・クリック・QR読込）"),
    ("member_registration", "会員登録画面", "店舗ごとの会員登録画面（QRコード）、基本設定、お知らせメール"),
    ("shop_management", "店舗管理", "店舗情報、店舗アカウントとパスワード、権限設定、IP設定"),
)
KEYS = tuple(key for key, _label, _covers in FUNCTIONS)
