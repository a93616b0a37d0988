"""Demo data: two neighbourhoods, Almelo and Strijen (Hoeksche Waard).

The postcode centroids below come from GeoNames (geonames.org, CC BY 4.0): just the few the
demo needs. A deployment imports the full file with `python -m bot import-postcodes`.

Besides the places, the demo has two organisations, twelve approved initiatives with their
organisers, and thirty residents who finished their intake. Everyone can be tried in the
terminal: `python -m bot chat --as Henk` talks as the organiser Henk, `--as Gerda` as a
resident (the terminal identity is the lowercased first name).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.flow import CONSENT_VERSION
from storage.records import Area, ConversationState, Person, Postcode
from storage.store import Store
from storage.verbs import utcnow

DEMO_POSTCODES = (
    Postcode("7601", "Almelo", "Almelo", 52.3455, 6.6715),
    Postcode("7602", "Almelo", "Almelo", 52.3694, 6.656),
    Postcode("7603", "Almelo", "Almelo", 52.369, 6.6853),
    Postcode("7604", "Almelo", "Almelo", 52.3586, 6.6407),
    Postcode("7605", "Almelo", "Almelo", 52.3497, 6.6535),
    Postcode("7606", "Almelo", "Almelo", 52.3446, 6.6516),
    Postcode("7607", "Almelo", "Almelo", 52.3549, 6.6676),
    Postcode("7608", "Almelo", "Almelo", 52.3784, 6.6802),
    Postcode("7609", "Almelo", "Almelo", 52.3341, 6.6413),
    Postcode("3291", "Strijen", "Hoeksche Waard", 51.7445, 4.5511),
    Postcode("3292", "Strijensas", "Hoeksche Waard", 51.7168, 4.5841),
    Postcode("3293", "Mookhoek", "Hoeksche Waard", 51.7529, 4.5989),
    Postcode("3295", "'s-Gravendeel", "Hoeksche Waard", 51.7772, 4.6139),
    Postcode("3297", "Maasdam", "Hoeksche Waard", 51.792, 4.5577),
)

DEMO_AREAS = (
    Area("almelo-centrum", "Almelo centrum", "7607", 52.3549, 6.6676),
    Area("almelo-noord", "Almelo noord", "7608", 52.3784, 6.6802),
    Area("almelo-zuid", "Almelo zuid", "7609", 52.3341, 6.6413),
    Area("strijen", "Strijen", "3291", 51.7445, 4.5511),
)

# -- organisations, initiatives and people -----------------------------------------------

DEMO_CHANNEL = "terminal"
DEMO_ORGANISATION = "buurtteam-demo"  # exists once the people and initiatives are seeded
DEMO_ORGANISATIONS = (
    (DEMO_ORGANISATION, "Buurtteam Almelo"),
    ("dorpsteam-demo", "Dorpsteam Strijen"),
)


@dataclass(frozen=True)
class DemoPerson:
    """Someone who finished the intake; `python -m bot chat --as NAME` talks as them."""

    name: str
    postcode: str
    gifts: tuple[str, ...]
    wishes: tuple[str, ...]
    times: tuple[str, ...]
    max_distance_m: int
    group_pref: str
    free_only: bool
    language: str = "nl"

    @property
    def external_id(self) -> str:
        """The terminal identity, as `bot.channels.terminal` derives it from the name."""
        return self.name.lower()


@dataclass(frozen=True)
class DemoInitiative:
    """`offers` are wishes the initiative fulfils; `needs` are gifts it would welcome."""

    organisation: str
    organisers: tuple[str, ...]
    title: str
    description: str
    postcode: str
    place_name: str
    offers: tuple[str, ...]
    needs: tuple[str, ...]
    times: tuple[str, ...]
    free: bool
    wheelchair: bool
    capacity: int


def _people(table: str) -> tuple[DemoPerson, ...]:
    """Read a table of people, one per line:

    name | postcode | gifts | wishes | times | max distance (m) | group | free/paid [| language]
    """
    people = []
    for line in table.strip().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        name, postcode, gifts, wishes, times, distance, group, money, *language = cells
        people.append(
            DemoPerson(
                name=name,
                postcode=postcode,
                gifts=tuple(gifts.split()),
                wishes=tuple(wishes.split()),
                times=tuple(times.split()),
                max_distance_m=int(distance),
                group_pref=group,
                free_only=money == "free",
                language=language[0] if language else "nl",
            )
        )
    return tuple(people)


DEMO_ORGANISERS = _people(
    """
    Henk   | 7605 | gardening diy            | company   | morning           | 2000 | group | paid
    Gerrit | 7607 | diy bike_repair          | history   | weekend           | 5000 | group | paid
    Truus  | 7606 | crafts baking            | walking   | morning afternoon | 2000 | both  | free
    Fatma  | 7602 | dutch languages cooking  | sewing    | evening           | 2000 | group | free
    Wim    | 7603 | computers paperwork      | music     | afternoon         | 5000 | both  | paid
    Ahmed  | 7608 | cooking organising       | dutch     | evening weekend   | 2000 | group | paid
    Kees   | 3291 | walking diy organising   | cycling   | morning weekend   | 5000 | group | paid
    Jan    | 3293 | diy driving              | games     | any               | 5000 | both  | paid
    Joke   | 3295 | reading children         | gardening | afternoon         | 2000 | group | free
    Marja  | 3292 | cycling company          | crafts    | morning afternoon | 5000 | one   | paid
    Bep    | 3297 | music organising         | outings   | evening           | 5000 | group | paid
    """
)

DEMO_RESIDENTS = _people(
    """
    Gerda   | 7601 | baking company       | walking neighbours    | morning           | 800  | group | free
    Hennie  | 7605 | gardening animals    | company outings       | morning afternoon | 2000 | both  | free
    Bennie  | 7607 | diy bike_repair      | eat_together          | weekend           | 2000 | group | paid
    Herman  | 7602 | history reading      | computers company     | afternoon         | 800  | one   | free
    Dinie   | 7606 | crafts sewing        | company games         | morning afternoon | 800  | group | free
    Mientje | 7609 | cooking visiting     | eat_together company  | any               | 2000 | group | free
    Gradus  | 7603 | driving diy          | music company         | evening           | 5000 | group | paid
    Mehmet  | 7608 | cooking driving      | dutch walking         | evening weekend   | 2000 | both  | free
    Emine   | 7604 | sewing cooking       | dutch crafts          | morning           | 800  | group | free
    Hatice  | 7605 | languages children   | gardening company     | afternoon         | 2000 | both  | free
    Yusuf   | 7601 | computers sports     | volunteer neighbours  | evening weekend   | 5000 | group | paid
    Fatima  | 7606 | baking languages     | paperwork dutch       | morning           | 800  | one   | free
    Yonas   | 7602 | bike_repair sports   | dutch newcomers       | afternoon evening | 5000 | both  | free | en
    Rahel   | 7603 | cooking children     | dutch eat_together    | morning afternoon | 2000 | group | free
    Sandra  | 7607 | organising paperwork | dancing outings       | evening           | 5000 | group | paid
    Olena   | 7608 | music languages      | dutch neighbours      | any               | 2000 | both  | free | en
    Tonnie  | 7609 | animals walking      | computers visiting    | morning           | 800  | one   | free
    Cor     | 3291 | diy driving          | walking history       | morning           | 2000 | group | paid
    Aad     | 3291 | gardening history    | company computers     | morning afternoon | 800  | one   | free
    Leen    | 3293 | cycling bike_repair  | outings company       | morning           | 5000 | both  | paid
    Nel     | 3291 | crafts baking        | reading company       | afternoon         | 800  | group | free
    Ria     | 3295 | reading visiting     | music neighbours      | evening           | 2000 | group | free
    Adrie   | 3297 | music games          | walking eat_together  | afternoon weekend | 5000 | group | paid
    Teun    | 3292 | diy animals          | cycling company       | morning           | 2000 | one   | free
    Corrie  | 3291 | cooking household    | computers outings     | morning afternoon | 800  | both  | free
    Arie    | 3295 | driving gardening    | games company         | any               | 5000 | group | paid
    Janny   | 3297 | sewing company       | music walking         | evening           | 2000 | group | free
    Piet    | 3293 | history walking      | paperwork visiting    | afternoon         | 800  | one   | free
    Mustafa | 3291 | cooking diy          | dutch neighbours      | evening weekend   | 5000 | both  | paid
    Nadia   | 3295 | children languages   | dutch sports          | morning           | 2000 | group | free
    """  # noqa: E501 (a table reads best on one line per person)
)

DEMO_INITIATIVES = (
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Henk",),
        title="Moestuin De Groene Hoek",
        description="Samen groente kweken in hoge bakken; de oogst delen we.",
        postcode="7605",
        place_name="Volkstuin De Groene Hoek, Almelo",
        offers=("gardening", "company", "outings"),
        needs=("gardening", "diy"),
        times=("morning", "weekend"),
        free=True,
        wheelchair=True,
        capacity=10,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Gerrit",),
        title="Repair Café Almelo",
        description="Breng je kapotte lamp, fiets of broek mee; we maken het samen.",
        postcode="7607",
        place_name="Buurthuis De Kern, Almelo",
        offers=("diy", "bike_repair", "sewing"),
        needs=("diy", "bike_repair", "sewing"),
        times=("weekend",),
        free=True,
        wheelchair=True,
        capacity=12,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Truus",),
        title="Koffieochtend in de buurtkamer",
        description="Elke dinsdag koffie, een koekje en een praatje. Iedereen is welkom.",
        postcode="7606",
        place_name="Buurtkamer De Riet, Almelo",
        offers=("company", "neighbours", "games"),
        needs=("baking", "company"),
        times=("morning",),
        free=True,
        wheelchair=True,
        capacity=20,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Fatma",),
        title="Taalcafé Almelo",
        description="Nederlands oefenen bij een kop koffie, in een rustig tempo.",
        postcode="7602",
        place_name="Bibliotheek, Almelo",
        offers=("dutch", "newcomers", "company"),
        needs=("dutch", "languages"),
        times=("evening",),
        free=True,
        wheelchair=True,
        capacity=10,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Wim",),
        title="Digicafé: hulp met telefoon en computer",
        description="Vragen over je telefoon, DigiD of e-mail? Neem je apparaat mee.",
        postcode="7603",
        place_name="Wijkcentrum Noord-Oost, Almelo",
        offers=("computers", "paperwork"),
        needs=("computers",),
        times=("afternoon",),
        free=True,
        wheelchair=True,
        capacity=6,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Truus",),
        title="Breiclub De Warme Draad",
        description="Breien en haken, voor jezelf of voor de voedselbank. € 2 voor wol en koffie.",
        postcode="7604",
        place_name="Buurthuis Schelfhorst, Almelo",
        offers=("crafts", "sewing", "company"),
        needs=("crafts", "sewing"),
        times=("afternoon",),
        free=False,
        wheelchair=False,
        capacity=8,
    ),
    DemoInitiative(
        organisation="buurtteam-demo",
        organisers=("Ahmed", "Henk"),
        title="Eettafel Noord: samen koken en eten",
        description="Elke donderdag samen koken en aan één tafel eten. € 4 per maaltijd.",
        postcode="7608",
        place_name="Buurthuis Noord, Almelo",
        offers=("eat_together", "cooking", "company"),
        needs=("cooking", "shopping"),
        times=("evening",),
        free=False,
        wheelchair=True,
        capacity=14,
    ),
    DemoInitiative(
        organisation="dorpsteam-demo",
        organisers=("Kees",),
        title="Wandelgroep Strijen",
        description="Elke woensdag een rustige wandeling van een uur door de polder.",
        postcode="3291",
        place_name="Bij de kerk, Strijen",
        offers=("walking", "company", "outings"),
        needs=("walking",),
        times=("morning",),
        free=True,
        wheelchair=False,
        capacity=15,
    ),
    DemoInitiative(
        organisation="dorpsteam-demo",
        organisers=("Kees", "Jan"),
        title="Klussenteam Strijen",
        description="Kleine klusjes in huis voor wie het zelf niet meer kan.",
        postcode="3291",
        place_name="Dorpshuis, Strijen",
        offers=("diy", "household"),
        needs=("diy", "driving"),
        times=("morning", "weekend"),
        free=True,
        wheelchair=False,
        capacity=6,
    ),
    DemoInitiative(
        organisation="dorpsteam-demo",
        organisers=("Joke",),
        title="Voorleesgroep in de bibliotheek",
        description="Voorlezen aan kinderen, en aan ouderen die slecht zien.",
        postcode="3295",
        place_name="Bibliotheek, 's-Gravendeel",
        offers=("reading", "children"),
        needs=("reading",),
        times=("afternoon",),
        free=True,
        wheelchair=True,
        capacity=8,
    ),
    DemoInitiative(
        organisation="dorpsteam-demo",
        organisers=("Marja",),
        title="Fietsmaatjes Hoeksche Waard",
        description="Samen op de duofiets een rondje door de Hoeksche Waard.",
        postcode="3292",
        place_name="Dorpshuis, Strijensas",
        offers=("cycling", "outings", "company"),
        needs=("cycling",),
        times=("morning", "afternoon"),
        free=True,
        wheelchair=False,
        capacity=4,
    ),
    DemoInitiative(
        organisation="dorpsteam-demo",
        organisers=("Bep",),
        title="Zangkoor De Dorpsstemmen",
        description="Oude en nieuwe liedjes zingen; noten lezen hoeft niet. € 5 per maand.",
        postcode="3297",
        place_name="Dorpskerk, Maasdam",
        offers=("music", "company"),
        needs=("music", "organising"),
        times=("evening",),
        free=False,
        wheelchair=True,
        capacity=25,
    ),
)


def _near(key: str, postcode: str, *, decimals: int) -> tuple[float, float]:
    """A fixed spot a few hundred metres from the postcode's centroid (the same every run)."""
    centre = next(p for p in DEMO_POSTCODES if p.code == postcode)
    digest = hashlib.blake2b(key.encode(), digest_size=2).digest()
    north, east = (digest[0] - 128) / 128, (digest[1] - 128) / 128  # both in [-1, 1)
    return (
        round(centre.latitude + 0.003 * north, decimals),
        round(centre.longitude + 0.0045 * east, decimals),
    )


