"""Mail kinds and the manual's two families of mail history.

- 手動・手動シナリオ（一通目のみ）・曜日日時: manual, scheduled, and a manual scenario's first mail.
- 自動・自動シナリオ（手動シナリオの2通目以降含む）: automatic, automatic scenarios, and a manual scenario's
  second and later mails.
Scenario mails are written with an ``S`` prefix: ``S12`` is scenario 12 (every step of it).
"""
import re

MANUAL = "manual"
MANUAL_SCENARIO = "manual_scenario"
SCHEDULED = "scheduled"
AUTOMATIC = "automatic"
AUTOMATIC_SCENARIO = "automatic_scenario"
KINDS = (MANUAL, MANUAL_SCENARIO, SCHEDULED, AUTOMATIC, AUTOMATIC_SCENARIO)
SCENARIO_KINDS = (MANUAL_SCENARIO, AUTOMATIC_SCENARIO)
LABELS = {MANUAL: "手動", MANUAL_SCENARIO: "手動シナリオ", SCHEDULED: "曜日日時", AUTOMATIC: "自動",
          AUTOMATIC_SCENARIO: "自動シナリオ"}

MANUAL_FAMILY = "manual"
AUTOMATIC_FAMILY = "automatic"


def family(kind, step=None):
    """Which of the manual's two mail-history families a mail belongs to."""
    if kind == MANUAL_SCENARIO:
        return MANUAL_FAMILY if (step or 1) == 1 else AUTOMATIC_FAMILY
    return MANUAL_FAMILY if kind in (MANUAL, SCHEDULED) else AUTOMATIC_FAMILY


def display_id(kind, mail_number, scenario_number=None, step=None):
    """How operators write a mail: '123', or 'S12-2' for step 2 of scenario 12."""
    if kind in SCENARIO_KINDS and scenario_number is not None:
        return f"S{scenario_number}-{step or 1}"
    return str(mail_number)


_SCENARIO = re.compile(r"^[sSｓＳ]\s*(\d+)(?:\s*-\s*(\d+))?$")


MAX_MAIL_NUMBER = 999_999_999
"""メールID as the mail system numbers mails: at most nine digits."""
MAX_SCENARIO_NUMBER = 999_999
MAX_STEP = 999
"""A scenario has at most 999 steps."""


def parse_mail_reference(text):
    """'S12' → ('scenario', 12, None); 'S12-2' → ('scenario', 12, 2); '123' → ('mail', 123, None); else None."""
    import unicodedata

    text = unicodedata.normalize("NFKC", (text or "").strip())
    match = _SCENARIO.match(text)
    if match:
        scenario, step = int(match.group(1)), int(match.group(2)) if match.group(2) else None
        if scenario <= MAX_SCENARIO_NUMBER and (step or 0) <= MAX_STEP:
            return "scenario", scenario, step
        return None  # no mail can have it
    if text.isdigit() and int(text) <= MAX_MAIL_NUMBER:
        return "mail", int(text), None
    return None
