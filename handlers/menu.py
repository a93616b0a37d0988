"""What a person can do once the intake is confirmed: the everyday menu."""

from __future__ import annotations

from handlers.messages import Option
from handlers.turn import Turn

MENU_ITEMS: tuple[str, ...] = ("ideas", "change", "data", "help")
ORGANISER_ITEMS: tuple[str, ...] = ("requests", "new", "mine", "data", "help")


def menu_options(turn: Turn) -> tuple[Option, ...]:
    items = MENU_ITEMS
    if turn.person.role == "organiser":
        items = ORGANISER_ITEMS
        if turn.person.intake_done_at is not None:  # an organiser can be a resident too
            items = (*ORGANISER_ITEMS[:3], "ideas", *ORGANISER_ITEMS[3:])
    if isinstance(turn.state.context.get("relay"), int):  # back to a conversation via the bot
        items = ("relay", *items)
    more = bool(turn.state.context.get("shown"))  # suggestions were just shown: "more"

    def label(item: str) -> str:
        return turn.t("menu.more_ideas") if item == "ideas" and more else turn.t(f"menu.{item}")

    return tuple(turn.option(f"menu:{item}", label(item)) for item in items)


def show_menu(turn: Turn, *, intro: str | None = None) -> None:
    text = turn.t("menu.question")
    turn.say(f"{intro}\n\n{text}" if intro else text, menu_options(turn))
