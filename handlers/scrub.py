"""What the message log never keeps: phone numbers, e-mail addresses, invite and link codes.

The log is for following a conversation, not a place for contact details or secrets: a
number or an invite code typed by a person is replaced by a placeholder before it is
written. Pure functions, no I/O.
"""

from __future__ import annotations

import re

# A Dutch or international phone number as people type it: "06 12345678", "+31 6-1234 5678",
# "0031612345678", "(0546) 123456". Eight or more digits with spaces, dashes, dots or
# brackets between them.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[\s\-.()]{0,2}\d){7,14}(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# "organisator K7MX2PQA", "/start K7MX2PQA": a whole message that redeems an invite code
# (the same form `handlers.organiser.read_invite` reads).
_INVITE = re.compile(
    r"(?i)^(\s*/?(?:start|organisator|organiser|organizer|code)\s+)[A-Za-z0-9]{6,12}(\s*)$"
)

# A six-digit link code ("123 456", handlers.linking), standing on its own.
_LINK_CODE = re.compile(r"(?<![\w+])\d{3}[\s.-]?\d{3}(?![\w])")

PHONE_MARK = "[telefoonnummer]"
EMAIL_MARK = "[e-mail]"
CODE_MARK = "[code]"


def scrub(text: str) -> str:
    """The text with phone numbers, e-mail addresses, invite and link codes replaced."""
    text = _INVITE.sub(lambda m: m.group(1) + CODE_MARK + m.group(2), text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _PHONE.sub(PHONE_MARK, text)
    return _LINK_CODE.sub(CODE_MARK, text)
