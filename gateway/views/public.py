"""The public member-registration page behind each shop's QR code (no login)."""
from flask import Blueprint, render_template, request

from services.common.errors import ValidationFailed

from ..auth import services
from ..forms import errors_of, number, posted_request_id

bp = Blueprint("public", __name__, url_prefix="/register")


def _payload(form, groups):
    return {
        "agreed_to_terms": form.get("agreed_to_terms") == "1",
        "family_name": form.get("family_name", ""), "given_name": form.get("given_name", ""),
        "family_kana": form.get("family_kana", ""), "given_kana": form.get("given_kana", ""),
        "gender": form.get("gender", ""), "birth_date": form.get("birth_date", ""),
        "mail_permission": form.get("mail_permission", ""), "email": form.get("email", ""),
        "postal_code": form.get("postal_code", ""), "address": form.get("address", ""),
        "phone": form.get("phone", ""), "remark1": form.get("remark1", ""),
        "choices": {str(grp["id"]): number(form.get(f"group_{grp['id']}")) for grp in groups
                    if number(form.get(f"group_{grp['id']}")) is not None},
    }


@bp.route("/<int:company_id>/<int:shop_number>", methods=["GET", "POST"])
def register(company_id, shop_number):
    form = services().customers.registration_form(company_id, shop_number)
    errors, values = {}, {}
    if request.method == "POST":
        values = _payload(request.form, form["groups"])
        try:
            result = services().customers.register_member(company_id, shop_number, values,
                                                           request_id=posted_request_id(request.form))
        except ValidationFailed as failure:
            errors = errors_of(failure)
        else:
            return render_template("public/registered.html", form=form, result=result)
    return render_template("public/register.html", form=form, values=values, errors=errors), (400 if errors else 200)
