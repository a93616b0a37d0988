"""The person's own data: showing everything stored, and erasing it on request."""

from __future__ import annotations

from handlers.flow import INTAKE_FLOW
from handlers.intake import summary_text
from handlers.messages import Option
from handlers.turn import Turn

FORGET_STEP = "confirm_forget"


async def my_data_text(turn: Turn) -> str:
    """Everything stored about the person, in plain words."""
    export = await turn.store.export_person(turn.person.id)
    if export is None:
        return turn.t("data.nothing")
    lines = [turn.t("data.title"), "", summary_text(turn, INTAKE_FLOW), ""]
    lines.append(turn.t("data.language", value=turn.t(f"language.{export.person.language}")))
    for identity in export.identities:
        lines.append(turn.t("data.channel", channel=identity.channel.capitalize()))
    for consent in export.consents:
        lines.append(
            turn.t(
                "data.consent",
                date=consent.given_at.strftime("%d-%m-%Y %H:%M"),
                version=consent.text_version,
            )
        )
    lines.append(turn.t("data.messages", count=export.message_count))
    if export.person.latitude is not None:
        lines.append(turn.t("data.location"))
    lines += ["", turn.t("data.rights")]
    return "\n".join(lines)


def forget_options(turn: Turn) -> tuple[Option, ...]:
    return (
        turn.option("forget:yes", turn.t("button.forget_yes")),
        turn.option("forget:no", turn.t("button.forget_no")),
    )


def ask_forget(turn: Turn) -> None:
    turn.say(turn.t("forget.confirm"), forget_options(turn))


async def erase(turn: Turn) -> None:
    """Erase everything; from here on nothing of this person is written."""
    await turn.store.erase_person(turn.person.id)
    turn.erased = True
    turn.say(turn.t("forget.done"))