def _place(postcode: str) -> str:
    return next(p.place for p in DEMO_POSTCODES if p.code == postcode)


async def _add_person(store: Store, demo: DemoPerson, done_at: datetime) -> Person:
    """A person as the intake leaves them: consent, profile and a finished conversation.

    Someone who already chats under this name in the terminal is left as they are.
    """
    existing = await store.find_person_by_identity(DEMO_CHANNEL, demo.external_id)
    if existing is not None:
        return existing
    person = await store.create_person_with_consent(
        channel=DEMO_CHANNEL,
        external_id=demo.external_id,
        username=None,
        language=demo.language,
        consent_version=CONSENT_VERSION,
    )
    latitude, longitude = _near(demo.name, demo.postcode, decimals=3)  # about 100 m
    person = await store.update_person(
        person.id,
        {
            "first_name": demo.name,
            "postcode": demo.postcode,
            "area_name": _place(demo.postcode),
            "latitude": latitude,
            "longitude": longitude,
            "gifts": demo.gifts,
            "wishes": demo.wishes,
            "times": demo.times,
            "max_distance_m": demo.max_distance_m,
            "group_pref": demo.group_pref,
            "free_only": demo.free_only,
            "intake_done_at": done_at,
        },
    )
    await store.save_conversation(ConversationState(person.id, "intake", "done", 1))
    return person


