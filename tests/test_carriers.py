"""Tests for importer.carriers: carrier names, tracking URLs and tracking-number checks."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from importer.carriers import (
    ACCEPTED_FORMATS,
    CARRIERS,
    FORMATS,
    MAX_LOST_ZEROS,
    NUMBER_PATTERNS,
    S10_POSTS,
    TrackingStatus,
    carrier_formats,
    carrier_names,
    check_tracking,
    detect_carrier,
    find_carrier,
    guess_lost_zeros,
    shortened_lengths,
    tracking_url,
    validate_check_digit,
)


@dataclass(frozen=True)
class CarrierCase:
    name: str
    aliases: tuple[str, ...]
    url: str  # expected tracking URL of `valid`, or of "AB123" for a carrier without formats
    valid: str = ""  # a valid number, "" for a carrier without known formats
    invalid: str = ""  # a number of the carrier's form that is not valid
    detected: str = ""  # the carrier detect_carrier names for `valid`, when not this one

    def __str__(self) -> str:
        return self.name


# Valid numbers come from the public data set jkeen/tracking_number_data (MIT licence),
# except the S10 numbers: "RB123456785" with a country code, built for these tests,
# whose check digit does not depend on the country.
CASES = (
    CarrierCase(
        "USPS",
        ("USPS", "U.S. Postal Service", "United States Postal Service", "stamps_com", "Endicia"),
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111206206406260787",
        "9400111206206406260787",
        "9400111206206406260788",
    ),
    CarrierCase(
        "UPS",
        ("UPS", "ups_ground", "UPS® Ground", "United Parcel Service", "UPSGround"),
        "https://www.ups.com/track?tracknum=1Z5R89390357567127",
        "1Z5R89390357567127",
        "1Z5R89390357567128",
    ),
    CarrierCase(
        "FedEx",
        ("FedEx", "FEDEX", "Fed Ex", "Federal Express", "fedex_2_day", "FedEx Home Delivery"),
        "https://www.fedex.com/fedextrack/?trknbr=986578788855",
        "986578788855",
        "996578788855",
    ),
    CarrierCase(
        "DHL Express",
        ("DHL", "DHL Express", "DHLExpress", "dhl-express", "dhl_express_worldwide"),
        "https://www.dhl.com/en/express/tracking.html?AWB=3318810025",
        "3318810025",
        "3318810010",
    ),
    CarrierCase(
        "DHL eCommerce",
        ("DHL eCommerce", "DHL E-Commerce", "dhl_ecommerce", "DHL Global Mail", "DhlEcs"),
        "https://webtrack.dhlecs.com/?trackingnumber=GM2951173225174494",
        "GM2951173225174494",
        "GS295117494011169041",
    ),
    CarrierCase(
        "OnTrac",
        ("OnTrac", "ontrac", "LaserShip", "LaserShipV2", "lasership"),
        "https://www.ontrac.com/tracking/?number=C11031500001879",
        "C11031500001879",
        "C11031500001889",
    ),
    CarrierCase(
        "Amazon Logistics",
        ("Amazon", "AmazonShipping", "Amazon Logistics", "amazon_shipping", "AMZL"),
        "https://track.amazon.com/tracking/TBA000000000000",
        "TBA000000000000",
        "TBB000000000000",
    ),
    CarrierCase(
        "GOFO Express",
        ("GOFO", "GOFO Express", "Cirro E-Commerce"),
        "https://www.gofoexpress.com/tracking.html?searchID=GFUS01011884214464",
        "GFUS01011884214464",
        "GFUS0101188421446",
    ),
    CarrierCase(
        "Old Dominion",
        ("Old Dominion", "Old Dominion Freight Line", "ODFL"),
        "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers=07209562763",
        "07209562763",
        "07209562773",
    ),
    CarrierCase(
        "Spee-Dee Delivery",
        ("Spee-Dee", "SpeeDee", "Spee-Dee Delivery", "spee_dee"),
        "https://www.speedeedelivery.com/track/?tracking=SP029692510000920746",
        "SP029692510000920746",
        "SX029692510000920746",
    ),
    CarrierCase(
        "Canada Post",
        ("Canada Post", "canada-post", "CanadaPost", "canada_post", "Postes Canada"),
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=0073938000549297",
        "0073938000549297",
        "0073938000549292",
    ),
    CarrierCase(
        "Purolator",
        ("Purolator", "purolator_ca", "Purolator Express"),
        "https://www.purolator.com/en/shipping/tracker?searchValue=320595463938",
        "320595463938",
        "320595463939",
    ),
    CarrierCase(
        "Canpar",
        ("Canpar", "Canpar Express", "canpar"),
        "https://www.canpar.com/en/track/tracking.jsp?reference=D576002440000001718010&locale=en",
        "D576002440000001718010",
        "M576002440000002510003",
    ),
    CarrierCase("Loomis Express", ("Loomis", "Loomis Express", "loomis-express"), ""),
    CarrierCase(
        "Intelcom",
        ("Intelcom", "intelcom"),
        "https://intelcom.ca/en/track-your-package/?tracking-id=AB123",
    ),
    CarrierCase("UniUni", ("UniUni", "uniuni", "Uni Uni"), ""),
    CarrierCase(
        "Royal Mail",
        ("Royal Mail", "royal-mail", "RoyalMail", "royal_mail", "Royal Mail Tracked 24"),
        "https://www.royalmail.com/track-your-item#/tracking-results/RB123456785GB",
        "RB123456785GB",
        "RB123456786GB",
    ),
    CarrierCase(
        "Parcelforce",
        ("Parcelforce", "Parcel Force", "parcel-force", "Parcelforce Worldwide"),
        "https://www.parcelforce.com/track-trace?trackNumber=RB123456785GB",
        "RB123456785GB",
        "RB123456786GB",
        detected="Royal Mail",
    ),
    CarrierCase(
        "Evri",
        ("Evri", "Hermes UK", "myHermes", "hermes-uk"),
        "https://www.evri.com/track/parcel/AB123",
    ),
    CarrierCase(
        "Yodel",
        ("Yodel", "yodel"),
        "https://www.yodel.co.uk/tracking/JD0002242617644732",
        "JD0002242617644732",
        "JC0002254405060992",
    ),
    CarrierCase(
        "DPD",
        ("DPD", "DPD UK", "dpd-uk", "DPDUK", "Interlink Express"),
        "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber=09980000020033F",
        "09980000020033F",
        "09980000020033D",
    ),
    CarrierCase(
        "GLS",
        ("GLS", "GSO", "GLS US", "General Logistics Systems"),
        "https://gls-group.eu/EU/en/parcel-tracking?match=AB123",
    ),
    CarrierCase("PostNL", ("PostNL", "postnl", "Post NL"), "", "RB123456785NL", "RB123456786NL"),
    CarrierCase(
        "Deutsche Post",
        ("Deutsche Post", "deutsch-post", "DeutschePost"),
        "https://www.deutschepost.de/de/s/sendungsverfolgung/verfolgen.html?piececode=RB123456785DE",
        "RB123456785DE",
        "RB123456786DE",
    ),
    CarrierCase(
        "DHL Paket",
        ("DHL Paket", "DHLPaket", "dhl.de", "Deutsche Post DHL"),
        "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?idc=AB123",
    ),
    CarrierCase(
        "La Poste",
        ("La Poste", "LaPoste", "Colissimo", "la-poste-colissimo"),
        "https://www.laposte.fr/outils/suivre-vos-envois?code=RB123456785FR",
        "RB123456785FR",
        "RB123456786FR",
    ),
    CarrierCase(
        "bpost",
        ("bpost", "BPost", "Belgian Post"),
        "https://track.bpost.be/btr/web/#/search?itemCode=RB123456785BE",
        "RB123456785BE",
        "RB123456786BE",
    ),
    CarrierCase(
        "An Post",
        ("An Post", "AnPost"),
        "https://track.anpost.ie/TrackingResults.aspx?rtt=1&items=RB123456785IE",
        "RB123456785IE",
        "RB123456786IE",
    ),
    CarrierCase(
        "PostNord",
        ("PostNord", "Post Nord", "Post Danmark"),
        "https://portal.postnord.com/tracking/details/RB123456785SE",
        "RB123456785SE",
        "RB123456786SE",
    ),
    CarrierCase(
        "Austrian Post",
        ("Austrian Post", "Österreichische Post"),
        "https://www.post.at/sv/sendungsdetails?snr=RB123456785AT",
        "RB123456785AT",
        "RB123456786AT",
    ),
    CarrierCase("Poste Italiane", ("Poste Italiane",), "", "RB123456785IT", "RB123456786IT"),
    CarrierCase(
        "Australia Post",
        ("Australia Post", "australia-post", "AusPost", "AustraliaPost"),
        "https://auspost.com.au/mypost/track/#/details/RB123456785AU",
        "RB123456785AU",
        "RB123456786AU",
    ),
    CarrierCase("StarTrack", ("StarTrack", "Star Track", "star-track"), ""),
    CarrierCase("Sendle", ("Sendle",), "https://track.sendle.com/tracking?ref=AB123"),
    CarrierCase(
        "Couriers Please",
        ("Couriers Please", "CouriersPlease", "couriers-please"),
        "https://www.couriersplease.com.au/tools-track/no/AB123",
    ),
    CarrierCase(
        "Aramex",
        ("Aramex", "Fastway AU", "fastway-australia"),
        "https://www.aramex.com.au/tools/track?l=AB123",
    ),
    CarrierCase(
        "Landmark Global",
        ("Landmark Global", "landmark-global", "Landmark Global LTN"),
        "https://track.landmarkglobal.com/?search=LTN74207623N1",
        "LTN74207623N1",
        "LSN74209518N2",
    ),
    CarrierCase(
        "YunExpress",
        ("YunExpress", "Yun Express", "yunexpress"),
        "https://www.yuntrack.com/parcelTracking?id=YT2229521272164446",
        "YT2229521272164446",
        "YT123456789012345",
    ),
    CarrierCase(
        "International Mail",
        ("International Mail", "S10", "S10 International Standard"),
        "",
        "RB123456785CV",
        "RB123456785XX",
    ),
)
WITH_FORMATS = [case for case in CASES if case.valid]
WITHOUT_FORMATS = [case for case in CASES if not case.valid]
ALIASES = [(case.name, alias) for case in CASES for alias in case.aliases]


def test_every_carrier_has_a_case() -> None:
    """The table of cases covers every carrier of the registry."""
    assert [case.name for case in CASES] == carrier_names()


def test_carrier_names_unique() -> None:
    """Canonical names are not repeated."""
    assert len(set(carrier_names())) == len(carrier_names())


@pytest.mark.parametrize(
    "name",
    [
        "USPS",
        "UPS",
        "FedEx",
        "DHL Express",
        "DHL eCommerce",
        "OnTrac",
        "Amazon Logistics",
        "Canada Post",
        "Purolator",
        "Royal Mail",
        "Parcelforce",
        "Evri",
        "DPD",
        "GLS",
        "PostNL",
        "Australia Post",
        "Aramex",
        "Canpar",
        "GOFO Express",
        "Landmark Global",
        "Old Dominion",
        "Spee-Dee Delivery",
        "Yodel",
        "YunExpress",
    ],
)
def test_required_carrier_listed(name: str) -> None:
    """Each carrier the importer must know is listed."""
    assert name in carrier_names()


@pytest.mark.parametrize(("name", "alias"), ALIASES)
def test_carrier_alias_found(name: str, alias: str) -> None:
    """A carrier's aliases and shipping tools' codes find it."""
    carrier = find_carrier(alias)
    assert carrier is not None
    assert carrier.name == name


@pytest.mark.parametrize(
    ("name", "alias"),
    [(c.name, alias) for c in CARRIERS for alias in (c.name, *c.aliases, *c.services)],
)
def test_registry_alias_finds_its_carrier(name: str, alias: str) -> None:
    """Every name, alias and service in the registry finds its own carrier and no other."""
    carrier = find_carrier(alias)
    assert carrier is not None
    assert carrier.name == name


@pytest.mark.parametrize("case", CASES, ids=str)
def test_carrier_tracking_url(case: CarrierCase) -> None:
    """The carrier's tracking URL is built from its template and the number."""
    carrier = find_carrier(case.name)
    assert carrier is not None
    assert tracking_url(carrier, case.valid or "AB123") == case.url


