"""Normalisation of the Japanese text operators type: full-width digits, hyphen variants, spaces."""
import re
import unicodedata

_HYPHENS = "‐‑‒–—―−ーｰ－"
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def fold_width(value):
    """Full-width ASCII to half-width (NFKC), hyphen look-alikes to '-', runs of spaces to one."""
    value = unicodedata.normalize("NFKC", value or "")
    for ch in _HYPHENS:
        value = value.replace(ch, "-")
    return re.sub(r"\s+", " ", value).strip()


def normalize_postal_code(value):
    """'１０５ー０００１', '1050001', '〒105-0001' → '105-0001'; anything else is returned folded, for validation to refuse."""
    folded = fold_width(value).replace("〒", "").replace(" ", "")
    digits = folded.replace("-", "")
    if re.fullmatch(r"\d{7}", digits):
        return f"{digits[:3]}-{digits[3:]}"
    return folded


def normalize_phone(value):
    """Fold width and separators ('03 0000 0000', '０３（００００）００００') to '03-0000-0000'."""
    folded = fold_width(value)
    folded = re.sub(r"[()（）\s.]+", "-", folded).strip("-")
    folded = re.sub(r"-{2,}", "-", folded)
    digits = folded.replace("-", "")
    if "-" not in folded and re.fullmatch(r"0\d{9,10}", digits):
        if len(digits) == 11:  # mobile and IP phones: 090-1234-5678
            return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
        if digits[:2] in ("03", "06"):
            return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return folded


def fold_for_matching(value):
    """The form names are matched in: width folded, hiragana as katakana, no spaces, lower case."""
    import jaconv

    text = jaconv.hira2kata(unicodedata.normalize("NFKC", value or ""))
    return re.sub(r"\s+", "", text).lower()


def is_email(value):
    return bool(_EMAIL.match(value or "")) and len(value) <= 254
