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
from bot.logs import configure_logging
from bot.settings import Settings

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Chat in the terminal as a resident. With --web the web chat runs beside it."""
    from bot.channels.terminal import chat
    from bot.runner import serve_web_chat

    if args.web:  # plain http on this machine: the cookie cannot be https-only
        settings = settings.model_copy(update={"chat_secure_cookie": False})
    async with open_app(settings) as app, serve_web_chat(app, enabled=args.web) as address:
        if address:
            print(f"🌐 Ook in je browser / also in your browser: {address}\n")
        await chat(
            app.conversations,
            name=args.as_name,
            language=args.lang,
            unit_of_work=app.database.unit_of_work,
        )
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

    content = await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8")
    postcodes = read_geonames(content.splitlines())
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        count = await store.save_postcodes(postcodes)
    print(f"Imported {count} postcodes. Data: GeoNames (geonames.org), CC BY 4.0.")
    return 0


async def cmd_compact_postcodes(args: argparse.Namespace, settings: Settings) -> int:
    """Print the compact postcode table that ships in handlers/data/postcodes.tsv."""
    from bot.postcodes import compact_table, read_geonames

    content = await asyncio.to_thread(Path(args.file).read_text, encoding="utf-8")
    print(compact_table(read_geonames(content.splitlines())), end="")
    return 0


async def cmd_flow_diagram(args: argparse.Namespace, settings: Settings) -> int:
    """Print the flows and an introduction's life as Mermaid diagrams (docs/flow.md)."""
    from handlers import flow, introduction_states

    print(flow.mermaid(), end="")
    print()
    print(introduction_states.mermaid(), end="")
    return 0


# -- moderation ------------------------------------------------------------------------


def _slug_problem(slug: str) -> str | None:
    """Why a slug cannot be used, or None when it can."""
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", slug):
        return (
            f"Not a valid slug / Geen geldige korte naam: {slug!r}. "
            "Use 1-32 lowercase letters, digits and hyphens, e.g. buurtteam-almelo."
        )
    return None


async def cmd_invite_organiser(args: argparse.Namespace, settings: Settings) -> int:
    """Make a single-use invite code that turns a resident into an organiser."""
    problem = _slug_problem(args.org)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        organisation = await store.get_organisation(args.org)
        created = organisation is None
        if organisation is None:
            organisation = await store.create_organisation(args.org, args.name or args.org)
        code = await store.create_invite(organisation.id)
    bot_name = args.bot or settings.telegram_bot_username or "<bot>"
    if created:
        print(f"New organisation / Nieuwe organisatie: {organisation.name} ({organisation.slug})")
    print(f"Invite code / Uitnodigingscode: {code}")
    print(f"For / Voor: {organisation.name} ({organisation.slug}); single use / eenmalig.")
    print(f'In the chat, send / Stuur in de chat: "organisator {code}"')
    print(f"On Telegram, open / Open op Telegram: https://t.me/{bot_name.lstrip('@')}?start={code}")
    return 0


async def cmd_list_initiatives(args: argparse.Namespace, settings: Settings) -> int:
    """List initiatives: id, status, title, place and number of organisers."""
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        initiatives = await store.list_initiatives(status=args.status)
        organisers = [len(await store.list_organiser_ids(i.id)) for i in initiatives]
    if not initiatives:
        print("No initiatives. / Geen initiatieven.")
        return 0
    for initiative, count in zip(initiatives, organisers, strict=True):
        place = " ".join(p for p in (initiative.postcode, initiative.place_name) if p) or "-"
        noun = "organiser" if count == 1 else "organisers"
        print(
            f"{initiative.id:>4}  {initiative.status:<8}  {initiative.title}  |  {place}"
            f"  |  {count} {noun}"
        )
    return 0


