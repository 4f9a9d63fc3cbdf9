"""Tracking-number formats: their patterns, lengths and check digits, and whose numbers they are.

The formats, their lengths and check-digit rules follow the public data set
jkeen/tracking_number_data (MIT licence), commit
b79ce4bfc04519ef4bc85bf7c6f321795aadf3d3, rewritten here as Python data. The
data set's patterns allow spaces between characters. The caller removes spaces
first, so the patterns here match the bare upper-case number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import mul

# A check-digit rule computes the value the check character must have, from
# the characters it covers: 0-9 for a digit, 10-35 for A-Z (DPD's check letters).
CheckRule = Callable[[str], int]


@dataclass(frozen=True)
class NumberFormat:
    """A tracking-number format of one carrier.

    `pattern` must match the whole upper-case number. In a format with a check
    digit, its group "serial" contains the characters that the check digit
    covers, and its group "check" is the check character.
    """

    name: str
    lengths: tuple[int, ...]
    pattern: re.Pattern[str]
    check_rule: CheckRule | None = None
    # USPS labels may put the routing code "420" and a 5- or 9-digit ZIP code before the
    # number; the check digit does not cover it.
    routing_code: bool = False
    carrier: str = ""
    # True when a number of this format is enough to doubt a row that names another
    # carrier. The comment of each format in FORMATS gives the reason.
    distinctive: bool = False
    # True when the format's numbers are digits only, so that a spreadsheet may read one
    # as a number and strip its leading zeros, and guess_lost_zeros pads them back.
    may_lose_zeros: bool = False
    # Prepended to the serial before the check unless the serial already starts with it
    # (the data set's "prepend_if").
    serial_prefix: str = ""
    # True for UPU S10 numbers. Their last two letters name the country of the postal
    # operator that issued them, and `carrier` is the operator of the countries that
    # have no carrier of their own here.
    country_suffix: bool = False
    # The name of the format in jkeen/tracking_number_data that this one follows, if any.
    data_set_name: str = ""


# --- check-digit rules -------------------------------------------------------------------

# The data set's mod 10 reads a letter as (its code point - 3) mod 10, as UPS does for
# the letters of its 1Z numbers: A is 2, B is 3 and so on.
_MOD10_VALUES = str.maketrans({chr(code): str((code - 3) % 10) for code in range(65, 91)})
# The digit sum of twice each digit, for Luhn's doubled positions.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
_ZERO = ord("0")


def _digit_sum(digits: str) -> int:
    # Summing the ASCII codes is several times faster than int() per character.
    return sum(digits.encode()) - _ZERO * len(digits)


def mod10(evens: int, odds: int, *, reverse: bool = False) -> CheckRule:
    """Build a weighted mod-10 rule as the data set defines it.

    Counting from 0 at the first character (the last when `reverse`), characters
    at even positions are multiplied by `evens` and those at odd positions by `odds`.
    """

    def check_digit(serial: str) -> int:
        digits = serial.translate(_MOD10_VALUES)
        if reverse:
            digits = digits[::-1]
        total = evens * _digit_sum(digits[0::2]) + odds * _digit_sum(digits[1::2])
        return -total % 10

    return check_digit


def mod7(digits: str) -> int:
    """Compute the mod-7 check digit: the remainder of the number divided by 7."""
    return int(digits) % 7


def luhn(digits: str) -> int:
    """Compute the Luhn check digit, which doubles every second digit from the right."""
    from_right = digits[::-1]
    total = _digit_sum(from_right[0::2].translate(_LUHN_DOUBLED)) + _digit_sum(from_right[1::2])
    return -total % 10


def weighted(weights: tuple[int, ...], modulo1: int, modulo2: int) -> CheckRule:
    """Build a rule that sums each digit times its weight, then takes two remainders."""

    def check_digit(digits: str) -> int:
        if len(digits) != len(weights):
            raise ValueError(f"expected {len(weights)} digits, got {len(digits)}")
        total: int = sum(map(mul, map(int, digits), weights))
        return total % modulo1 % modulo2

    return check_digit


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(digits: str) -> int:
    """Compute the UPU S10 check digit of the 8-digit serial (weights 8 6 4 2 3 5 9 7, mod 11)."""
    check = 11 - weighted(_S10_WEIGHTS, 11, 11)(digits)
    # The mod-11 check digit has 11 values for 10 digits, so S10 writes 10 as 0 and 11 as 5.
    return {10: 0, 11: 5}.get(check, check)


def mod37_36(characters: str) -> int:
    """Compute DPD's check character (ISO/IEC 7064 MOD 37,36) as a value from 0 to 35."""
    product = 36
    for character in characters:
        total = (product + int(character, 36)) % 36 or 36
        product = total * 2 % 37
    return (37 - product) % 36