async def _seed_community(store: Store) -> None:
    """Organisations, organisers, initiatives and residents (once)."""
    now = utcnow()
    organisations = {}
    for slug, name in DEMO_ORGANISATIONS:
        found = await store.get_organisation(slug)
        organisations[slug] = found or await store.create_organisation(slug, name)

    organisation_of = {
        name: initiative.organisation
        for initiative in DEMO_INITIATIVES
        for name in initiative.organisers
    }
    organiser_ids = {}
    for days, demo in enumerate(DEMO_ORGANISERS):
        person = await _add_person(store, demo, now - timedelta(days=60 - days))
        organisation = organisations[organisation_of[demo.name]]
        code = await store.create_invite(organisation.id)  # how a real organiser joins
        await store.redeem_invite(code, person.id, now)
        organiser_ids[demo.name] = person.id

    for initiative in DEMO_INITIATIVES:
        latitude, longitude = _near(initiative.title, initiative.postcode, decimals=4)
        await store.create_initiative(
            organisation_id=organisations[initiative.organisation].id,
            organiser_ids=[organiser_ids[name] for name in initiative.organisers],
            title=initiative.title,
            description=initiative.description,
            offers=initiative.offers,
            needs=initiative.needs,
            postcode=initiative.postcode,
            place_name=initiative.place_name,
            latitude=latitude,
            longitude=longitude,
            times=initiative.times,
            free=initiative.free,
            wheelchair=initiative.wheelchair,
            capacity=initiative.capacity,
            status="approved",
            now=now,
        )

    for days, demo in enumerate(DEMO_RESIDENTS):
        await _add_person(store, demo, now - timedelta(days=days % 21, hours=days))


async def seed_demo(store: Store) -> dict[str, int]:
    """Write the demo data; safe to run again.

    Places are always brought up to date. Organisations, initiatives and people are written
    only the first time: once the organisation "buurtteam-demo" exists they are left alone.
    """
    postcodes = await store.save_postcodes(DEMO_POSTCODES)
    for area in DEMO_AREAS:
        await store.save_area(area)
    if await store.get_organisation(DEMO_ORGANISATION) is None:
        await _seed_community(store)
    return {
        "postcodes": postcodes,
        "areas": len(DEMO_AREAS),
        "organisations": len(DEMO_ORGANISATIONS),
        "initiatives": len(DEMO_INITIATIVES),
        "organisers": len(DEMO_ORGANISERS),
        "residents": len(DEMO_RESIDENTS),
    }