@pytest.mark.parametrize("case", WITH_FORMATS, ids=str)
def test_carrier_valid_number(case: CarrierCase) -> None:
    """A valid number of the carrier is VALID for it."""
    assert check_tracking(case.name, case.valid).status is TrackingStatus.VALID


@pytest.mark.parametrize("case", WITH_FORMATS, ids=str)
def test_carrier_invalid_number(case: CarrierCase) -> None:
    """A number of the carrier's form with a wrong check digit or letter is not VALID."""
    assert check_tracking(case.name, case.invalid).status is not TrackingStatus.VALID


@pytest.mark.parametrize("case", WITH_FORMATS, ids=str)
def test_carrier_number_detected(case: CarrierCase) -> None:
    """The carrier's valid number is detected as its carrier."""
    carrier = detect_carrier(case.valid)
    assert carrier is not None
    assert carrier.name == (case.detected or case.name)


@pytest.mark.parametrize("case", WITH_FORMATS, ids=str)
def test_carrier_invalid_number_not_detected(case: CarrierCase) -> None:
    """An invalid number is not detected as the carrier."""
    carrier = detect_carrier(case.invalid)
    assert carrier is None or carrier.name != case.name


@pytest.mark.parametrize("case", WITHOUT_FORMATS, ids=str)
def test_carrier_without_formats_unknown(case: CarrierCase) -> None:
    """A carrier with no known format gets UNKNOWN for any number, even another carrier's."""
    assert check_tracking(case.name, "1Z5R89390357567127").status is TrackingStatus.UNKNOWN


