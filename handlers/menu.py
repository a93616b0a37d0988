"""What a person can do once the intake is confirmed: the everyday menu."""

from __future__ import annotations

from handlers.messages import Option
from handlers.turn import Turn

MENU_ITEMS = ("ideas", "change", "data", "help")
ORGANISER_ITEMS = ("requests", "data", "help")


def menu_options(turn: Turn) -> tuple[Option, ...]:
    items = ORGANISER_ITEMS if turn.person.role == "organiser" else MENU_ITEMS
    return tuple(turn.option(f"menu:{item}", turn.t(f"menu.{item}")) for item in items)


def show_menu(turn: Turn, *, intro: str | None = None) -> None:
    text = turn.t("menu.question")
    turn.say(f"{intro}\n\n{text}" if intro else text, menu_options(turn))
