"""Japanese input as operators and members type it: furigana to full-width katakana, text folded for matching."""
import re
import unicodedata

import jaconv

from services.common.text import fold_for_matching

_KATAKANA = re.compile(r"^[\u30A0-\u30FF\u3000 ]*$")


def to_katakana(value):
    """'やまだ', 'ﾔﾏﾀﾞ', 'ヤマダ' → 'ヤマダ'. Half-width kana (with voiced marks) and hiragana become full-width katakana."""
    text = unicodedata.normalize("NFKC", value or "")
    text = jaconv.hira2kata(text)
    return re.sub(r"\s+", " ", text).strip()


def is_katakana(value):
    return bool(_KATAKANA.match(value or ""))


def clean_name(value):
    """Trim and collapse spaces (full-width ones included) in a name or address."""
    text = (value or "").replace("\u3000", " ")
    return re.sub(r"\s+", " ", text).strip()


fold = fold_for_matching  # the one folding rule, shared with the search index