@pytest.mark.parametrize("case", WITHOUT_FORMATS, ids=str)
def test_carrier_without_formats_has_none(case: CarrierCase) -> None:
    """The cases without numbers are the carriers without formats."""
    assert carrier_formats(case.name) == ()


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("DHLExpress", "DHL Express"),  # EasyPost
        ("dhl-express", "DHL Express"),  # AfterShip and WooCommerce slugs
        ("canada-post", "Canada Post"),
        ("royal-mail", "Royal Mail"),
        ("australia-post", "Australia Post"),
        ("stamps_com", "USPS"),  # ShipStation
        ("fedex_2_day", "FedEx"),
        ("LaserShipV2", "OnTrac"),
        ("AmazonShipping", "Amazon Logistics"),
        ("UPS® Ground", "UPS"),
        ("UPS™ Ground", "UPS"),
        ("ups_ground", "UPS"),
        ("FedEx Home Delivery", "FedEx"),
        ("USPS Priority Mail", "USPS"),
        ("  usps  ", "USPS"),
        ("DHL Express Worldwide", "DHL Express"),
        ("Evri (formerly Hermes UK)", "Evri"),
        ("DHL Parcel Expedited Max", "DHL eCommerce"),
    ],
)
def test_spelling_found(text: str, name: str) -> None:
    """Carrier names in the spellings shipping tools write find their carrier."""
    carrier = find_carrier(text)
    assert carrier is not None
    assert carrier.name == name


