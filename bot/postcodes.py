"""Reading GeoNames postal-code exports (tab-separated, no header)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable

from storage.records import Postcode


def read_geonames(lines: Iterable[str]) -> list[Postcode]:
    """Dutch 4-digit postcodes with their centroid; several rows of one code are averaged."""
    rows: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
    for line in lines:
        columns = line.rstrip("\n").split("\t")
        if len(columns) < 11 or columns[0] != "NL":
            continue
        code = columns[1].strip()[:4]
        if not (code.isdigit() and len(code) == 4):
            continue
        try:
            latitude, longitude = float(columns[9]), float(columns[10])
        except ValueError:
            continue
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            continue  # float() also reads "nan" and "inf"
        if abs(latitude) > 90 or abs(longitude) > 180:
            continue
        rows[code].append((columns[2], columns[5], latitude, longitude))
    postcodes = []
    for code, found in sorted(rows.items()):
        place = found[0][0]
        municipality = found[0][1].removesuffix(" Municipality").removeprefix("Gemeente ")
        latitude, longitude = _centre([(r[2], r[3]) for r in found])
        postcodes.append(Postcode(code, place[:80], municipality[:80] or None, latitude, longitude))
    return postcodes


OUTLIER_KM = 10.0


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The average of the rows, leaving out rows far from the median point.

    A few codes carry a stray row in another part of the country (3523: Utrecht and
    Ouddorp); a plain average would put them in between, in nobody's neighbourhood.
    """
    lat_median = statistics.median(p[0] for p in points)
    lon_median = statistics.median(p[1] for p in points)
    near = [
        p
        for p in points
        if abs(p[0] - lat_median) * 111 <= OUTLIER_KM and abs(p[1] - lon_median) * 68 <= OUTLIER_KM
    ]
    kept = near or points
    return sum(p[0] for p in kept) / len(kept), sum(p[1] for p in kept) / len(kept)


COMPACT_HEADER = (
    "# Dutch 4-digit postcode centroids: code, place, municipality, latitude, longitude.\n"
    "# Derived from GeoNames (geonames.org), CC BY 4.0, by `python -m bot compact-postcodes`.\n"
)


def compact_table(postcodes: Iterable[Postcode]) -> str:
    """The shipped table (`handlers/data/postcodes.tsv`): one line per code, 4 decimals."""
    lines = [
        f"{p.code}\t{p.place}\t{p.municipality or ''}\t{p.latitude:.4f}\t{p.longitude:.4f}"
        for p in sorted(postcodes, key=lambda p: p.code)
    ]
    return COMPACT_HEADER + "\n".join(lines) + "\n"
