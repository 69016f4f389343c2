"""The shops service over RPC on the real broker: 店舗管理, 権限設定, IP設定, login rules and scope."""
import base64

import pytest
from sqlalchemy import text

from services.common.errors import AuthenticationFailed, Forbidden, ValidationFailed
from services.shops.permissions import DEFAULTS, NAMES
from tests.support import session_for


def test_every_service_answers_health(rpc):
    for service in ("shops", "customers", "purchases", "mailhistory", "search"):
        report = getattr(rpc, service).health()
        assert report["service"] == service and report["status"] == "ok" and report["database"] == "ok"


def test_operator_sees_every_shop_of_the_company(rpc, tenant):
    shops = rpc.shops.list_shops(tenant.operator_scope())
    assert [s["shop_number"] for s in shops] == [103, 5019]
    assert shops[0]["login_id"] == f"{tenant.company_id}103"
    assert shops[0]["permissions"] == DEFAULTS


def test_shop_account_sees_only_its_own_shop(rpc, tenant):
    shops = rpc.shops.list_shops(tenant.shop_scope(0))
    assert [s["id"] for s in shops] == [tenant.shops[0]["id"]]


def test_shop_account_asking_for_another_shop_is_refused_by_the_service(rpc, tenant):
    with pytest.raises(Forbidden):
        rpc.shops.get_shop(tenant.shop_scope(0), tenant.shops[1]["id"])
    with pytest.raises(Forbidden):
        rpc.shops.shop_qr_code(tenant.shop_scope(0), tenant.shops[1]["id"], "png")


def test_another_company_is_refused_whatever_the_caller_sends(rpc, tenant, stack):
    from tests.support import make_tenant

    other = make_tenant(stack.urls["shops"])
    with pytest.raises(Forbidden):
        rpc.shops.get_shop(tenant.operator_scope(), other.shops[0]["id"])
    with pytest.raises(Forbidden):
        rpc.shops.update_shop(tenant.operator_scope(), other.shops[0]["id"], {"name": "乗っ取り", "phone": "03-1111-2222"})
    with pytest.raises(Forbidden):
        rpc.shops.get_shop({"company_id": "102; drop table", "role": "operator"}, other.shops[0]["id"])


def test_shop_account_cannot_change_shop_permissions_or_passwords(rpc, tenant):
    own = tenant.shops[0]["id"]
    with pytest.raises(Forbidden):
        rpc.shops.update_permissions(tenant.shop_scope(0), own, {name: True for name in NAMES})
    with pytest.raises(Forbidden):
        rpc.shops.regenerate_password(tenant.shop_scope(0), own)
    with pytest.raises(Forbidden):
        rpc.shops.regenerate_all_passwords(tenant.shop_scope(0))
    with pytest.raises(Forbidden):
        rpc.shops.update_allowlist(tenant.shop_scope(0), [])


