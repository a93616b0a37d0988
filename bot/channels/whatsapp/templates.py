"""The 24-hour rule, and the message templates for outside it (pure).

WhatsApp takes free-form messages (text, buttons, lists) only within 24 hours of the
person's last message to us. Outside that window only a template approved by Meta goes
through; the person's answer to it opens the window again, and then the waiting message
itself can follow.

The project ships its templates: the names below, the texts in the catalogs
(`whatsapp.template.<key>`, Dutch and English) with named placeholders. WhatsApp numbers
them instead: `registration_text` gives the text to register, `{first_name}` becoming
`{{1}}` and so on. The README section "WhatsApp" says how to register them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.i18n import Texts

from .render import Payload

WINDOW = timedelta(hours=24)
# A message waits in the outbox a little before it is sent: keep clear of the window's edge.
WINDOW_MARGIN = timedelta(minutes=10)
MAX_PARAMETER = 1024

_SPACES = re.compile(r"\s+")


def free_form_allowed(
    last_inbound: datetime | None, now: datetime, *, margin: timedelta = WINDOW_MARGIN
) -> bool:
    """Whether a free-form message may go to someone who last wrote at `last_inbound`.

    False for someone who never wrote, and from `margin` before the 24 hours are over.
    Both times must be timezone-aware.
    """
    if last_inbound is None:
        return False
    if last_inbound.tzinfo is None or now.tzinfo is None:
        raise ValueError("the 24-hour rule needs timezone-aware times")
    return now - last_inbound < WINDOW - margin


@dataclass(frozen=True)
class Template:
    """A registered message template: its name at Meta, its catalog key and its parameters,
    in the order WhatsApp numbers them."""

    name: str
    key: str
    parameters: tuple[str, ...]
    category: str = "UTILITY"

    @property
    def catalog_key(self) -> str:
        return f"whatsapp.template.{self.key}"


INTRO_REQUEST = Template("meedoen_intro_request", "intro_request", ("first_name", "initiative"))
REMINDER = Template("meedoen_reminder", "reminder", ("first_name", "initiative"))
FOLLOWUP = Template("meedoen_followup", "followup", ("first_name", "other"))
MESSAGE_WAITING = Template("meedoen_message_waiting", "message_waiting", ("first_name",))

TEMPLATES: Mapping[str, Template] = {
    template.name: template for template in (INTRO_REQUEST, REMINDER, FOLLOWUP, MESSAGE_WAITING)
}
# WhatsApp's language codes for the catalogs' languages.
TEMPLATE_LANGUAGES: Mapping[str, str] = {"nl": "nl", "en": "en"}


def placeholders(text: str) -> tuple[str, ...]:
    """The named placeholders of a catalog text, in order of first appearance."""
    names: list[str] = []
    for _, name, _, _ in string.Formatter().parse(text):
        if name and name not in names:
            names.append(name)
    return tuple(names)


def registration_text(template: Template, texts: Texts, language: str) -> str:
    """The template's body as WhatsApp registers it: `{{1}}`, `{{2}}` for the parameters."""
    numbered = {name: f"{{{{{index}}}}}" for index, name in enumerate(template.parameters, 1)}
    return texts(language, template.catalog_key).format(**numbered)


def preview(template: Template, texts: Texts, language: str, values: Mapping[str, str]) -> str:
    """The template's text as the person will read it."""
    return texts(language, template.catalog_key, **{n: values[n] for n in template.parameters})


def clean_parameter(value: str) -> str:
    """A parameter as WhatsApp takes it: no line breaks or tabs, no runs of spaces, and
    not empty."""
    cleaned = _SPACES.sub(" ", value).strip()
    if not cleaned:
        raise ValueError("a template parameter cannot be empty")
    return cleaned[:MAX_PARAMETER]


def template_message(
    to: str, template: Template, *, language: str, values: Mapping[str, str]
) -> Payload:
    """The Cloud API payload that sends `template` to `to` with `values` for its parameters."""
    missing = [name for name in template.parameters if name not in values]
    extra = sorted(set(values) - set(template.parameters))
    if missing or extra:
        raise ValueError(f"{template.name}: missing {missing}, unknown {extra}")
    parameters = [
        {"type": "text", "text": clean_parameter(values[name])} for name in template.parameters
    ]
    content = {
        "name": template.name,
        "language": {"code": TEMPLATE_LANGUAGES.get(language, TEMPLATE_LANGUAGES["nl"])},
        "components": [{"type": "body", "parameters": parameters}],
    }
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": content,
    }