# --- the formats -------------------------------------------------------------------------

# Country codes that end a valid S10 number: the UPU member countries listed in the data
# set's couriers/s10.json, read at commit 01405b44303017cb2cfaca4e66f82e4cc7e17d9d. Taiwan,
# Jersey, Guernsey and the Isle of Man are not among them, so their numbers are invalid here.
_S10_COUNTRY_CODES = """
    AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD
    CF CG CH CI CL CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FR GA
    GB GD GE GH GM GN GQ GR GT GW GY HK HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG
    KH KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MK ML MM MN MR
    MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL PT PY QA RO RS RU
    RW SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT
    TV TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW
"""
S10_COUNTRIES = frozenset(_S10_COUNTRY_CODES.split())

# The carriers here that are the postal operator of an S10 country. Numbers of other
# countries belong to INTERNATIONAL_MAIL.
S10_POSTS = {
    "AT": "Austrian Post",
    "AU": "Australia Post",
    "BE": "bpost",
    "CA": "Canada Post",
    "DE": "Deutsche Post",
    "DK": "PostNord",
    "FR": "La Poste",
    "GB": "Royal Mail",
    "IE": "An Post",
    "IT": "Poste Italiane",
    "NL": "PostNL",
    "SE": "PostNord",
    "US": "USPS",
}
INTERNATIONAL_MAIL = "International Mail"


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.ASCII)


_FEDEX_12_WEIGHTS = (3, 1, 7) * 3 + (3, 1)
_FEDEX_34_WEIGHTS = (1, 7, 3) * 4 + (1,)
_DHL_ECOMMERCE_LENGTHS = tuple(range(12, 42))  # a 2-letter prefix and 10 to 39 characters

# The shipper ID and package ID of an Intelligent Mail package barcode (IMpb). The
# shipper ID has 9 digits starting with 9 or 6 digits starting with 0 to 8. The package
# ID after it makes the serial 21 or 25 digits long, or 29 for "94" numbers only.
_IMPB_LONG_SHIPPER = r"9[0-9]{8}(?:[0-9]{11}|[0-9]{7})"
_IMPB_SHORT_SHIPPER = r"[0-8][0-9]{5}(?:[0-9]{14}|[0-9]{10})"
_IMPB_LENGTHS = (22, 26, 30, 34)

