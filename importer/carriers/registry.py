"""Carrier names, their aliases and service names, and their tracking page addresses.

Shipping tools write the carrier in many ways: "UPS", "ups_ground", "UPS® Ground",
"DHLExpress", "canada-post", "FedEx Home Delivery", or only a service such as
"Priority Mail". HighLevel shows the carrier name to the customer, so every
spelling is turned into one canonical name, and a tracking URL is built when the
file has none.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from importer.carriers.formats import INTERNATIONAL_MAIL


@dataclass(frozen=True)
class Carrier:
    """A carrier under the name HighLevel shows customers, with the names files give it."""

    name: str
    aliases: tuple[str, ...]
    tracking_url: str  # "{number}" is replaced with the URL-encoded tracking number; "" if unknown
    # Service names that only this carrier uses, so they name it on their own.
    services: tuple[str, ...] = ()


# Aliases and services are written in lower case, words separated by one space. A
# space in an alias may be left out in the name ("fed ex" finds "FedEx"), but a
# space, "_", "-" or other separator in the name must be a space in the alias, so
# "express24" finds "Express24" and not "Express 24".
CARRIERS: tuple[Carrier, ...] = (
    # --- United States ---
    Carrier(
        "USPS",
        (
            "usps",
            "us postal service",
            "u s postal service",
            "united states postal service",
            "us mail",
            "stamps com",
            "stamps",
            "endicia",
        ),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
        services=(
            "priority mail",
            "ground advantage",
            "first class package",
            "media mail",
            "library mail",
            "parcel select",
        ),
    ),
    Carrier(
        "UPS",
        ("ups", "united parcel service"),
        "https://www.ups.com/track?tracknum={number}",
        services=(
            "next day air",
            "2nd day air",
            "second day air",
            "3 day select",
            "surepost",
            "sure post",
            "ground saver",
            "mail innovations",
        ),
    ),
    Carrier(
        "FedEx",
        ("fedex", "fed ex", "federal express"),
        "https://www.fedex.com/fedextrack/?trknbr={number}",
        services=(
            "home delivery",
            "smart post",
            "ground economy",
            "priority overnight",
            "standard overnight",
            "first overnight",
            "2day",
        ),
    ),
    Carrier(
        "DHL Express",
        ("dhl express", "dhl"),
        "https://www.dhl.com/en/express/tracking.html?AWB={number}",
    ),
    Carrier(
        "DHL eCommerce",
        (
            "dhl ecommerce",
            "dhl e commerce",
            "dhl ecommerce solutions",
            "dhl ecs",
            "dhl global mail",
            "dhl smartmail",
        ),
        "https://webtrack.dhlecs.com/?trackingnumber={number}",
        # DHL eCommerce's US services, unlike DHL Parcel UK or Benelux (see _OTHER_COMPANIES).
        services=(
            "dhl parcel expedited",
            "dhl parcel ground",
            "dhl parcel plus",
            "dhl parcel international",
        ),
    ),
    # LaserShip merged into OnTrac in 2024, and OnTrac tracks LaserShip's numbers.
    Carrier(
        "OnTrac",
        ("ontrac", "lasership"),
        "https://www.ontrac.com/tracking/?number={number}",
    ),
    Carrier(
        "Amazon Logistics",
        ("amazon", "amazon logistics", "amazon shipping", "amzl"),
        "https://track.amazon.com/tracking/{number}",
    ),
    # Formerly Cirro E-Commerce.
    Carrier(
        "GOFO Express",
        ("gofo", "gofo express", "cirro", "cirro ecommerce", "cirro e commerce"),
        "https://www.gofoexpress.com/tracking.html?searchID={number}",
    ),
    Carrier(
        "Old Dominion",
        ("old dominion", "old dominion freight line", "odfl"),
        "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers={number}",
    ),
    Carrier(
        "Spee-Dee Delivery",
        ("spee dee", "speedee", "spee dee delivery", "spee dee delivery service"),
        "https://www.speedeedelivery.com/track/?tracking={number}",
    ),
    # --- Canada ---
    Carrier(
        "Canada Post",
        ("canada post", "postes canada", "canada post corporation"),
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}",
        services=("xpresspost", "expedited parcel", "regular parcel", "tracked packet"),
    ),
    Carrier(
        "Purolator",
        ("purolator",),
        "https://www.purolator.com/en/shipping/tracker?searchValue={number}",
    ),
    Carrier(
        "Canpar",
        ("canpar", "canpar express"),
        "https://www.canpar.com/en/track/tracking.jsp?reference={number}&locale=en",
    ),
    # NOTE: public sources disagree on Loomis Express's tracking page address.
    Carrier("Loomis Express", ("loomis", "loomis express"), ""),
    Carrier(
        "Intelcom",
        ("intelcom", "intelcom express"),
        "https://intelcom.ca/en/track-your-package/?tracking-id={number}",
    ),
    # NOTE: UniUni's tracking page address is not confirmed by a second public source.
    Carrier("UniUni", ("uniuni", "uni uni"), ""),
    # --- United Kingdom ---
    Carrier(
        "Royal Mail",
        ("royal mail",),
        "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
        services=("tracked 24", "tracked 48", "special delivery", "signed for"),
    ),
    Carrier(
        "Parcelforce",
        ("parcelforce", "parcel force", "parcelforce worldwide"),
        "https://www.parcelforce.com/track-trace?trackNumber={number}",
        # Written as one word, as Parcelforce does; "Express 24" is left unnamed.
        services=("express9", "express10", "expressam", "express24", "express48"),
    ),
    Carrier(
        "Evri",
        ("evri", "hermes uk", "myhermes", "my hermes"),
        "https://www.evri.com/track/parcel/{number}",
    ),
    Carrier("Yodel", ("yodel", "yodel direct"), "https://www.yodel.co.uk/tracking/{number}"),
    # --- Europe ---
    Carrier(
        "DPD",
        ("dpd", "dpd uk", "dpd local", "dpd group", "dpdgroup", "interlink express"),
        "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={number}",
    ),
    # GSO became GLS US, and Dicom became GLS Canada.
    Carrier(
        "GLS",
        ("gls", "general logistics systems", "gso", "golden state overnight", "dicom"),
        "https://gls-group.eu/EU/en/parcel-tracking?match={number}",
    ),
    # NOTE: PostNL's tracking page needs the destination's postcode with the number,
    # which the importer does not have.
    Carrier("PostNL", ("postnl", "post nl"), ""),
    Carrier(
        "Deutsche Post",
        ("deutsche post", "deutsch post"),
        "https://www.deutschepost.de/de/s/sendungsverfolgung/verfolgen.html?piececode={number}",
    ),
    # Deutsche Post's parcel service in Germany, tracked on dhl.de rather than dhl.com.
    Carrier(
        "DHL Paket",
        ("dhl paket", "dhl germany", "dhl de", "deutsche post dhl"),
        "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?idc={number}",
    ),
    Carrier(
        "La Poste",
        ("la poste", "laposte", "colissimo", "la poste colissimo"),
        "https://www.laposte.fr/outils/suivre-vos-envois?code={number}",
    ),
    Carrier(
        "bpost",
        ("bpost", "b post", "belgian post"),
        "https://track.bpost.be/btr/web/#/search?itemCode={number}",
    ),
    Carrier(
        "An Post",
        ("an post", "anpost"),
        "https://track.anpost.ie/TrackingResults.aspx?rtt=1&items={number}",
    ),
    Carrier(
        "PostNord",
        ("postnord", "post nord", "post danmark"),
        "https://portal.postnord.com/tracking/details/{number}",
    ),
    Carrier(
        "Austrian Post",
        ("austrian post", "osterreichische post"),
        "https://www.post.at/sv/sendungsdetails?snr={number}",
    ),
    # NOTE: no public tracking page address of Poste Italiane was found to check.
    Carrier("Poste Italiane", ("poste italiane",), ""),
    # --- Australia ---
    Carrier(
        "Australia Post",
        ("australia post", "auspost", "aus post"),
        "https://auspost.com.au/mypost/track/#/details/{number}",
    ),
    # NOTE: public sources disagree on StarTrack's tracking page address.
    Carrier("StarTrack", ("startrack", "star track", "startrack express"), ""),
    Carrier("Sendle", ("sendle",), "https://track.sendle.com/tracking?ref={number}"),
    Carrier(
        "Couriers Please",
        ("couriers please", "couriersplease"),
        "https://www.couriersplease.com.au/tools-track/no/{number}",
    ),
    # Fastway became Aramex in Australia, New Zealand and Ireland; Fastway in South Africa
    # did not, so "Fastway" alone is left unnamed. The address is Aramex Australia's page.
    Carrier(
        "Aramex",
        (
            "aramex",
            "fastway au",
            "fastway australia",
            "fastway nz",
            "fastway ie",
            "fastway ireland",
        ),
        "https://www.aramex.com.au/tools/track?l={number}",
    ),
    # --- international ---
    Carrier(
        "Landmark Global",
        ("landmark global",),
        "https://track.landmarkglobal.com/?search={number}",
    ),
    Carrier(
        "YunExpress",
        ("yunexpress", "yun express"),
        "https://www.yuntrack.com/parcelTracking?id={number}",
    ),
    # The postal operators of countries without a carrier of their own here, found by the
    # country code that ends a UPU S10 number. There is no one tracking page for them.
    Carrier(INTERNATIONAL_MAIL, ("international mail", "s10", "s10 international standard"), ""),
)

# Names that start with a carrier's alias but are other companies, with tracking pages
# of their own, so taking them for that carrier would send customers to the wrong page.
_OTHER_COMPANIES = (
    "dhl parcel",  # DHL Parcel UK, Benelux and Spain, not DHL Express
    "dhl freight",
    "dhl supply chain",
    "la poste suisse",  # Swiss Post in French
    "la poste monaco",
    "la poste tunisienne",
    "la poste senegal",
    "la poste de",  # La Poste de Côte d'Ivoire, du Bénin, de Djibouti...
    "la poste du",
)


@dataclass(frozen=True)
class _Alias:
    carrier: Carrier | None  # None for the names of other companies
    spaces: frozenset[int]  # positions in the alias without spaces where it had a space


def _alias_entry(alias: str, carrier: Carrier | None) -> tuple[str, _Alias]:
    words = alias.split(" ")
    spaces = frozenset(sum(len(word) for word in words[:index]) for index in range(1, len(words)))
    return "".join(words), _Alias(carrier, spaces)


def _alias_table() -> dict[str, _Alias]:
    table: dict[str, _Alias] = {}
    for carrier in CARRIERS:
        for alias in (carrier.name.casefold(), *carrier.aliases, *carrier.services):
            key, entry = _alias_entry(" ".join(_words(alias)).casefold(), carrier)
            known = table.get(key)
            if known is not None and known.carrier is not carrier:
                raise ValueError(f"{alias!r} is an alias of two carriers")
            if known is not None:
                # "fedex" and "fed ex": either spelling is the carrier's name.
                entry = _Alias(carrier, known.spaces | entry.spaces)
            table[key] = entry
    for name in _OTHER_COMPANIES:
        key, entry = _alias_entry(name, None)
        table[key] = entry
    return table


# A letter case change ("FedEx", "DHLExpress") or a change between letters and digits
# ("LaserShipV2", "2Day") separates words that shipping tools write without spaces.
_WORD_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _words(text: str) -> list[str]:
    # Trademark signs are dropped first because NFKD would turn "™" into "TM".
    without_marks = text.replace("®", " ").replace("™", " ")
    decomposed = unicodedata.normalize("NFKD", without_marks)
    ascii_text = decomposed.encode("ascii", "ignore").decode()
    return re.findall(r"[0-9A-Za-z]+", ascii_text)


def _boundaries(words: list[str]) -> tuple[str, frozenset[int], tuple[int, ...]]:
    """Join the words, and list where separators were and where any word may end."""
    joined = ""
    separators = set()
    ends = set()
    for word in words:
        if joined:
            separators.add(len(joined))
        for part in _WORD_PART.findall(word):
            joined += part
            ends.add(len(joined))
    return joined.casefold(), frozenset(separators), tuple(sorted(ends, reverse=True))


# A file repeats a handful of carrier and service names on every row, so a
# small cache turns the matching into a dictionary lookup.
@functools.lru_cache(maxsize=1024)
def find_carrier(text: str) -> Carrier | None:
    """Find the carrier named by a carrier or service name, or None when unknown.

    The longest alias or service name that starts the name, and ends where one of
    its words ends, names the carrier: "UPS 2nd Day Air" is UPS, "UPSIDE Couriers"
    is no carrier. Generic service names ("Ground", "Express") name none.
    """
    joined, separators, ends = _boundaries(_words(text))
    for end in ends:
        entry = _ALIASES.get(joined[:end])
        if entry is not None and all(
            position in entry.spaces for position in separators if position < end
        ):
            return entry.carrier
    return None


def carrier_names() -> list[str]:
    """Return the canonical names of the known carriers, in the order they are listed."""
    return [carrier.name for carrier in CARRIERS]


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """Build the carrier's public tracking page address, or "" when none is known."""
    if not carrier.tracking_url:
        return ""
    return carrier.tracking_url.format(number=quote(tracking_number, safe=""))


_ALIASES = _alias_table()
CARRIERS_BY_NAME = {carrier.name: carrier for carrier in CARRIERS}