@pytest.mark.parametrize(
    ("service", "name"),
    [
        ("Priority Mail", "USPS"),
        ("Priority Mail Express", "USPS"),
        ("Ground Advantage", "USPS"),
        ("First-Class Package", "USPS"),
        ("Media Mail", "USPS"),
        ("Next Day Air", "UPS"),
        ("Next Day Air Saver", "UPS"),
        ("2nd Day Air", "UPS"),
        ("SurePost", "UPS"),
        ("Home Delivery", "FedEx"),
        ("SmartPost", "FedEx"),
        ("Priority Overnight", "FedEx"),
        ("2Day", "FedEx"),
        ("Xpresspost", "Canada Post"),
        ("Expedited Parcel", "Canada Post"),
        ("Tracked 24", "Royal Mail"),
        ("Tracked 48", "Royal Mail"),
        ("Special Delivery Guaranteed", "Royal Mail"),
        ("express24", "Parcelforce"),
        ("express48", "Parcelforce"),
    ],
)
def test_service_name_finds_carrier(service: str, name: str) -> None:
    """A service name that only one carrier uses finds that carrier without its name."""
    carrier = find_carrier(service)
    assert carrier is not None
    assert carrier.name == name


@pytest.mark.parametrize(
    "text",
    [
        "Ground",
        "Priority",
        "Express",
        "Standard",
        "Overnight",
        "UPSIDE Couriers",
        "Upside",
        "Speedy Couriers",
        "2 Day Shipping",
        "Express 24",
        "Hermes",
        "Fastway",
        "DHL Parcel UK",
        "La Poste Suisse",
        "",
        "®",
    ],
)
def test_name_finds_no_carrier(text: str) -> None:
    """Generic service names, look-alikes and other companies find no carrier."""
    assert find_carrier(text) is None


