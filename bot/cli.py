"""The command line: `python -m bot <command>` (also installed as `meedoen`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.app import open_app
from bot.settings import Settings

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Chat in the terminal as a resident."""
    from bot.channels.terminal import chat

    async with open_app(settings) as app:
        await chat(app.conversations, name=args.as_name, language=args.lang)
    return 0


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot on the configured channels until stopped."""
    from bot.runner import run_bot

    async with open_app(settings) as app:
        return await run_bot(app)


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the database schema up to date."""
    async with open_app(settings):
        print("Database is up to date.")
    return 0


async def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Write the demo neighbourhoods (safe to run again)."""
    from bot.demo import seed_demo

    async with open_app(settings) as app, app.database.unit_of_work() as store:
        counts = await seed_demo(store)
    print("Demo data ready: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0


async def cmd_import_postcodes(args: argparse.Namespace, settings: Settings) -> int:
    """Import 4-digit postcode centroids from a GeoNames file (NL.txt format)."""
    from bot.postcodes import read_geonames

    postcodes = read_geonames(Path(args.file).read_text(encoding="utf-8").splitlines())
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        count = await store.save_postcodes(postcodes)
    print(f"Imported {count} postcodes. Data: GeoNames (geonames.org), CC BY 4.0.")
    return 0


async def cmd_flow_diagram(args: argparse.Namespace, settings: Settings) -> int:
    """Print the intake as a Mermaid diagram (docs/flow.md holds it)."""
    from handlers.flow import mermaid

    print(mermaid(), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="meedoen", description="Meedoen, the neighbourhood bot.")
    main.add_argument("--database-url", help="overrides DATABASE_URL")
    main.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = main.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Command) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=handler.__doc__, description=handler.__doc__)
        command.set_defaults(handler=handler)
        return command

    chat = add("chat", cmd_chat)
    chat.add_argument("--as", dest="as_name", default="Anna", help="the resident's name")
    chat.add_argument("--lang", default="nl", choices=("nl", "en"), help="phone language")
    add("run", cmd_run)
    add("migrate", cmd_migrate)
    add("seed-demo", cmd_seed_demo)
    imp = add("import-postcodes", cmd_import_postcodes)
    imp.add_argument("file", help="GeoNames postal code file (tab-separated)")
    add("flow-diagram", cmd_flow_diagram)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = Settings(**overrides)
    level = logging.DEBUG if args.verbose else getattr(logging, settings.log_level.upper(), 20)
    if args.command == "chat" and not args.verbose:
        level = logging.WARNING  # keep the chat readable
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        handler: Command = args.handler
        return asyncio.run(handler(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