FORMATS: tuple[NumberFormat, ...] = (
    # --- UPS ---
    # "1Z" and a mod-10 check digit: no other carrier's number starts this way.
    NumberFormat(
        "UPS 1Z",
        (18,),
        _pattern(r"1Z(?P<serial>[0-9A-Z]{15})(?P<check>[0-9])"),
        mod10(1, 2),
        carrier="UPS",
        distinctive=True,
        data_set_name="UPS",
    ),
    # One letter and ten digits is also the shape of many order and reference numbers.
    NumberFormat(
        "UPS Waybill",
        (11,),
        _pattern(r"[AHJKTV](?P<serial>[0-9]{9})(?P<check>[0-9])"),
        mod10(1, 2),
        carrier="UPS",
        data_set_name="UPS Waybill",
    ),
    # --- USPS ---
    # Twenty digits with a mod-10 check digit pass by chance for one number in ten.
    NumberFormat(
        "USPS 20",
        (20,),
        _pattern(r"(?P<serial>[0-9]{19})(?P<check>[0-9])"),
        mod10(3, 1),
        carrier="USPS",
        may_lose_zeros=True,
        data_set_name="USPS 20",
    ),
    # The same twenty digits, checked as if "91" came before them.
    NumberFormat(
        "USPS Legacy (20)",
        (20,),
        _pattern(r"(?P<serial>[0-9]{19})(?P<check>[0-9])"),
        mod10(3, 1),
        carrier="USPS",
        may_lose_zeros=True,
        serial_prefix="91",
        data_set_name="USPS Legacy",
    ),
    # The "91" application identifier, or the "420" routing code before the number, and a
    # check digit over 20 or more digits.
    NumberFormat(
        "USPS Legacy (22)",
        (22, 28, 30, 32, 34),
        _pattern(r"(?P<serial>(?:91)?[0-9]{19})(?P<check>[0-9])"),
        mod10(3, 1),
        routing_code=True,
        carrier="USPS",
        distinctive=True,
        may_lose_zeros=True,
        serial_prefix="91",
        data_set_name="USPS Legacy",
    ),
    # IMpb: 22 to 34 digits starting with 92 to 95 (or "420" and a ZIP code) with a check
    # digit; FedEx's 22-digit numbers start with 96 instead. The data set weights the
    # digits of the "94" form from the right and the others from the left.
    NumberFormat(
        "USPS IMpb",
        _IMPB_LENGTHS,
        _pattern(
            rf"(?P<serial>94[0-9]{{3}}(?:9[0-9]{{8}}[0-9]{{15}}|{_IMPB_LONG_SHIPPER}"
            rf"|{_IMPB_SHORT_SHIPPER}))(?P<check>[0-9])"
        ),
        mod10(3, 1, reverse=True),
        routing_code=True,
        carrier="USPS",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="USPS IMpb N",
    ),
    NumberFormat(
        "USPS IMpb (92, 93, 95)",
        _IMPB_LENGTHS,
        _pattern(
            rf"(?P<serial>92[0-9]{{3}}{_IMPB_LONG_SHIPPER}|93[0-9]{{3}}{_IMPB_SHORT_SHIPPER}"
            rf"|95[0-9]{{3}}(?:{_IMPB_LONG_SHIPPER}|{_IMPB_SHORT_SHIPPER}))(?P<check>[0-9])"
        ),
        mod10(3, 1),
        routing_code=True,
        carrier="USPS",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="USPS IMpb C",
    ),
    # --- FedEx ---
    # Twelve digits with a check digit are common to FedEx, Purolator and others.
    NumberFormat(
        "FedEx Express (12)",
        (12,),
        _pattern(r"(?P<serial>[0-9]{11})(?P<check>[0-9])"),
        weighted(_FEDEX_12_WEIGHTS, 11, 10),
        carrier="FedEx",
        may_lose_zeros=True,
        data_set_name="FedEx Express (12)",
    ),
    # Fifteen digits with a mod-10 check digit, like DPD's 15-character numbers that end
    # in a digit.
    NumberFormat(
        "FedEx Ground (15)",
        (15,),
        _pattern(r"(?P<serial>[0-9]{14})(?P<check>[0-9])"),
        mod10(1, 3),
        carrier="FedEx",
        may_lose_zeros=True,
        data_set_name="FedEx Ground",
    ),
    # An SSCC-18 is GS1's shipping container code, which any shipper may print.
    NumberFormat(
        "FedEx Ground SSCC-18 (18)",
        (18,),
        _pattern(r"[0-9]{2}(?P<serial>[0-9]{15})(?P<check>[0-9])"),
        mod10(3, 1),
        carrier="FedEx",
        may_lose_zeros=True,
        data_set_name="FedEx Ground (SSCC-18)",
    ),
    # GS1's application identifier "00" before an 18-digit SSCC, whose check digit GS1
    # computes over all 17 digits before it. Any shipper may print it too.
    NumberFormat(
        "FedEx Ground SSCC-18 (20)",
        (20,),
        _pattern(r"00(?P<serial>[0-9]{17})(?P<check>[0-9])"),
        mod10(3, 1),
        carrier="FedEx",
        may_lose_zeros=True,
    ),
    # "96" and 20 more digits with a check digit: USPS's 22-digit numbers start with 91 to 95.
    NumberFormat(
        "FedEx Ground 96 (22)",
        (22,),
        _pattern(r"96[0-9]{5}(?P<serial>[0-9]{14})(?P<check>[0-9])"),
        mod10(1, 3),
        carrier="FedEx",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="FedEx Ground 96 (22)",
    ),
    # 32 digits starting with 3, with a check digit: USPS's 32-digit numbers start with 420.
    NumberFormat(
        "FedEx ASTRA (32)",
        (32,),
        _pattern(r"3[0-9]{15}(?P<serial>[0-9]{11})(?P<check>[0-9])[0-9]{4}"),
        weighted(_FEDEX_12_WEIGHTS, 11, 10),
        carrier="FedEx",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="FedEx ASTRA (32)",
    ),
    # 34 digits with a check digit. A USPS number with a routing code can have 34 digits
    # too, and when it passes both checks neither carrier is named.
    NumberFormat(
        "FedEx Express (34)",
        (34,),
        _pattern(r"[0-8][0-9]{19}(?P<serial>[0-9]{13})(?P<check>[0-9])"),
        weighted(_FEDEX_34_WEIGHTS, 11, 10),
        carrier="FedEx",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="FedEx Express (34)",
    ),
    # "96" and 32 more digits with a check digit: USPS's 34-digit numbers start with 420.
    NumberFormat(
        "FedEx Ground GSN (34)",
        (34,),
        _pattern(r"96[0-9]{18}(?P<serial>[0-9]{13})(?P<check>[0-9])"),
        weighted(_FEDEX_34_WEIGHTS, 11, 10),
        carrier="FedEx",
        distinctive=True,
        may_lose_zeros=True,
        data_set_name="FedEx Ground GSN",
    ),
    # --- DHL ---
    # Ten or eleven digits pass DHL's mod 7 by chance for one number in seven.
    NumberFormat(
        "DHL Express (10 or 11)",
        (10, 11),
        _pattern(r"(?P<serial>[0-9]{9,10})(?P<check>[0-9])"),
        mod7,
        carrier="DHL Express",
        may_lose_zeros=True,
        data_set_name="DHL Express",
    ),
    # "J" and two or three letters is the form of ISO 15459 licence plates, which other
    # companies print too (Yodel's numbers start with "JJD"), and there is no check digit.
    NumberFormat(
        "DHL Express (Piece ID)",
        (12, 13, 14),
        _pattern(r"J[A-Z]{2,3}[0-9]{9,10}"),
        carrier="DHL Express",
        data_set_name="DHL Express (Piece ID)",
    ),
    # "GM" (DHL Global Mail) and at least one digit: no other carrier's numbers start so.
    NumberFormat(
        "DHL eCommerce (GM)",
        _DHL_ECOMMERCE_LENGTHS,
        _pattern(r"GM(?=[0-9A-Z]*[0-9])[0-9A-Z]{10,39}"),
        carrier="DHL eCommerce",
        distinctive=True,
        data_set_name="DHL E-Commerce",
    ),
    # These prefixes are also S10 service codes and country codes, and there is no check digit.
    NumberFormat(
        "DHL eCommerce",
        _DHL_ECOMMERCE_LENGTHS,
        _pattern(r"(?:LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[0-9A-Z]*[0-9])[0-9A-Z]{10,39}"),
        carrier="DHL eCommerce",
        data_set_name="DHL E-Commerce",
    ),
    # Any 14 digits, with no check digit.
    NumberFormat(
        "DHL eCommerce (14)",
        (14,),
        _pattern(r"[0-9]{14}"),
        carrier="DHL eCommerce",
        may_lose_zeros=True,
        data_set_name="DHL E-Commerce (14)",
    ),
    # --- DPD ---
    # 28 characters with a mod 37,36 check character, which passes by chance for one
    # number in 36. A USPS number with a routing code may also have 28 digits, and when
    # it passes both checks neither carrier is named.
    NumberFormat(
        "DPD (28)",
        (28,),
        _pattern(r"(?P<serial>[0-9]{27})(?P<check>[0-9A-Z])"),
        mod37_36,
        carrier="DPD",
        distinctive=True,
        data_set_name="DPD (28)",
    ),
    # Fourteen digits and a check character: the shape of many 15-character references.
    # DPD's 14-digit parcel number is often written without its check character, and a
    # zero before it passes the check by chance for one number in 36, so no lost zeros
    # are guessed for either DPD format.
    NumberFormat(
        "DPD (14)",
        (15,),
        _pattern(r"(?P<serial>[0-9]{14})(?P<check>[0-9A-Z])"),
        mod37_36,
        carrier="DPD",
        data_set_name="DPD (14)",
    ),
    # --- Amazon ---
    # "TBA", "TBC" or "TBM" starts only Amazon's numbers.
    NumberFormat(
        "Amazon Logistics",
        (15,),
        _pattern(r"TB[ACM][0-9]{12}"),
        carrier="Amazon Logistics",
        distinctive=True,
        data_set_name="Amazon Logistics",
    ),
    # One letter and ten digits, with no check digit.
    NumberFormat(
        "Amazon International",
        (11,),
        _pattern(r"[AFC][0-9]{10}"),
        carrier="Amazon Logistics",
        data_set_name="Amazon International",
    ),
    # --- Canada ---
    # Sixteen digits with a mod-10 check digit pass by chance for one number in ten.
    NumberFormat(
        "Canada Post (16)",
        (16,),
        _pattern(r"(?P<serial>[0-9]{15})(?P<check>[0-9])"),
        mod10(3, 1),
        carrier="Canada Post",
        may_lose_zeros=True,
        data_set_name="Canada Post (16)",
    ),
    # One of eight letters and 21 digits, with no check digit to confirm it.
    NumberFormat(
        "Canpar (22)",
        (22,),
        _pattern(r"[CDKLSUXZ][0-9]{21}"),
        carrier="Canpar",
        data_set_name="Canpar (22)",
    ),
    # Twelve digits with a Luhn check digit, like FedEx's twelve digits with theirs.
    NumberFormat(
        "Purolator (12)",
        (12,),
        _pattern(r"(?P<serial>[0-5][0-9]{10})(?P<check>[0-9])"),
        luhn,
        carrier="Purolator",
        may_lose_zeros=True,
        data_set_name="Purolator (12)",
    ),
    # Three letters and nine digits, with no check digit.
    NumberFormat(
        "Purolator (alpha + 9)",
        (12,),
        _pattern(r"[A-Z]{3}[0-9]{9}"),
        carrier="Purolator",
        data_set_name="Purolator (alpha + 9)",
    ),
    # --- OnTrac, which took over LaserShip in 2024 ---
    # LaserShip's letter prefixes ("LX", "1LS") and OnTrac's "C" or "D" with a check digit
    # start no other carrier's numbers of these lengths.
    NumberFormat(
        "LaserShip LX",
        (10,),
        _pattern(r"L[AIEHNX][1-3][0-9]{7}"),
        carrier="OnTrac",
        distinctive=True,
        data_set_name="LaserShip LX",
    ),
    NumberFormat(
        "LaserShip 1LS7 (15)",
        (15,),
        _pattern(r"1LS7[12][0-9]{10}"),
        carrier="OnTrac",
        distinctive=True,
        data_set_name="LaserShip 1LS7 (15)",
    ),
    NumberFormat(
        "LaserShip 1LS7 (18)",
        (18,),
        _pattern(r"1LS7[12][0-9]{2}01[1-4][0-9]{6}-1"),
        carrier="OnTrac",
        distinctive=True,
        data_set_name="LaserShip 1LS7 (18)",
    ),
    NumberFormat(
        "LaserShip 1LSCX (15)",
        (15,),
        _pattern(r"1LSCX[0-9A-Z]{10}"),
        carrier="OnTrac",
        distinctive=True,
        data_set_name="LaserShip 1LSCX (15)",
    ),
    NumberFormat(
        "OnTrac C",
        (15,),
        _pattern(r"C(?P<serial>[0-9]{13})(?P<check>[0-9])"),
        mod10(1, 2),
        carrier="OnTrac",
        distinctive=True,
        serial_prefix="4",
        data_set_name="OnTrac",
    ),
    NumberFormat(
        "OnTrac D",
        (15,),
        _pattern(r"D(?P<serial>[0-9]{13})(?P<check>[0-9])"),
        mod10(1, 2),
        carrier="OnTrac",
        distinctive=True,
        serial_prefix="5",
        data_set_name="OnTrac D",
    ),
    # --- other carriers of the data set ---
    # Eleven digits with a Luhn check digit, like many freight PRO numbers.
    NumberFormat(
        "Old Dominion",
        (11,),
        _pattern(r"(?P<serial>(?:77[78]|072|780)[0-9]{7})(?P<check>[0-9])"),
        luhn,
        carrier="Old Dominion",
        may_lose_zeros=True,
        data_set_name="Old Dominion",
    ),
    # The same for the numbers of Old Dominion's guaranteed service.
    NumberFormat(
        "Old Dominion Guaranteed",
        (11,),
        _pattern(r"(?P<serial>80[0-9]{8})(?P<check>[0-9])"),
        luhn,
        carrier="Old Dominion",
        may_lose_zeros=True,
        data_set_name="Old Dominion Guaranteed Shipment",
    ),
    # "GFUS", "LTN", "SP" and "YT" start no other carrier's numbers of these lengths.
    NumberFormat(
        "GOFO Express (US)",
        (18,),
        _pattern(r"GFUS[0-9]{14}"),
        carrier="GOFO Express",
        distinctive=True,
        data_set_name="GOFO Express (US)",
    ),
    NumberFormat(
        "Landmark Global LTN",
        (13,),
        _pattern(r"LTN[0-9]{8}N1"),
        carrier="Landmark Global",
        distinctive=True,
        data_set_name="Landmark Global LTN",
    ),
    NumberFormat(
        "Spee-Dee (20)",
        (20,),
        _pattern(r"SP[0-9]{18}"),
        carrier="Spee-Dee Delivery",
        distinctive=True,
        data_set_name="Spee-Dee (20)",
    ),
    NumberFormat(
        "YunExpress",
        (18,),
        _pattern(r"YT[0-9]{16}"),
        carrier="YunExpress",
        distinctive=True,
        data_set_name="YunExpress",
    ),
    # "JJD" also starts DHL's piece IDs, and there is no check digit.
    NumberFormat(
        "Yodel",
        (18, 19),
        _pattern(r"JJ?D[0-9]{16}"),
        carrier="Yodel",
        data_set_name="Yodel",
    ),
    # --- UPU S10, the international numbering of the postal operators ---
    # Two letters, eight digits, a check digit and a known country: no courier's numbers
    # have this form.
    NumberFormat(
        "UPU S10",
        (13,),
        _pattern(
            r"[A-Z]{2}(?P<serial>[0-9]{8})(?P<check>[0-9])(?:"
            + "|".join(sorted(S10_COUNTRIES))
            + ")"
        ),
        s10,
        carrier=INTERNATIONAL_MAIL,
        distinctive=True,
        country_suffix=True,
        data_set_name="S10",
    ),
)

