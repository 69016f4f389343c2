"""Every screen of the gateway's URL map, as the operator sees it at 1366×768 with the longest names the services take
(a 50-letter 備考 name, a 300-character product name, a 100-character shop name, unbroken letters in remarks, choices
and addresses): nothing reaches past the window except inside a box that scrolls, and no text wraps inside a box
narrower than two characters (a heading or button broken a character a line)."""
import base64
import re

import pytest
from flask import url_for
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.support import ROOT

pytestmark = pytest.mark.browser
FIXTURES = ROOT / "tests" / "fixtures" / "imports"

# GET routes that are no screen: files, JSON for the pages' scripts, the tracking links of mails, the health check
NOT_SCREENS = re.compile(r"\.(csv|json|gif)$|\.<any\(png, svg\):kind>$|^/static/|^/t/|^/healthz$|/address-lookup$")

LONG_PRODUCT = ("北海道産 紅ほっぺ苺と有機栽培ルイボスティーの詰め合わせ ギフト箱入り（熨斗対応・メッセージカード付き）" * 10)[:300]
LONG_SHOP = ("わくわくオンラインストア 楽天市場店（旧：わくわくshop本店）" * 4)[:100]
LONG_CATEGORY = ("季節限定ギフトセット・お中元お歳暮向け詰め合わせ" * 5)[:100]
LONG_GROUP = ("ご購入のきっかけ・当店を知った媒体（雑誌・SNS・ご紹介など）" * 3)[:100]

# What is wrong on the page, from its own geometry: elements past the window's right (or left) edge with no
# scrolling box around them, and text that wraps in lines narrower than two characters of its font.
LAYOUT_PROBLEMS = """async () => {
  await document.fonts.ready;
  const problems = [];
  const width = window.innerWidth;
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (p === document.body || p === document.documentElement) return false;
    if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true;
  } return false; };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.className ? '.' + [...el.classList].join('.') : ''}`
    + ` "${(el.textContent || el.value || '').trim().slice(0, 30)}"`;
  if (document.documentElement.scrollWidth > width) problems.push(`page is ${document.documentElement.scrollWidth}px wide`);
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(el)) problems.push(`${describe(el)} reaches ${Math.round(r.left)}..${Math.round(r.right)}px`);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.trim().length < 2) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = new Map();
    for (const rect of range.getClientRects()) {
      if (rect.width === 0) continue;
      const top = Math.round(rect.top);
      lines.set(top, (lines.get(top) || 0) + rect.width);
    }
    if (lines.size < 2) continue;
    const em = parseFloat(getComputedStyle(node.parentElement).fontSize);
    const widest = Math.max(...lines.values());
    if (widest < 2 * em - 1) problems.push(`"${node.textContent.trim().slice(0, 20)}" wraps in ${lines.size} lines ${Math.round(widest)}px wide`);
  }
  return problems;
}"""


def _uploaded(rpc_service, scope, shop_id, name):
    """An import as インポート機能 leaves it after the upload: read, waiting on its mapping page."""
    job = rpc_service.create_import(scope, shop_id, name)
    rpc_service.append_import_chunk(scope, job["id"], 0, base64.b64encode((FIXTURES / name).read_bytes()).decode())
    return rpc_service.inspect_import(scope, job["id"], None)


