"""The QR code printed in a shop: it opens the shop's public member-registration page."""
import base64
import io

import segno

from services.common.config import env


def registration_url(company_id, shop_number):
    base = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/register/{company_id}/{shop_number}"


def render(url, kind):
    """``{"content_type", "data", "encoding"}``: SVG as text, PNG as base64 (RPC payloads are JSON)."""
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=6, border=4, xmldecl=False)
        return {"content_type": "image/svg+xml", "encoding": "utf-8", "data": buffer.getvalue().decode("utf-8"), "url": url}
    code.save(buffer, kind="png", scale=8, border=4)
    return {"content_type": "image/png", "encoding": "base64",
            "data": base64.b64encode(buffer.getvalue()).decode("ascii"), "url": url}