# Formats of other carriers that a carrier's own labels carry, so that such a number
# under that carrier's name is no mistake.
_IMPB = ("USPS IMpb", "USPS IMpb (92, 93, 95)")
_S10 = ("UPU S10",)
ACCEPTED_FORMATS: dict[str, tuple[str, ...]] = {
    # FedEx Ground Economy (formerly SmartPost) parcels are delivered by USPS, and
    # shipping tools may give their USPS IMpb number.
    "FedEx": _IMPB,
    # UPS SurePost, Ground Saver and Mail Innovations parcels are delivered by USPS, and
    # shipping tools may give their USPS number.
    "UPS": _IMPB,
    # DHL eCommerce hands parcels to USPS in the US and to postal operators abroad.
    "DHL eCommerce": _IMPB + _S10,
    # Consolidators that hand parcels to postal operators for delivery.
    "Landmark Global": _S10,
    "YunExpress": _S10,
    # A postal operator delivers the S10 items of every other operator and tracks them
    # under the number the sender's operator gave, so any country's S10 number is valid
    # under a postal carrier's name. Parcelforce is Royal Mail Group's parcel service.
    "Parcelforce": _S10,
    **{post: _S10 for post in S10_POSTS.values()},
}

# Tracking-number formats that name their carrier by pattern alone, as (pattern of the
# upper-case number, carrier name): a number that matches one is detected as that
# carrier. Formats with a check digit are left out, since a regular expression cannot
# check it, and so are patterns that some other carrier's valid number can match. The
# patterns use only syntax that both Python's re and RE2 (pyarrow's regular
# expressions) read alike.
NUMBER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("^TB[ACM][0-9]{12}$", "Amazon Logistics"),
    # "A" is left out: A and ten digits may also be a valid UPS waybill number.
    ("^[CF][0-9]{10}$", "Amazon Logistics"),
    ("^[CDKLSUXZ][0-9]{21}$", "Canpar"),
    # Twelve characters are left out: J and two letters and nine digits is also Purolator's.
    ("^J[A-Z]{2}[0-9]{10}$", "DHL Express"),
    ("^J[A-Z]{3}[0-9]{9,10}$", "DHL Express"),
    ("^[0-9]{14}$", "DHL eCommerce"),
    ("^GFUS[0-9]{14}$", "GOFO Express"),
    ("^LTN[0-9]{8}N1$", "Landmark Global"),
    ("^L[AIEHNX][1-3][0-9]{7}$", "OnTrac"),
    ("^1LS7[12][0-9]{10}$", "OnTrac"),
    ("^1LS7[12][0-9]{2}01[1-4][0-9]{6}-1$", "OnTrac"),
    ("^1LSCX[0-9A-Z]{10}$", "OnTrac"),
    ("^SP[0-9]{18}$", "Spee-Dee Delivery"),
    ("^JJ?D[0-9]{16}$", "Yodel"),
    ("^YT[0-9]{16}$", "YunExpress"),
)
