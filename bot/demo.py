"""Demo data: two neighbourhoods, Almelo and Strijen (Hoeksche Waard).

The postcode centroids below come from GeoNames (geonames.org, CC BY 4.0): just the few the
demo needs. A deployment imports the full file with `python -m bot import-postcodes`.
"""

from __future__ import annotations

from storage.records import Area, Postcode
from storage.store import Store

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


async def seed_demo(store: Store) -> dict[str, int]:
    """Write the demo places; safe to run again (it updates what is there)."""
    postcodes = await store.save_postcodes(DEMO_POSTCODES)
    for area in DEMO_AREAS:
        await store.save_area(area)
    return {"postcodes": postcodes, "areas": len(DEMO_AREAS)}