def _long_names(rpc, tenant):
    scope = tenant.operator_scope()
    shop_id = tenant.shops[0]["id"]
    remarks = rpc.customers.get_remark_settings(scope)
    names = {1: "W" * 50, 2: "お客様からのご要望・配送時のご注意・ギフト包装の有無などを自由にご記入ください（社内用）"[:50]}
    rpc.customers.update_remark_settings(scope, [{"position": r["position"], "name": names.get(r["position"], r["name"]),
                                                  "shown": r["shown"] or r["position"] in names} for r in remarks])
    rpc.shops.create_shop(scope, {"shop_number": 7777, "name": LONG_SHOP, "phone": "03-0000-0000"})
    category = rpc.purchases.add_category(scope, shop_id, {"name": LONG_CATEGORY})
    product = rpc.purchases.add_product(scope, shop_id, {"code": "GIFT-" + "X" * 45, "name": LONG_PRODUCT,
                                                         "category_id": category["id"], "price": 1234567})
    customer = rpc.customers.create_customer(scope, {
        "shop_id": shop_id, "family_name": ("長谷川" * 20)[:50], "given_name": "W" * 50,
        "pc_email": "a" * 60 + "@" + "example-very-long-domain-name." * 3 + "jp", "remark1": "W" * 300,
        "remark2": LONG_PRODUCT})
    purchase = rpc.purchases.create_purchase(scope, {
        "shop_id": shop_id, "customer_id": customer["id"], "purchased_at": "2026-11-01T12:00:00+09:00",
        "lines": [{"product_code": product["code"], "quantity": 3, "line_remark": "名入れ：" + "W" * 100}]})
    entry = rpc.customers.add_support_entry(scope, customer["id"], {
        "staff": "カスタマーサポート部 第二グループ 山田", "entered_at": "2026-11-02T10:00:00",
        "content": "お電話にて配送日変更のご依頼。" * 10 + "W" * 200})
    attribute = rpc.customers.add_group(scope, {"name": LONG_GROUP, "in_use": True})
    for label in ("プラチナ", "W" * 125):
        attribute = rpc.customers.add_choice(scope, attribute["id"], {"label": label})
    history = rpc.purchases.add_history_group(scope, {"name": LONG_GROUP, "in_use": True})
    history = rpc.purchases.add_history_choice(scope, history["id"], {"label": "W" * 125})
    imports = {"customers": _uploaded(rpc.customers, scope, shop_id, "eccube4_members.csv"),
               "purchases": _uploaded(rpc.purchases, scope, shop_id, "eccube4_orders.csv")}
    common = {"customer_id": customer["id"], "purchase_id": purchase["id"], "entry_id": entry["id"],
              "product_id": product["id"], "category_id": category["id"], "shop_id": shop_id,
              "company_id": tenant.company_id, "shop_number": tenant.shops[0]["shop_number"]}
    return common, {"attribute": attribute["id"], "history": history["id"]}, imports


def _every_screen(app, common, groups, imports, reports):
    """A URL for every GET route that is a screen, each ``any(...)`` argument taking each of its values."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or NOT_SCREENS.search(rule.rule):
            continue
        choices = {name: [v.strip() for v in values.split(",")]
                   for values, name in re.findall(r"<any\(([^)]*)\):(\w+)>", rule.rule)}
        variants = [{}]
        for name, values in choices.items():
            variants = [dict(v, **{name: value}) for v in variants for value in values]
        if "import_id" in rule.arguments:  # <kind> is a kind of file here
            variants = [{"kind": kind, "import_id": job["id"]} for kind, job in imports.items()]
        elif rule.endpoint.startswith("reports.") and "kind" in rule.arguments:  # a report of the catalogue
            variants = [{"kind": kind} for kind in reports]
        for variant in variants:
            values = dict(common, **(rule.defaults or {}), **variant)
            if "group_id" in rule.arguments:
                values["group_id"] = groups[values["kind"]]
            missing = set(rule.arguments) - set(values)
            assert not missing, f"{rule.rule}: give this test a {sorted(missing)} to visit it with"
            with app.test_request_context():
                urls.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return sorted(set(urls))


def test_every_screen_keeps_long_names_inside_the_window(screen, gateway_url, app, tenant, rpc):
    page = screen
    common, groups, imports = _long_names(rpc, tenant)
    reports = [entry["kind"] for entry in rpc.search.report_catalogue()]
    urls = _every_screen(app, common, groups, imports, reports)
    assert len(urls) > 40, urls
    log_in(page, gateway_url, tenant.operator_login, tenant.password)
    found = {}
    for url in urls:
        response = page.goto(gateway_url + url)
        assert response.status == 200, url
        expect(page.locator("main")).to_be_visible()
        problems = page.evaluate(LAYOUT_PROBLEMS)
        if problems:
            found[url] = problems[:5]
            screenshot(page, "layout-" + re.sub(r"\W+", "-", url).strip("-"))
    assert found == {}