async def _move_initiative(
    settings: Settings, initiative_id: int, status: str, allowed_from: tuple[str, ...]
) -> int:
    """Set an initiative's status when its current status allows it; print the result."""
    from datetime import UTC, datetime

    async with open_app(settings) as app, app.database.unit_of_work() as store:
        initiative = await store.get_initiative(initiative_id)
        if initiative is None:
            print(
                f"No initiative with id {initiative_id}. / Geen initiatief met nummer "
                f"{initiative_id}.",
                file=sys.stderr,
            )
            return 1
        if initiative.status == status:
            print(f"#{initiative.id} {initiative.title}: already / al {status}.")
            return 0
        if initiative.status not in allowed_from:
            print(
                f"#{initiative.id} {initiative.title} is {initiative.status}; "
                f"cannot become {status}. / Kan niet naar {status}.",
                file=sys.stderr,
            )
            return 1
        before = initiative.status
        initiative = await store.set_initiative_status(initiative_id, status, now=datetime.now(UTC))
    print(f"#{initiative.id} {initiative.title}: {before} -> {initiative.status}")
    return 0


async def cmd_approve_initiative(args: argparse.Namespace, settings: Settings) -> int:
    """Approve a pending or paused initiative, so that residents can be introduced to it."""
    return await _move_initiative(settings, args.id, "approved", ("pending", "paused"))


async def cmd_archive_initiative(args: argparse.Namespace, settings: Settings) -> int:
    """Archive an initiative: it is no longer suggested to anyone."""
    return await _move_initiative(settings, args.id, "archived", ("pending", "approved", "paused"))


async def cmd_create_moderator(args: argparse.Namespace, settings: Settings) -> int:
    """Make a dashboard account and print its one-time password (changed at first login)."""
    from bot.web.dashboard.security import hash_password, new_one_time_password

    problem = _slug_problem(args.org)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    email = args.email.strip().lower()
    if "@" not in email or len(email) > 254:
        print(f"Not an email address / Geen e-mailadres: {args.email!r}", file=sys.stderr)
        return 2
    password = new_one_time_password()
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        organisation = await store.get_organisation(args.org)
        if organisation is None:
            print(
                f"No organisation {args.org!r} / Onbekende organisatie. "
                "Create it with / Maak haar met: invite-organiser --org SLUG --name NAME",
                file=sys.stderr,
            )
            return 1
        if await store.find_moderator_by_email(email) is not None:
            print(f"{email} already has an account / heeft al een account.", file=sys.stderr)
            return 1
        await store.create_moderator(
            email=email,
            name=args.name or email.split("@")[0],
            organisation_id=organisation.id,
            role="admin" if args.admin else "moderator",
            password_hash=hash_password(password),
            now=app.clock(),
        )
    role = "admin" if args.admin else "moderator"
    print(f"Account / Account: {email} ({role}, {organisation.name})")
    print(f"One-time password / Eenmalig wachtwoord: {password}")
    print("Change it at first login / Verander het bij de eerste keer inloggen.")
    return 0


async def cmd_add_area(args: argparse.Namespace, settings: Settings) -> int:
    """Give an organisation a neighbourhood (4-digit postcode): its residents are theirs."""
    codes = [code for code in args.postcodes if code.isdigit() and len(code) == 4]
    if len(codes) != len(args.postcodes):
        print("Use 4-digit postcodes / Gebruik postcodes van 4 cijfers.", file=sys.stderr)
        return 2
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        organisation = await store.get_organisation(args.org)
        if organisation is None:
            print(f"No organisation {args.org!r} / Onbekende organisatie.", file=sys.stderr)
            return 1
        for code in codes:
            await store.add_organisation_area(organisation.id, code)
        areas = await store.list_organisation_areas(organisation.id)
    print(f"{organisation.name}: {', '.join(areas)}")
    return 0