# --- checking a number against its carrier --------------------------------------------------


def test_check_valid_in_lower_case() -> None:
    """Letters of the number may be in either case."""
    check = check_tracking("UPS", "1z5r89390357567127")
    assert check.status is TrackingStatus.VALID
    assert check.format_name == "UPS 1Z"


def test_check_service_name_accepted() -> None:
    """A service name finds the carrier whose formats are checked."""
    assert check_tracking("FedEx Home Delivery", "041441760228964").status is TrackingStatus.VALID


def test_check_bad_check_digit() -> None:
    """A number of the carrier's form whose check digit is wrong is reported with its format."""
    check = check_tracking("UPS", "1Z5R89390357567128")
    assert check.status is TrackingStatus.BAD_CHECK_DIGIT
    assert check.format_name == "UPS 1Z"


@pytest.mark.parametrize(
    ("named", "number", "other", "format_name"),
    [
        ("Royal Mail", "1Z5R89390357567127", "UPS", "UPS 1Z"),
        ("UPS", "RB123456785GB", "Royal Mail", "UPU S10"),
        ("FedEx", "TBA000000000000", "Amazon Logistics", "Amazon Logistics"),
        ("UPS", "LX17635036", "OnTrac", "LaserShip LX"),
        ("Canada Post", "1LS717793482164", "OnTrac", "LaserShip 1LS7 (15)"),
        ("DHL Express", "9400111206206406260787", "USPS", "USPS IMpb"),
        ("USPS", "9611020987654312345672", "FedEx", "FedEx Ground 96 (22)"),
    ],
)
def test_check_other_carrier(named: str, number: str, other: str, format_name: str) -> None:
    """A number of another carrier's distinctive format names that carrier."""
    check = check_tracking(named, number)
    assert check.status is TrackingStatus.OTHER_CARRIER
    assert check.other is not None
    assert check.other.name == other
    assert check.format_name == format_name


def test_check_chance_pass_not_blamed() -> None:
    """Ten digits that pass DHL's mod 7 by chance do not make a UPS row wrong."""
    assert check_tracking("DHL Express", "3318810025").status is TrackingStatus.VALID
    assert check_tracking("UPS", "3318810025").status is TrackingStatus.UNKNOWN


def test_check_two_claimants_unknown() -> None:
    """A number valid for two other carriers names neither."""
    number = "4201028200009261290113185417468510"
    assert check_tracking("USPS", number).status is TrackingStatus.VALID
    assert check_tracking("FedEx", number).status is TrackingStatus.VALID
    assert check_tracking("Royal Mail", number).status is TrackingStatus.UNKNOWN


def test_check_unknown_carrier() -> None:
    """An unknown carrier's numbers are not checked."""
    assert check_tracking("Speedy Couriers", "1Z5R89390357567127").status is TrackingStatus.UNKNOWN


def test_check_unknown_s10_country() -> None:
    """An S10 number whose country code is no UPU member's is no valid number of a post."""
    assert check_tracking("Royal Mail", "RB123456785XX").status is TrackingStatus.UNKNOWN


