"""The strict fake Graph API and the settings that point the bot at it, as the WhatsApp tests
build them: every template of the catalog registered at the fake (in Dutch), and WhatsApp
configured with the fake's token, phone number id, app secret, URL and version, unpaced."""

from __future__ import annotations

from typing import Any

from bot.channels.whatsapp.templates import TEMPLATES
from bot.settings import Settings
from tests.channels.fake_whatsapp import FakeWhatsApp


def graph_api(**fields: Any) -> FakeWhatsApp:
    """The fake (`async with` starts it) with every template registered; `fields` are
    `FakeWhatsApp`'s own (`app_secret`, `now`, ...)."""
    registered = {name: {"nl": len(tpl.parameters)} for name, tpl in TEMPLATES.items()}
    return FakeWhatsApp(templates=registered, **fields)


def whatsapp_values(wa: FakeWhatsApp, verify_token: str) -> dict[str, Any]:
    """The WhatsApp settings (by `Settings` field name) that point the bot at `wa`."""
    return {
        "whatsapp_access_token": wa.access_token,
        "whatsapp_phone_number_id": wa.phone_number_id,
        "whatsapp_app_secret": wa.app_secret,
        "whatsapp_verify_token": verify_token,
        "whatsapp_api_base_url": wa.url,
        "whatsapp_api_version": wa.version,
        "whatsapp_send_rate": 0,
        "whatsapp_chat_rate": 0,
    }


def with_whatsapp(
    settings: Settings, wa: FakeWhatsApp, *, verify_token: str, **changes: Any
) -> Settings:
    """`settings` with WhatsApp configured for `wa`, and `changes` besides."""
    return settings.model_copy(update={**whatsapp_values(wa, verify_token), **changes})


def whatsapp_environment(wa: FakeWhatsApp, verify_token: str) -> dict[str, str]:
    """The same settings as a process's environment variables (WHATSAPP_ACCESS_TOKEN, ...)."""
    return {name.upper(): str(value) for name, value in whatsapp_values(wa, verify_token).items()}
