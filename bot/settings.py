"""Settings from the environment and `.env`; `.env.example` explains each one."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///data/meedoen.db",
        description="SQLAlchemy URL; SQLite file by default, postgresql://... in production.",
    )
    telegram_bot_token: str = Field(default="", description="Token from @BotFather.")
    telegram_bot_username: str = Field(
        default="", description="The bot's @username, for invite links (t.me/<name>?start=CODE)."
    )
    telegram_api_base_url: str = Field(
        default=DEFAULT_TELEGRAM_API,
        description="Bot API base URL; point it at a local Bot API server or a fake one.",
    )
    telegram_webhook_url: str = Field(
        default="",
        description="Public https URL of this server; set: webhook mode, empty: long polling.",
    )
    telegram_webhook_secret: str = Field(
        default="", description="Checked against X-Telegram-Bot-Api-Secret-Token."
    )
    telegram_send_rate: float = Field(
        default=29.0, description="Messages a second to Telegram overall (0: no limit)."
    )
    telegram_chat_rate: float = Field(
        default=1.0, description="Messages a second to one chat, with a short burst (0: off)."
    )
    whatsapp_access_token: str = Field(
        default="", description="WhatsApp Cloud API access token (a system user's token)."
    )
    whatsapp_phone_number_id: str = Field(
        default="", description="The business phone number's id; set with the token: WhatsApp on."
    )
    whatsapp_app_secret: str = Field(
        default="", description="The Meta app's secret; webhook bodies are signed with it."
    )
    whatsapp_verify_token: str = Field(
        default="", description="Our word for the webhook verification handshake."
    )
    whatsapp_api_base_url: str = Field(
        default=GRAPH_URL, description="Graph API base URL; point it at a fake one in tests."
    )
    whatsapp_api_version: str = Field(default=GRAPH_VERSION, description="Graph API version.")
    whatsapp_send_rate: float = Field(
        default=80.0, description="Messages a second to WhatsApp overall (0: no limit)."
    )
    whatsapp_chat_rate: float = Field(
        default=1.0, description="Messages a second to one person (0: off)."
    )
    default_language: str = Field(default="nl", description="Language for new residents.")
    log_level: str = Field(default="INFO")
    keep_messages_days: int = Field(
        default=90, description="Message logs and relayed texts are deleted after this."
    )
    keep_finished_days: int = Field(
        default=7, description="Finished timers and delivered or abandoned messages."
    )
    keep_introductions_days: int = Field(
        default=365, description="Ended introductions are anonymised after this (counts stay)."
    )

    chat_secure_cookie: bool = Field(
        default=True, description="The web chat's cookie over HTTPS only (false: plain http)."
    )
    dashboard_secret_key: str = Field(
        default="",
        description="Fernet key for the dashboard's session cookies (empty: a new key at "
        "every start, so everyone logs in again after a restart).",
    )
    dashboard_port: int = Field(default=8081, description="Port of `python -m bot dashboard`.")
    dashboard_secure_cookie: bool = Field(
        default=True, description="Send the session cookie over HTTPS only."
    )
    dashboard_idle_minutes: int = Field(
        default=30, description="A dashboard session ends after this many idle minutes."
    )
    dashboard_lockout_failures: int = Field(
        default=5, description="Failed logins (per account, per address) before a lock."
    )
    dashboard_lockout_minutes: int = Field(default=15, description="How long a lock lasts.")
    dashboard_url: str = Field(
        default="",
        description="The dashboard's public address (e.g. https://meedoen.example.org/dashboard)"
        ": links to tickets start with it.",
    )
    moderator_chat_id: str = Field(
        default="",
        description="A Telegram group of the moderators (e.g. -1001234567890): told, with a "
        "link and never the words, when a ticket of the highest priority opens. Empty: off.",
    )

    log_format: str = Field(default="text", description="text, or json for JSON lines.")
    web_host: str = Field(default="127.0.0.1", description="Where the web server listens.")
    web_port: int = Field(default=8080, description="Port of the web server (0: any free).")
    handle_deadline: float = Field(
        default=30.0, description="Seconds one update may take before it is tried again."
    )
    merge_replies: bool = Field(
        default=True,
        description="Send a turn's replies as one message where they fit (Telegram's limits).",
    )
    throttle_per_minute: int = Field(
        default=20, description="Messages a person may send a minute before being slowed."
    )
    db_statement_timeout_ms: int = Field(
        default=15000, description="PostgreSQL statement_timeout for every connection."
    )
    db_lock_timeout_ms: int = Field(
        default=5000, description="PostgreSQL lock_timeout for every connection."
    )
    db_pool_size: int = Field(default=10, description="PostgreSQL connections per worker.")

    @property
    def whatsapp_enabled(self) -> bool:
        """WhatsApp runs when its token and phone number id are set."""
        return bool(self.whatsapp_access_token and self.whatsapp_phone_number_id)

    def secrets(self) -> tuple[str, ...]:
        """Values no log line may show: the bot token, the webhook secret, the database
        password, the dashboard's cookie key and WhatsApp's token, app secret and verify
        token."""
        password = urlsplit(self.database_url).password or ""
        values = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            password,
            unquote(password),
            self.dashboard_secret_key,
            self.whatsapp_access_token,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
        )
        return tuple(s for s in values if s)