@pytest.mark.parametrize(
    ("named", "number"),
    [
        ("FedEx SmartPost", "9400111206206406260787"),
        ("UPS SurePost", "92748931507708513018050063"),
        ("DHL eCommerce", "420787459400111206206406260787"),
        ("DHL eCommerce", "RB123456785DE"),
        ("USPS", "RB123456785CN"),
        ("Parcelforce", "RB123456785GB"),
        ("YunExpress", "RB123456785CN"),
    ],
)
def test_check_handed_over_number_valid(named: str, number: str) -> None:
    """A number of the carrier that delivers for the named one is valid under its name."""
    assert check_tracking(named, number).status is TrackingStatus.VALID


def test_check_handed_over_bad_digit() -> None:
    """A USPS number under FedEx's name still has its check digit checked."""
    check = check_tracking("FedEx", "9400111206206406260788")
    assert check.status is TrackingStatus.BAD_CHECK_DIGIT
    assert check.format_name == "USPS IMpb"


def test_accepted_formats_exist() -> None:
    """Every format that a carrier's labels carry is a known format."""
    names = {f.name for f in FORMATS}
    assert {name for listed in ACCEPTED_FORMATS.values() for name in listed} <= names


def test_format_carriers_known() -> None:
    """Every format and every handing-over belongs to a carrier of the registry."""
    carriers_named = {f.carrier for f in FORMATS} | set(ACCEPTED_FORMATS) | set(S10_POSTS.values())
    assert carriers_named <= set(carrier_names())


@pytest.mark.parametrize("post", sorted(set(S10_POSTS.values())))
def test_post_accepts_s10(post: str) -> None:
    """A post named by an S10 country takes S10 numbers, so its own are never another's."""
    assert "UPU S10" in [f.name for f in carrier_formats(post)]


# --- detecting the carrier of a number ---------------------------------------------------


def test_detect_ups_in_lower_case() -> None:
    """A 1Z number is UPS, whatever the case of its letters."""
    carrier = detect_carrier("1z999aa10123456784")
    assert carrier is not None
    assert carrier.name == "UPS"


def test_detect_bad_check_digit_none() -> None:
    """A 1Z number with a wrong check digit gets no carrier."""
    assert detect_carrier("1Z5R89390357567128") is None


def test_detect_shared_number_none() -> None:
    """Twelve zeros are valid for FedEx and Purolator, so no carrier is guessed."""
    assert check_tracking("FedEx", "000000000000").status is TrackingStatus.VALID
    assert check_tracking("Purolator", "000000000000").status is TrackingStatus.VALID
    assert detect_carrier("000000000000") is None


def test_detect_lasership_number_is_ontrac() -> None:
    """LaserShip's numbers are OnTrac's since the two merged."""
    carrier = detect_carrier("LX17635036")
    assert carrier is not None
    assert carrier.name == "OnTrac"


@pytest.mark.parametrize(
    ("country", "name"),
    [
        ("GB", "Royal Mail"),
        ("US", "USPS"),
        ("CA", "Canada Post"),
        ("AU", "Australia Post"),
        ("NL", "PostNL"),
        ("DE", "Deutsche Post"),
        ("FR", "La Poste"),
        ("CN", "International Mail"),
    ],
)
def test_detect_s10_country_post(country: str, name: str) -> None:
    """The country code of an S10 number names its postal carrier."""
    carrier = detect_carrier("RB123456785" + country)
    assert carrier is not None
    assert carrier.name == name


def test_detect_s10_unknown_country_none() -> None:
    """An S10 number with an unknown country code gets no carrier."""
    assert detect_carrier("RB123456785XX") is None


def test_tracking_url_encodes_number() -> None:
    """The tracking number is URL-encoded in the address."""
    carrier = find_carrier("USPS")
    assert carrier is not None
    assert (
        tracking_url(carrier, "94 00&1")
        == "https://tools.usps.com/go/TrackConfirmAction?tLabels=94%2000%261"
    )


# --- patterns for columnar detection ----------------------------------------------------------

_PATTERN_SAMPLES = [
    "TBA000000000000",
    "C1004444443",
    "D576002440000001718010",
    "JJD0099999999",
    "JVGL0999999990",
    "60120172242323",
    "GFUS01011884214464",
    "LTN74207623N1",
    "LX17635036",
    "1LS717793482164",
    "1LS7119013618127-1",
    "1LSCXVE005BUEFX",
    "SP029692510000920746",
    "JD0002242617644732",
    "YT2229521272164446",
]


