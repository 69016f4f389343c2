"""Normalisation of the Japanese text operators type: full-width digits, hyphen variants, spaces."""
import re
import unicodedata

import phonenumbers

_HYPHENS = "‐‑‒–—―−ーｰ－"
_TO_HYPHEN = str.maketrans(dict.fromkeys(_HYPHENS, "-"))
_SPACES = re.compile(r"\s+")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def fold_width(value):
    """Full-width ASCII to half-width (NFKC), hyphen look-alikes to '-', runs of spaces to one."""
    if not value:
        return ""
    if value.isascii():  # NFKC leaves ASCII as it is, and no hyphen look-alike is ASCII
        if value.isprintable() and "  " not in value:  # no space but single ones
            return value.strip()
    else:
        value = unicodedata.normalize("NFKC", value).translate(_TO_HYPHEN)
    return _SPACES.sub(" ", value).strip()


def normalize_postal_code(value):
    """'１０５ー０００１', '1050001', '〒105-0001' → '105-0001'; anything else is returned folded, for validation to refuse."""
    folded = fold_width(value).replace("〒", "").replace(" ", "")
    digits = folded.replace("-", "")
    if re.fullmatch(r"\d{7}", digits):
        return f"{digits[:3]}-{digits[3:]}"
    return folded


_SEPARATORS = re.compile(r"[()（）\s.]+")
_TYPED_PHONE = re.compile(r"\+?\d+(?:-\d+)*")
_JAPAN = 81


def _typed_grouping(folded, national):
    """The caller's own grouping of ``national`` (the number's digits with its leading 0) when it is one: three
    groups with the area code first. None otherwise."""
    groups = folded.split("-")
    if groups[0].startswith("+"):
        groups = groups[1:] if groups[0] == f"+{_JAPAN}" else []
        if groups and not groups[0].startswith("0"):
            groups[0] = "0" + groups[0]
    if len(groups) == 3 and "".join(groups) == national and groups[0].startswith("0") and 2 <= len(groups[0]) <= 5 \
            and all(groups):
        return "-".join(groups)
    return None


def normalize_phone(value):
    """A Japanese phone number as typed ('0312345678', '０３（１２３４）５６７８', '+81 3-1234-5678') → '03-1234-5678'.

    Parsed and formatted by phonenumbers (Google's libphonenumber data, region JP), which knows the length of every
    area code from the allocation tables (0422-51-5131, 03-1234-5678, 0120-123-456). A grouping the caller typed
    himself is kept when it is a grouping of the same number: in a range not allocated yet the library can only guess
    the area code, and the customer knows his own number. What is not a Japanese number of a possible length (too
    short, foreign, letters, an extension) is returned folded, for validation to refuse.
    """
    folded = fold_width(value)
    folded = _SEPARATORS.sub("-", folded).strip("-")
    folded = re.sub(r"-{2,}", "-", folded)
    if not _TYPED_PHONE.fullmatch(folded):
        return folded
    if not folded.startswith(("0", "+")):  # typed in Japan a number starts with its 0; the library would add one
        return folded
    try:
        number = phonenumbers.parse(folded, "JP")
    except phonenumbers.NumberParseException:
        return folded
    if number.country_code != _JAPAN or number.extension or not phonenumbers.is_possible_number(number):
        return folded
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = national.replace("-", "")
    if not digits.startswith("0"):
        return folded
    typed = _typed_grouping(folded, digits) if "-" in folded else None
    if typed:
        return typed
    if phonenumbers.is_valid_number(number) or national.count("-") == 2:
        return national
    return folded


def fold_for_matching(value):
    """The form names are matched in: width folded, hiragana as katakana, no spaces, lower case."""
    import jaconv

    text = jaconv.hira2kata(unicodedata.normalize("NFKC", value or ""))
    return re.sub(r"\s+", "", text).lower()


def is_email(value):
    return bool(_EMAIL.match(value or "")) and len(value) <= 254