def test_edit_shop_info_normalises_phone_and_postal_code(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    before = rpc.shops.get_shop(tenant.operator_scope(), shop_id)
    updated = rpc.shops.update_shop(tenant.operator_scope(), shop_id, {
        "name": "LTV-Innovation Shop", "manager_name": "山田", "postal_code": "１０５ー０００１", "phone": "０３ー１２３４ー５６７８",
        "address": "東京都港区虎ノ門", "sender_name": "LTV-Lab Shop", "sender_address": "crm@example.jp",
        "felica": True, "status": "active"})
    assert updated["phone"] == "03-1234-5678"
    assert updated["felica"] is True
    assert updated["version"] == before["version"] + 1


def test_bad_shop_input_is_refused_field_by_field_and_changes_nothing(rpc, tenant):
    shop_id = tenant.shops[0]["id"]
    before = rpc.shops.get_shop(tenant.operator_scope(), shop_id)
    with pytest.raises(ValidationFailed) as refused:
        rpc.shops.update_shop(tenant.operator_scope(), shop_id, {
            "name": "", "phone": "12", "postal_code": "12", "sender_address": "not-an-address", "status": "closed"})
    assert refused.value.fields == {"name": ["required"], "phone": ["invalid_phone"],
                                    "postal_code": ["invalid_postal_code"], "sender_address": ["invalid_email"],
                                    "status": ["one_of"]}
    assert rpc.shops.get_shop(tenant.operator_scope(), shop_id) == before


def test_permissions_are_stored_per_shop_and_returned(rpc, tenant):
    flags = {name: False for name in NAMES}
    flags["may_export_customers"] = True
    rpc.shops.update_permissions(tenant.operator_scope(), tenant.shops[1]["id"], flags)
    assert rpc.shops.get_shop(tenant.operator_scope(), tenant.shops[1]["id"])["permissions"] == flags
    assert rpc.shops.get_shop(tenant.operator_scope(), tenant.shops[0]["id"])["permissions"] == DEFAULTS
    context = rpc.shops.authenticate(tenant.shops[1]["login_id"], tenant.password, "127.0.0.1")
    assert context["scope"]["permissions"] == flags
    assert context["scope"]["role"] == "shop"


def test_permissions_need_every_flag(rpc, tenant):
    with pytest.raises(ValidationFailed) as refused:
        rpc.shops.update_permissions(tenant.operator_scope(), tenant.shops[0]["id"], {"may_export_customers": True})
    assert "may_use_sales_report" in refused.value.fields


def test_login_ids_follow_company_id_and_shop_number(rpc, tenant):
    context = rpc.shops.authenticate(f"{tenant.company_id}5019", tenant.password, "127.0.0.1")
    assert context["account"]["shop_id"] == tenant.shops[1]["id"]
    operator = rpc.shops.authenticate(tenant.operator_login, tenant.password, "127.0.0.1")
    assert operator["scope"]["role"] == "operator"
    assert [s["shop_number"] for s in operator["shops"]] == [103, 5019]


def test_repeated_failed_logins_lock_the_account(rpc, tenant):
    login = tenant.shops[0]["login_id"]
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as refused:
            rpc.shops.authenticate(login, "wrong-password", "127.0.0.1")
        assert refused.value.message == "invalid_credentials"
    with pytest.raises(AuthenticationFailed) as refused:
        rpc.shops.authenticate(login, "wrong-password", "127.0.0.1")
    assert refused.value.message == "locked"
    with pytest.raises(AuthenticationFailed) as refused:
        rpc.shops.authenticate(login, tenant.password, "127.0.0.1")
    assert refused.value.message == "locked"
    # the other shop's account is not affected
    assert rpc.shops.authenticate(tenant.shops[1]["login_id"], tenant.password, "127.0.0.1")


def test_a_standby_shop_cannot_log_in(rpc, tenant):
    shop = rpc.shops.get_shop(tenant.operator_scope(), tenant.shops[1]["id"])
    editable = {k: shop[k] for k in ("name", "manager_name", "postal_code", "address", "phone", "sender_name",
                                     "sender_address", "felica")}
    rpc.shops.update_shop(tenant.operator_scope(), shop["id"], dict(editable, status="standby"))
    with pytest.raises(AuthenticationFailed) as refused:
        rpc.shops.authenticate(tenant.shops[1]["login_id"], tenant.password, "127.0.0.1")
    assert refused.value.message == "shop_standby"
    operator = rpc.shops.authenticate(tenant.operator_login, tenant.password, "127.0.0.1")
    assert [s["shop_number"] for s in operator["shops"]] == [103], "standby shops are hidden from the picker"


def test_login_from_outside_the_allowlist_is_refused(rpc, tenant):
    saved = rpc.shops.update_allowlist(tenant.operator_scope(), ["192.0.2.10", "198.51.100.0/24", "2001:db8::/32"])
    assert saved["networks"] == ["192.0.2.10/32", "198.51.100.0/24", "2001:db8::/32"]
    with pytest.raises(AuthenticationFailed) as refused:
        rpc.shops.authenticate(tenant.operator_login, tenant.password, "203.0.113.5")
    assert refused.value.message == "ip_not_allowed"
    assert rpc.shops.authenticate(tenant.operator_login, tenant.password, "198.51.100.77")
    assert rpc.shops.authenticate(tenant.operator_login, tenant.password, "2001:db8:1::5")
    context = rpc.shops.authenticate(tenant.operator_login, tenant.password, "192.0.2.10")
    with pytest.raises(AuthenticationFailed):
        rpc.shops.session_context(context["account"]["id"], "203.0.113.5", context["session_generation"])
    rpc.shops.update_allowlist(tenant.operator_scope(), [])
    assert rpc.shops.authenticate(tenant.operator_login, tenant.password, "203.0.113.5")


def test_bad_allowlist_entries_are_reported_by_index_and_nothing_changes(rpc, tenant):
    rpc.shops.update_allowlist(tenant.operator_scope(), ["10.0.0.0/8"])
    with pytest.raises(ValidationFailed) as refused:
        rpc.shops.update_allowlist(tenant.operator_scope(), ["10.0.0.0/8", "300.1.1.1", "example.com"])
    assert refused.value.fields == {"networks.1": ["invalid_network"], "networks.2": ["invalid_network"]}
    assert rpc.shops.get_allowlist(tenant.operator_scope())["networks"] == ["10.0.0.0/8"]
    with pytest.raises(ValidationFailed) as refused:
        rpc.shops.update_allowlist(tenant.operator_scope(), ["10.0.0.0/8"], "192.0.2.1")
    assert refused.value.fields == {"networks": ["excludes_current_ip"]}


def test_regenerated_passwords_are_shown_once_and_stored_only_hashed(rpc, tenant, stack):
    one = rpc.shops.regenerate_password(tenant.operator_scope(), tenant.shops[0]["id"])
    assert len(one["password"]) >= 12
    assert rpc.shops.authenticate(one["login_id"], one["password"], "127.0.0.1")
    with pytest.raises(AuthenticationFailed):
        rpc.shops.authenticate(one["login_id"], tenant.password, "127.0.0.1")
    every = rpc.shops.regenerate_all_passwords(tenant.operator_scope())
    assert [row["shop_number"] for row in every] == [103, 5019]
    assert len({row["password"] for row in every}) == 2
    for row in every:
        assert rpc.shops.authenticate(row["login_id"], row["password"], "127.0.0.1")
    secrets = [one["password"]] + [row["password"] for row in every] + [tenant.password]
    engine, factory = session_for(stack.urls["shops"])
    with factory() as session:
        hashes = list(session.execute(text("SELECT password_hash FROM accounts")).scalars())
        dump = " ".join(str(row) for row in session.execute(text("SELECT * FROM accounts")).all())
        dump += " ".join(str(row) for row in session.execute(text("SELECT payload FROM outbox")).all())
    engine.dispose()
    assert all(h.startswith("$argon2") for h in hashes)
    for secret in secrets:
        assert secret not in dump
        assert secret not in stack.processes.log("shops")


def test_qr_code_encodes_the_shop_registration_url(rpc, tenant):
    png = rpc.shops.shop_qr_code(tenant.operator_scope(), tenant.shops[0]["id"], "png")
    assert png["content_type"] == "image/png"
    assert base64.b64decode(png["data"]).startswith(b"\x89PNG")
    assert png["url"] == f"https://crm.example.jp/register/{tenant.company_id}/103"
    svg = rpc.shops.shop_qr_code(tenant.operator_scope(), tenant.shops[0]["id"], "svg")
    assert svg["content_type"] == "image/svg+xml" and "<svg" in svg["data"]


def test_company_info_edit(rpc, tenant):
    company = rpc.shops.get_company(tenant.operator_scope())
    updated = rpc.shops.update_company(tenant.operator_scope(), {
        "name": "LTV-Innovation", "postal_code": "1050001", "address": "東京都港区", "phone": "0312345678",
        "email": "info@example.jp"})
    assert updated["postal_code"] == "105-0001" and updated["phone"] == "03-1234-5678"
    assert updated["version"] == company["version"] + 1
    with pytest.raises(ValidationFailed) as refused:
        rpc.shops.update_company(tenant.operator_scope(), {"name": "x", "email": "nope"})
    assert refused.value.fields == {"email": ["invalid_email"]}
    with pytest.raises(Forbidden):
        rpc.shops.update_company(tenant.shop_scope(0), {"name": "x"})