@pytest.mark.parametrize(("pattern", "name"), NUMBER_PATTERNS)
def test_number_pattern_compiles_in_re2(pattern: str, name: str) -> None:
    """pyarrow's RE2 reads every pattern, and each matches one of the samples."""
    matched = pc.match_substring_regex(pa.array(_PATTERN_SAMPLES), pattern)
    assert True in matched.to_pylist()


@pytest.mark.parametrize("number", _PATTERN_SAMPLES)
def test_number_pattern_agrees_with_detection(number: str) -> None:
    """A number that a pattern matches is detected as that pattern's carrier, and no other."""
    named = [name for pattern, name in NUMBER_PATTERNS if re.search(pattern, number)]
    detected = detect_carrier(number)
    assert detected is not None
    assert named == [detected.name]


@pytest.mark.parametrize(
    "number",
    [
        # Valid UPS waybill and Amazon International numbers, which no pattern can tell apart.
        "A1506235620",
        # Valid Purolator and DHL Express piece ID numbers.
        "JFV247545960",
        # A 1Z number whose check digit a pattern cannot check.
        "1Z5R89390357567128",
    ],
)
def test_number_pattern_leaves_out_doubtful(number: str) -> None:
    """A number whose carrier needs more than a pattern to tell matches no pattern."""
    assert [name for pattern, name in NUMBER_PATTERNS if re.search(pattern, number)] == []


# --- check digits of numeric formats --------------------------------------------------------
#
# Test numbers from the public data set jkeen/tracking_number_data (MIT licence), commit
# b79ce4bfc04519ef4bc85bf7c6f321795aadf3d3, with their spaces removed.

VALID_NUMBERS = [
    ("Canada Post", "0073938000549297"),
    ("USPS", "03071790000523483741"),
    ("USPS", "71969010756003077385"),
    ("USPS", "9101123456789000000013"),
    ("USPS", "420221539101026837331000039521"),
    ("USPS", "9400111206206406260787"),
    ("USPS", "420787459400111206206406260787"),
    ("USPS", "9505511069605048600624"),
    ("USPS", "92748931507708513018050063"),
    ("USPS", "4201002334249200190132607600833457"),
    ("FedEx", "986578788855"),
    ("FedEx", "041441760228964"),
    ("FedEx", "000123450000000027"),
    ("FedEx", "9611020987654312345672"),
    ("FedEx", "32971514560102447849175802862014"),
    ("FedEx", "1001921334250001000300779017972697"),
    ("FedEx", "9622001560001234567100794808390594"),
    ("DHL Express", "3318810025"),
    ("DHL Express", "73891051146"),
    ("Purolator", "320595463938"),
    ("Old Dominion", "07209562763"),
]

INVALID_NUMBERS = [
    ("Canada Post", "0073938000549292"),
    ("USPS", "03071790000523483742"),
    ("USPS", "9101123456789000000014"),
    ("USPS", "9434611206206407667131"),
    ("USPS", "4201028200009261290113185417468511"),
    ("FedEx", "996578788855"),
    ("FedEx", "568283610012732"),
    ("FedEx", "9600000000000000000001"),
    ("FedEx", "32971514560102447849175802852014"),
    ("FedEx", "1001901781990001000300617767839438"),
    ("DHL Express", "3318810010"),
    ("Purolator", "320595463939"),
    ("Old Dominion", "07209562773"),
]


@pytest.mark.parametrize(("carrier", "number"), VALID_NUMBERS)
def test_check_digit_valid(carrier: str, number: str) -> None:
    """A published valid number passes its carrier's check digit."""
    assert validate_check_digit(carrier, number) is True


@pytest.mark.parametrize(("carrier", "number"), INVALID_NUMBERS)
def test_check_digit_invalid(carrier: str, number: str) -> None:
    """A published number with a wrong check digit fails it."""
    assert validate_check_digit(carrier, number) is False