async def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the moderators' dashboard alone on 127.0.0.1 (until the web server has it)."""
    from aiohttp import web

    from bot.web.dashboard import dashboard_app

    port = args.port or settings.dashboard_port
    async with open_app(settings) as app:
        dashboard = dashboard_app(
            database=app.database, texts=app.texts, settings=settings, clock=app.clock
        )
        runner = web.AppRunner(dashboard)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        print(f"Dashboard: http://127.0.0.1:{port}/login (Ctrl+C stops it)")
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    return 0


async def cmd_bench_matching(args: argparse.Namespace, settings: Settings) -> int:
    """Time suggestions on synthetic residents and initiatives, against a naive full scan.

    Works in a fresh SQLite file data/bench.db unless --database-url is given (DATABASE_URL
    is never used); refuses a database that holds people unless --reset.
    """
    from bot.bench import BenchOptions, BenchRefused, run_matching_bench

    options = BenchOptions(
        residents=args.residents,
        initiatives=args.initiatives,
        requests=args.requests,
        naive_requests=args.naive_requests,
        seed=args.seed,
        database_url=args.bench_database_url or args.database_url,
        postcodes_file=Path(args.postcodes) if args.postcodes else None,
        reset=args.reset,
        keep=args.keep,
    )
    try:
        await run_matching_bench(options)
    except BenchRefused as refused:
        print(f"bench: {refused}", file=sys.stderr)
        return 2
    return 0


async def cmd_bench_delivery(args: argparse.Namespace, settings: Settings) -> int:
    """Send queued messages to a loopback Bot API that answers 429 above Telegram's limits."""
    from bot.bench_delivery import run_delivery

    url = args.bench_database_url or args.database_url
    print(await run_delivery(settings, messages=args.messages, chats=args.chats, url=url))
    return 0


async def cmd_bench_memory(args: argparse.Namespace, settings: Settings) -> int:
    """Resident set size after 0, 1,000 and --people people took a few steps."""
    from bot.bench_delivery import run_memory

    url = args.bench_database_url or args.database_url
    print(await run_memory(settings, people=args.people, url=url, profile=args.profile))
    return 0


async def cmd_bench_throughput(args: argparse.Namespace, settings: Settings) -> int:
    """The full bot and a bare python-telegram-bot echo bot against one loopback Bot API."""
    from bot.bench_throughput import run_throughput

    url = args.bench_database_url or args.database_url
    print(await run_throughput(settings, residents=args.residents, url=url, workers=args.workers))
    return 0