def test_check_digit_of_sscc_with_application_identifier() -> None:
    """A FedEx SSCC-18 with GS1's "00" before it has a valid check digit."""
    assert validate_check_digit("FedEx", "00" + "000123450000000027") is True


def test_check_digit_service_name_accepted() -> None:
    """A service name finds the carrier whose formats are checked."""
    assert validate_check_digit("FedEx Ground", "041441760228964") is True


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        ("Canada Post", "12345"),
        ("USPS", "2334611306206407667222"),
        ("Purolator", "KYV009956937"),
        ("DHL Express", "JJD0099999999"),
        ("UPS", "1Z5R89390357567127"),
        ("DPD", "09980000020033F"),
        ("DHL eCommerce", "60120172242323"),
        ("Speedy Couriers", "0073938000549297"),
    ],
    ids=[
        "too-short",
        "wrong-prefix",
        "letters",
        "piece-id",
        "not-all-digits",
        "check-letter",
        "no-check-digit",
        "unknown",
    ],
)
def test_check_digit_no_format(carrier: str, number: str) -> None:
    """None means that no all-digit format with a check digit of the carrier fits the number."""
    assert validate_check_digit(carrier, number) is None


# --- leading zeros lost --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "number", "guess"),
    [
        ("Canada Post", "73938000549297", "0073938000549297"),
        ("USPS", "3071790000523483741", "03071790000523483741"),
        ("FedEx", "41441760228964", "041441760228964"),
        ("Old Dominion", "7209562763", "07209562763"),
        # Built for this test: the published numbers of these do not start with 0.
        ("Purolator", "20595463934", "020595463934"),
        ("DHL Express", "848713552", "0848713552"),
    ],
)
def test_lost_zeros_guessed(carrier: str, number: str, guess: str) -> None:
    """A number shortened by lost leading zeros is padded back to a valid number."""
    assert guess_lost_zeros(carrier, number) == guess


def test_lost_zeros_valid_number_not_guessed() -> None:
    """A number that is valid as given gets no guess."""
    assert guess_lost_zeros("Canada Post", "0073938000549297") is None


def test_lost_zeros_wrong_check_digit_not_guessed() -> None:
    """No guess is made when no padding gives a valid check digit."""
    assert guess_lost_zeros("Canada Post", "73938000549292") is None


def test_lost_zeros_beyond_limit_not_guessed() -> None:
    """More than MAX_LOST_ZEROS missing zeros are not guessed, however valid the padding."""
    # Built for this test: 0000012345678905 is a valid Canada Post number.
    assert MAX_LOST_ZEROS < 5
    assert validate_check_digit("Canada Post", "0000012345678905") is True
    assert guess_lost_zeros("Canada Post", "12345678905") is None


def test_lost_zeros_unknown_carrier_not_guessed() -> None:
    """A carrier without numeric formats gets no guess."""
    assert guess_lost_zeros("Speedy Couriers", "73938000549297") is None


def test_lost_zeros_no_check_digit_not_guessed() -> None:
    """Any padding would fit a format without a check digit, so none is guessed from it."""
    assert guess_lost_zeros("DHL eCommerce", "6012017224232") is None


def test_lost_zeros_dpd_not_guessed() -> None:
    """DPD's 14-digit parcel numbers are not taken for 15-digit ones that lost a zero."""
    # Built for this test: DPD's check character of 09980000020036 is the digit 9.
    assert check_tracking("DPD", "099800000200369").status is TrackingStatus.VALID
    assert guess_lost_zeros("DPD", "99800000200369") is None


def test_lost_zeros_letters_not_guessed() -> None:
    """Only all-digit numbers can have lost leading zeros."""
    assert guess_lost_zeros("Canada Post", "A73938000549297") is None


def test_shortened_lengths_of_carrier() -> None:
    """The shortened lengths are the carrier's numeric lengths less 1 to MAX_LOST_ZEROS."""
    assert shortened_lengths("Canada Post") == frozenset(range(16 - MAX_LOST_ZEROS, 16))


def test_shortened_lengths_no_check_digit() -> None:
    """A carrier whose formats have no check digit has no shortened lengths."""
    assert shortened_lengths("Amazon Logistics") == frozenset()