async def cmd_list_failed(args: argparse.Namespace, settings: Settings) -> int:
    """Messages given up on and jobs that keep failing: what a moderator should look at."""
    async with open_app(settings) as app, app.database.unit_of_work() as store:
        failed = await store.list_failed_outbox()
        jobs = await store.list_failing_jobs()
    for message, error in failed:
        print(f"message {message.id} to {message.channel}:{message.external_id}: {error}")
    for job in jobs:
        print(f"job {job.id} ({job.kind}) due {job.due_at:%Y-%m-%d %H:%M}: {job.payload}")
    if not failed and not jobs:
        print("nothing failed")
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
    chat.add_argument(
        "--web", action="store_true", help="also serve the web chat (WEB_HOST:WEB_PORT/chat/)"
    )
    add("run", cmd_run)
    add("migrate", cmd_migrate)
    add("seed-demo", cmd_seed_demo)
    imp = add("import-postcodes", cmd_import_postcodes)
    imp.add_argument("file", help="GeoNames postal code file (tab-separated)")
    compact = add("compact-postcodes", cmd_compact_postcodes)
    compact.add_argument("file", help="GeoNames postal code file (tab-separated)")
    add("flow-diagram", cmd_flow_diagram)
    invite = add("invite-organiser", cmd_invite_organiser)
    invite.add_argument("--org", required=True, help="organisation slug, e.g. buurtteam-almelo")
    invite.add_argument("--name", help="organisation name when it is new (default: the slug)")
    invite.add_argument("--bot", help="Telegram bot username for the start link")
    listing = add("list-initiatives", cmd_list_initiatives)
    listing.add_argument("--status", choices=("pending", "approved", "paused", "archived"))
    approve = add("approve-initiative", cmd_approve_initiative)
    approve.add_argument("id", type=int, help="initiative id (see list-initiatives)")
    archive = add("archive-initiative", cmd_archive_initiative)
    archive.add_argument("id", type=int, help="initiative id (see list-initiatives)")
    add("list-failed", cmd_list_failed)
    moderator = add("create-moderator", cmd_create_moderator)
    moderator.add_argument("email", help="the moderator's email address (their login)")
    moderator.add_argument("--org", required=True, help="organisation slug")
    moderator.add_argument("--name", help="the name residents see (default: from the email)")
    moderator.add_argument("--admin", action="store_true", help="sees every organisation")
    area = add("add-area", cmd_add_area)
    area.add_argument("--org", required=True, help="organisation slug")
    area.add_argument("postcodes", nargs="+", help="4-digit postcodes, e.g. 7607 7608")
    dashboard = add("dashboard", cmd_dashboard)
    dashboard.add_argument("--port", type=int, help="default: DASHBOARD_PORT (8081)")

    bench = sub.add_parser("bench", help="measure performance", description="Benchmarks.")
    benches = bench.add_subparsers(dest="bench", required=True)
    matching = benches.add_parser(
        "matching",
        help="time suggestions on synthetic data",
        description=cmd_bench_matching.__doc__,
    )
    matching.set_defaults(handler=cmd_bench_matching)
    matching.add_argument("--residents", type=int, default=100_000, help="default 100000")
    matching.add_argument("--initiatives", type=int, default=10_000, help="default 10000")
    matching.add_argument(
        "--requests", type=int, default=1_000, help="timed suggestion requests (default 1000)"
    )
    matching.add_argument(
        "--naive-requests", type=int, default=50, help="requests for the naive scan (default 50)"
    )
    matching.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    matching.add_argument(
        "--database-url",
        dest="bench_database_url",
        help="database to use (default: a fresh SQLite file data/bench.db)",
    )
    matching.add_argument("--postcodes", help="GeoNames postal code file, if the table is empty")
    matching.add_argument(
        "--reset", action="store_true", help="empty a database that holds data first"
    )
    matching.add_argument("--keep", action="store_true", help="leave the benchmark data behind")

    def bench_command(name: str, handler: Command) -> argparse.ArgumentParser:
        command = benches.add_parser(name, help=handler.__doc__, description=handler.__doc__)
        command.set_defaults(handler=handler)
        command.add_argument(
            "--database-url",
            dest="bench_database_url",
            help="an empty database to use (default: a fresh SQLite file under data/)",
        )
        return command

    delivery = bench_command("delivery", cmd_bench_delivery)
    delivery.add_argument("--messages", type=int, default=10_000, help="default 10000")
    delivery.add_argument("--chats", type=int, default=2_000, help="default 2000")
    memory = bench_command("memory", cmd_bench_memory)
    memory.add_argument("--people", type=int, default=10_000, help="default 10000")
    memory.add_argument("--profile", action="store_true", help="print a CPU profile")
    throughput = bench_command("throughput", cmd_bench_throughput)
    throughput.add_argument("--residents", type=int, default=200, help="default 200")
    throughput.add_argument("--workers", type=int, default=1, help="worker processes")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    overrides = {"database_url": args.database_url} if args.database_url else {}
    settings = Settings(**overrides)
    level = logging.DEBUG if args.verbose else getattr(logging, settings.log_level.upper(), 20)
    if args.command in ("chat", "bench") and not args.verbose:
        level = logging.WARNING  # keep the chat and the figures readable
    configure_logging(level, settings.log_format, verbose=args.verbose)
    try:
        handler: Command = args.handler
        return asyncio.run(handler(args, settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
