"""Tests for importer.mapping: matching file headers to fields with column templates."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from importer.errors import ConfigError, InputFileError, MissingColumnsError, UsageError
from importer.load import Table, load_table
from importer.mapping import (
    FIELD_LABELS,
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    ColumnMapping,
    Template,
    confirmation_message,
    header_score,
    load_template,
    load_templates,
    match_template,
    normalize_header,
    parse_overrides,
    templates_folder,
)

SHIPSTATION_HEADERS = (
    "Order - Number,Date - Shipped Date,Ship To - Name,Ship To - City,Shipment - Carrier,"
    "Shipment - Service,Shipment - Tracking Number,Item - SKU,Item - Name,Item - Qty"
)
WORLDSHIP_HEADERS = (
    "Ship Date,Tracking Number,Service Type,Reference 1,Reference 2,Ship To Company or Name,"
    "Ship To City,Ship To State,Ship To Postal Code,Package Weight"
)
GENERIC_HEADERS = "Order ID,Tracking Number,Carrier,Tracking URL,Price ID,Qty,Notify Customer"


def table_with(folder: Path, header_line: str, *data_lines: str) -> Table:
    """Write a CSV file with the given lines and load it."""
    path = folder / "shipments.csv"
    path.write_text("\n".join([header_line, *data_lines]) + "\n", encoding="utf-8")
    return load_table(path)


def make_template(name: str, fields: dict[str, tuple[str, ...]]) -> Template:
    return Template(
        name=name,
        description="",
        source="",
        fields=MappingProxyType(fields),
        path=Path(f"{name}.toml"),
    )


def write_template(folder: Path, file_name: str, text: str) -> Path:
    path = folder / file_name
    path.write_text(text, encoding="utf-8")
    return path


def missing_columns(table: Table, templates: list[Template], forced: str | None = None) -> str:
    with pytest.raises(MissingColumnsError) as caught:
        match_template(table, templates, forced=forced)
    return str(caught.value)


@pytest.fixture(scope="module")
def templates() -> list[Template]:
    return load_templates()


# --- normalize_header -------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Order ID", "order id"),
        ("order_id", "order id"),
        ("orderId", "order id"),
        ("ORDER-ID", "order id"),
        ("Tracking #", "tracking #"),
        ("Tracking#", "tracking #"),
        ("Order - Number", "order number"),
        ("  Order \t  Number ", "order number"),
        ("\ufeffOrder\xa0ID", "order id"),
        ("TrackingURL", "tracking url"),
        ("trackingNo", "tracking no"),
        ("Reference1", "reference 1"),
        ("Qty.", "qty"),
        ("Ship To - Name", "ship to name"),
    ],
)
def test_normalize_header_forms(header: str, expected: str) -> None:
    """Spellings of one header reduce to the same lowercase words."""
    assert normalize_header(header) == expected


# --- built-in templates ------------------------------------------------------------


def test_templates_folder_in_checkout() -> None:
    """A source checkout finds the templates folder next to the package."""
    assert templates_folder() == Path(__file__).parents[1] / "templates"


def test_builtin_templates_load(templates: list[Template]) -> None:
    """Every built-in template loads and defines the required fields."""
    assert {"generic", "shipstation", "ups_worldship"} <= {template.name for template in templates}
    for template in templates:
        assert set(REQUIRED_FIELDS) <= set(template.fields)
        assert set(template.fields) <= set(TEMPLATE_FIELDS)
        assert template.description
        assert template.source


def test_field_labels_cover_fields() -> None:
    """Every canonical field has a human name for messages."""
    assert set(FIELD_LABELS) == set(TEMPLATE_FIELDS)


def test_shipstation_export_matched(tmp_path: Path, templates: list[Template]) -> None:
    """ShipStation's "Group - Field" headers pick the shipstation template."""
    table = table_with(tmp_path, SHIPSTATION_HEADERS)

    mapping = match_template(table, templates)

    assert mapping.template.name == "shipstation"
    assert mapping.header_of("order_id") == "Order - Number"
    assert mapping.header_of("tracking_number") == "Shipment - Tracking Number"
    assert mapping.header_of("carrier") == "Shipment - Carrier"
    assert mapping.header_of("sku") == "Item - SKU"
    assert mapping.header_of("qty") == "Item - Qty"
    assert mapping.score == 1.0


def test_worldship_export_matched(tmp_path: Path, templates: list[Template]) -> None:
    """UPS WorldShip headers pick ups_worldship, with Reference 1 as the order ID."""
    table = table_with(tmp_path, WORLDSHIP_HEADERS)

    mapping = match_template(table, templates)

    assert mapping.template.name == "ups_worldship"
    assert mapping.header_of("order_id") == "Reference 1"
    assert mapping.header_of("tracking_number") == "Tracking Number"
    assert mapping.header_of("service") == "Service Type"
    assert mapping.header_of("sku") == "Reference 2"
    assert mapping.header_of("qty") is None
    assert mapping.score == pytest.approx(4 / 5)


def test_generic_headers_matched(tmp_path: Path, templates: list[Template]) -> None:
    """Plain header names pick the generic template and map every column."""
    table = table_with(tmp_path, GENERIC_HEADERS)

    mapping = match_template(table, templates)

    assert mapping.template.name == "generic"
    assert dict(mapping.columns) == {
        "order_id": 0,
        "tracking_number": 1,
        "carrier": 2,
        "tracking_url": 3,
        "price_id": 4,
        "qty": 5,
        "notify_customer": 6,
    }
    assert mapping.unmatched_headers == ()
    assert mapping.score == pytest.approx(7 / 10)


def test_camel_case_headers_matched(tmp_path: Path, templates: list[Template]) -> None:
    """camelCase headers such as orderId and trackingNo match the generic template."""
    table = table_with(tmp_path, "orderId,trackingNo,carrier")

    mapping = match_template(table, templates)

    assert mapping.template.name == "generic"
    assert mapping.header_of("order_id") == "orderId"
    assert mapping.header_of("tracking_number") == "trackingNo"
    assert mapping.header_of("carrier") == "carrier"


# --- ColumnMapping -----------------------------------------------------------------


def test_mapping_values_of_row(tmp_path: Path, templates: list[Template]) -> None:
    """values() returns the raw text of mapped fields only."""
    table = table_with(tmp_path, "Order ID,Note,Tracking Number", "A1, fragile ,1Z999")
    mapping = match_template(table, templates)

    values = mapping.values(table.rows[0])

    assert values == {"order_id": "A1", "tracking_number": "1Z999"}


def test_mapping_unmatched_headers_listed(tmp_path: Path, templates: list[Template]) -> None:
    """Headers no field uses are listed in file order."""
    table = table_with(tmp_path, "Weight,Order ID,Tracking Number,Box")

    mapping = match_template(table, templates)

    assert mapping.unmatched_headers == ("Weight", "Box")
    assert mapping.headers == table.headers


def test_mapping_is_read_only(tmp_path: Path, templates: list[Template]) -> None:
    """The column map cannot be changed by a later stage."""
    mapping = match_template(table_with(tmp_path, "Order ID,Tracking Number"), templates)

    assert isinstance(mapping, ColumnMapping)
    with pytest.raises(TypeError):
        mapping.columns["sku"] = 0  # type: ignore[index]


# --- matching rules ----------------------------------------------------------------


def test_alias_order_decides(tmp_path: Path, templates: list[Template]) -> None:
    """The first alias present wins, wherever its column is."""
    table = table_with(tmp_path, "Order ID,Tracking,Tracking Number")

    mapping = match_template(table, templates)

    assert mapping.header_of("tracking_number") == "Tracking Number"
    assert mapping.unmatched_headers == ("Tracking",)


def test_header_used_by_one_field(tmp_path: Path) -> None:
    """A header taken by one field is not given to a later field too."""
    template = make_template(
        "acme",
        {
            "order_id": ("Order",),
            "tracking_number": ("Tracking",),
            "carrier": ("Service",),
            "sku": ("Service", "Item"),
        },
    )
    table = table_with(tmp_path, "Order,Tracking,Service,Item")

    mapping = match_template(table, [template])

    assert mapping.header_of("carrier") == "Service"
    assert mapping.header_of("sku") == "Item"


def repeated_header_error(
    table: Table, templates: list[Template], forced: str | None = None
) -> str:
    with pytest.raises(InputFileError) as caught:
        match_template(table, templates, forced=forced)
    assert not isinstance(caught.value, MissingColumnsError)
    return str(caught.value)


def test_repeated_order_id_header_rejected(tmp_path: Path, templates: list[Template]) -> None:
    """Two "Order ID" columns stop the file with the header, its columns and the fix."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Order ID", f"{'a' * 24},1Z1,{'b' * 24}")

    message = repeated_header_error(table, templates)

    assert message.startswith(f"{table.path}: ")
    assert 'the order ID header "Order ID" is in 2 columns (A and C)' in message
    assert 'Rename or delete one of them so that only one column is called "Order ID".' in message


def test_repeated_tracking_header_rejected(tmp_path: Path, templates: list[Template]) -> None:
    """Two spellings of "Tracking Number" are one header read twice, so the file stops."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Qty,tracking_number")

    message = repeated_header_error(table, templates)

    assert 'header "Tracking Number" is in 2 columns' in message
    assert '(B "Tracking Number" and D "tracking_number")' in message


def test_repeated_header_letters_past_z(tmp_path: Path, templates: list[Template]) -> None:
    """Columns after Z are named AA, AB and so on, as a spreadsheet shows them."""
    fillers = ",".join(f"Extra {index}" for index in range(24))
    table = table_with(tmp_path, f"Order ID,Tracking Number,{fillers},Tracking Number")

    message = repeated_header_error(table, templates)

    assert "(B and AA)" in message


def test_header_in_three_columns_rejected(tmp_path: Path, templates: list[Template]) -> None:
    """With three copies of a header the fix asks to keep only one of them."""
    table = table_with(tmp_path, "Order ID,Order ID,Tracking Number,Order ID")

    message = repeated_header_error(table, templates)

    assert "is in 3 columns (A, B and D)" in message
    assert "Rename or delete all but one of them" in message


def test_repeated_header_rejected_with_forced_template(
    tmp_path: Path, templates: list[Template]
) -> None:
    """A forced template stops on a repeated header too."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Tracking Number")

    message = repeated_header_error(table, templates, forced="generic")

    assert 'header "Tracking Number" is in 2 columns (B and C)' in message


def test_repeated_headers_listed_together(tmp_path: Path, templates: list[Template]) -> None:
    """Every repeated header a field reads is named in the one error."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Order ID,Tracking Number")

    message = repeated_header_error(table, templates)

    assert 'the order ID header "Order ID" is in 2 columns (A and C)' in message
    assert 'the tracking number header "Tracking Number" is in 2 columns (B and D)' in message


def test_repeated_unused_header_noted(tmp_path: Path, templates: list[Template]) -> None:
    """A header that no field reads may repeat; the mapping notes it and goes on."""
    table = table_with(tmp_path, "Order ID,Weight,Tracking Number,weight")

    mapping = match_template(table, templates)

    assert mapping.columns["tracking_number"] == 2
    assert mapping.notes == (
        'the file has 2 columns named "Weight" (columns B "Weight" and D "weight"); '
        "no field reads that header, so the import ignores them",
    )


def test_most_matched_fields_wins(tmp_path: Path) -> None:
    """Among fitting templates the one that matches more fields is picked."""
    small = make_template("small", {"order_id": ("Order",), "tracking_number": ("Tracking",)})
    large = make_template(
        "large",
        {
            "order_id": ("Order",),
            "tracking_number": ("Tracking",),
            "carrier": ("Carrier",),
            "sku": ("SKU",),
            "qty": ("Qty",),
        },
    )
    table = table_with(tmp_path, "Order,Tracking,Carrier")

    mapping = match_template(table, [small, large])

    assert mapping.template.name == "large"
    assert mapping.score == pytest.approx(3 / 5)


def test_tie_goes_to_higher_score(tmp_path: Path) -> None:
    """With equal matches, the template that found a larger share of its fields wins."""
    broad = make_template(
        "broad",
        {"order_id": ("Order",), "tracking_number": ("Tracking",), "sku": ("SKU",)},
    )
    exact = make_template("exact", {"order_id": ("Order",), "tracking_number": ("Tracking",)})
    table = table_with(tmp_path, "Order,Tracking")

    mapping = match_template(table, [broad, exact])

    assert mapping.template.name == "exact"


def test_tie_prefers_specific_over_generic(tmp_path: Path) -> None:
    """With equal matches and scores, a specific template beats "generic"."""
    fields: dict[str, tuple[str, ...]] = {
        "order_id": ("Order ID",),
        "tracking_number": ("Tracking Number",),
    }
    generic = make_template("generic", fields)
    acme = make_template("acme", fields)
    table = table_with(tmp_path, "Order ID,Tracking Number")

    mapping = match_template(table, [generic, acme])

    assert mapping.template.name == "acme"


# --- header_score --------------------------------------------------------------------


def test_header_score_counts_fields(templates: list[Template]) -> None:
    """A row is scored by the distinct fields the best template finds in it."""
    cells = ["", "order_id", "Tracking Number", "Carrier", "Weight"]

    assert header_score(cells, templates) == 3


def test_header_score_of_title_row(templates: list[Template]) -> None:
    """A title row scores 0."""
    assert header_score(["Shipments export", "", ""], templates) == 0


def test_header_score_counts_field_once(templates: list[Template]) -> None:
    """Two aliases of one field count as one field."""
    assert header_score(["Tracking", "Tracking Number"], templates) == 1


def test_header_score_best_template(templates: list[Template]) -> None:
    """The score is that of the template finding most fields, not a sum over templates."""
    cells = SHIPSTATION_HEADERS.split(",")

    assert header_score(cells, templates) == 6


def test_header_score_without_templates() -> None:
    """Without templates every row scores 0."""
    assert header_score(["Order ID", "Tracking Number"], []) == 0


# --- forced template ---------------------------------------------------------------


def test_forced_template_by_name(tmp_path: Path, templates: list[Template]) -> None:
    """A forced name is used even when another template matches more fields."""
    acme = make_template("acme", {"order_id": ("Order ID",), "tracking_number": ("Tracking",)})
    table = table_with(tmp_path, "Order ID,Tracking,Carrier,Tracking Number")

    mapping = match_template(table, [*templates, acme], forced="acme")

    assert mapping.template.name == "acme"
    assert mapping.header_of("tracking_number") == "Tracking"


def test_forced_template_by_path(tmp_path: Path, templates: list[Template]) -> None:
    """A forced path to a .toml file loads that template."""
    path = write_template(
        tmp_path,
        "warehouse.toml",
        'name = "warehouse"\n[fields]\norder_id = ["Ref"]\ntracking_number = ["Waybill"]\n',
    )
    table = table_with(tmp_path, "Ref,Waybill")

    mapping = match_template(table, templates, forced=str(path))

    assert mapping.template.name == "warehouse"
    assert mapping.template.path == path
    assert mapping.header_of("tracking_number") == "Waybill"


def test_forced_unknown_name_rejected(tmp_path: Path, templates: list[Template]) -> None:
    """An unknown template name raises UsageError listing the known names."""
    table = table_with(tmp_path, GENERIC_HEADERS)

    with pytest.raises(UsageError) as caught:
        match_template(table, templates, forced="shopify")

    assert 'unknown template "shopify"' in str(caught.value)
    assert "generic, ordoro, pirate_ship" in str(caught.value)


def test_forced_missing_path_rejected(tmp_path: Path, templates: list[Template]) -> None:
    """A forced .toml path that does not exist raises UsageError."""
    table = table_with(tmp_path, GENERIC_HEADERS)
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(UsageError) as caught:
        match_template(table, templates, forced=str(missing))

    assert "template file not found" in str(caught.value)


def test_forced_template_missing_columns(tmp_path: Path, templates: list[Template]) -> None:
    """A forced template that misses a required field names itself in the error."""
    table = table_with(tmp_path, SHIPSTATION_HEADERS)

    message = missing_columns(table, templates, forced="generic")

    assert 'the tracking number column was not found with template "generic"' in message
    assert '"Shipment - Tracking Number"' in message


# --- no template fits ----------------------------------------------------------------


def test_missing_columns_message(tmp_path: Path, templates: list[Template]) -> None:
    """The error lists missing fields, file headers, close headers and the fix."""
    table = table_with(tmp_path, "Ordr Ident,Trakk Nmb,Weight")

    message = missing_columns(table, templates)

    assert message.startswith(f"{table.path}: the order ID and tracking number columns were")
    assert 'Headers in the file: "Ordr Ident", "Trakk Nmb", "Weight"' in message
    assert (
        '- order ID: no column matches; rename the column that holds it to "Order ID" '
        '(closest headers in the file: "Ordr Ident")'
    ) in message
    assert (
        "- tracking number: no column matches; rename the column that holds it to "
        '"Tracking Number" (closest headers in the file: "Trakk Nmb")'
    ) in message
    assert "`ghl-fulfill templates` lists them" in message


def test_missing_columns_names_closest_template(tmp_path: Path, templates: list[Template]) -> None:
    """When a template found one required field, the error names it and its header names."""
    table = table_with(tmp_path, "Reference 1,Service Type,Package Weight")

    message = missing_columns(table, templates)

    assert 'The closest template is "ups_worldship", which found the order ID' in message
    assert 'rename the column that holds it to "Tracking Number"' in message
    assert "- order ID" not in message


def test_missing_columns_without_close_headers(tmp_path: Path, templates: list[Template]) -> None:
    """Headers that resemble nothing are not offered as suggestions."""
    table = table_with(tmp_path, "Weight,Height")

    message = missing_columns(table, templates)

    assert "closest headers" not in message


def test_missing_columns_is_input_file_error(tmp_path: Path, templates: list[Template]) -> None:
    """MissingColumnsError carries the file path like any InputFileError."""
    table = table_with(tmp_path, "Weight")

    with pytest.raises(InputFileError) as caught:
        match_template(table, templates)

    assert isinstance(caught.value, MissingColumnsError)
    assert caught.value.path == table.path


# --- template validation -----------------------------------------------------------


VALID_TEMPLATE = 'name = "acme"\n[fields]\norder_id = ["Order"]\ntracking_number = ["Tracking"]\n'


def config_error(folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_templates(folder)
    return str(caught.value)


def test_template_folder_loaded(tmp_path: Path) -> None:
    """A folder of valid templates loads in file name order."""
    write_template(tmp_path, "b.toml", VALID_TEMPLATE.replace("acme", "beta"))
    write_template(tmp_path, "a.toml", VALID_TEMPLATE)

    loaded = load_templates(tmp_path)

    assert [template.name for template in loaded] == ["acme", "beta"]
    assert loaded[0].fields["order_id"] == ("Order",)
    assert loaded[0].description == ""


def test_template_unknown_field_rejected(tmp_path: Path) -> None:
    """A field name the importer does not know raises ConfigError naming file and key."""
    path = write_template(tmp_path, "acme.toml", VALID_TEMPLATE + 'weight = ["Weight"]\n')

    message = config_error(tmp_path)

    assert message.startswith(f"{path}: ")
    assert 'key "fields.weight" is not a known field' in message


def test_template_empty_aliases_rejected(tmp_path: Path) -> None:
    """An empty alias list raises ConfigError naming the key."""
    write_template(tmp_path, "acme.toml", VALID_TEMPLATE + "sku = []\n")

    message = config_error(tmp_path)

    assert 'key "fields.sku" must be a non-empty list' in message


def test_template_non_text_alias_rejected(tmp_path: Path) -> None:
    """Aliases that are not text, or blank, raise ConfigError."""
    write_template(tmp_path, "acme.toml", VALID_TEMPLATE + 'sku = [3, "  "]\n')

    message = config_error(tmp_path)

    assert 'key "fields.sku" must list header names as text' in message


def test_template_missing_name_rejected(tmp_path: Path) -> None:
    """A template without a name raises ConfigError naming the key."""
    path = write_template(tmp_path, "acme.toml", VALID_TEMPLATE.replace('name = "acme"\n', ""))

    message = config_error(tmp_path)

    assert message == f'{path}: key "name" is missing or empty; add name = "..."'


def test_template_missing_required_field_rejected(tmp_path: Path) -> None:
    """A template that cannot find the tracking number raises ConfigError."""
    text = VALID_TEMPLATE.replace('tracking_number = ["Tracking"]\n', "")
    write_template(tmp_path, "acme.toml", text)

    message = config_error(tmp_path)

    assert 'key "fields.tracking_number" is missing' in message


def test_template_missing_fields_table_rejected(tmp_path: Path) -> None:
    """A template without a [fields] table raises ConfigError."""
    write_template(tmp_path, "acme.toml", 'name = "acme"\n')

    message = config_error(tmp_path)

    assert "the [fields] table is missing" in message


def test_template_unknown_key_rejected(tmp_path: Path) -> None:
    """A misspelled top-level key raises ConfigError naming it."""
    write_template(tmp_path, "acme.toml", 'descripton = "typo"\n' + VALID_TEMPLATE)

    message = config_error(tmp_path)

    assert 'unknown key "descripton"' in message


def test_template_invalid_toml_rejected(tmp_path: Path) -> None:
    """A file that is not TOML raises ConfigError chained to the parser error."""
    write_template(tmp_path, "acme.toml", 'name = "acme\n')

    with pytest.raises(ConfigError) as caught:
        load_templates(tmp_path)

    assert "is not valid TOML" in str(caught.value)
    assert caught.value.__cause__ is not None


def test_template_duplicate_names_rejected(tmp_path: Path) -> None:
    """Two templates with one name raise ConfigError naming both files."""
    first = write_template(tmp_path, "a.toml", VALID_TEMPLATE)
    second = write_template(tmp_path, "b.toml", VALID_TEMPLATE)

    message = config_error(tmp_path)

    assert message.startswith(f"{second}: ")
    assert str(first) in message


def test_template_empty_folder_rejected(tmp_path: Path) -> None:
    """A folder without templates raises ConfigError."""
    message = config_error(tmp_path)

    assert "no column templates" in message


# --- confidence, proposals and --map --------------------------------------------------


def test_close_headers_proposed_not_trusted(tmp_path: Path, templates: list[Template]) -> None:
    """Headers only close to the usual names give a mapping that must be confirmed."""
    table = table_with(tmp_path, "Ordr ID,Trackng Number,Weight")

    mapping = match_template(table, templates)

    assert not mapping.confident
    assert mapping.header_of("order_id") == "Ordr ID"
    assert mapping.proposed == {"order_id", "tracking_number"}


def test_confirmation_message_gives_options(tmp_path: Path, templates: list[Template]) -> None:
    """The message for an unsure mapping shows the options that confirm it."""
    table = table_with(tmp_path, "Ordr ID,Trackng Number,Weight")

    message = confirmation_message(match_template(table, templates))

    assert (
        '--template generic --map order_id="Ordr ID" --map tracking_number="Trackng Number"'
        in message
    )


def test_confirmation_message_lists_unread_columns(
    tmp_path: Path, templates: list[Template]
) -> None:
    """The message for an unsure mapping names the columns nothing reads."""
    table = table_with(tmp_path, "Ordr ID,Trackng Number,Weight")

    message = confirmation_message(match_template(table, templates))

    assert 'Columns not read: "Weight"' in message


def test_map_confirms_proposal(tmp_path: Path, templates: list[Template]) -> None:
    """Mapping the proposed headers with --map makes the mapping trusted."""
    table = table_with(tmp_path, "Ordr ID,Trackng Number,Weight")
    overrides = {"order_id": "Ordr ID", "tracking_number": "Trackng Number"}

    mapping = match_template(table, templates, overrides=overrides)

    assert mapping.confident


def test_map_wins_over_template(tmp_path: Path, templates: list[Template]) -> None:
    """A --map header is read for its field even where a template names another."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Our Ref")

    mapping = match_template(table, templates, overrides={"order_id": "our ref"})

    assert mapping.header_of("order_id") == "Our Ref"


def test_map_empty_header_leaves_field_unread(tmp_path: Path, templates: list[Template]) -> None:
    """--map carrier= keeps the carrier column from being read."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Carrier")

    mapping = match_template(table, templates, overrides={"carrier": ""})

    assert mapping.header_of("carrier") is None


def test_map_unknown_header_names_file(tmp_path: Path, templates: list[Template]) -> None:
    """A --map header that is not in the file is an error naming the file and its headers."""
    table = table_with(tmp_path, "Order ID,Tracking Number")

    with pytest.raises(InputFileError) as caught:
        match_template(table, templates, overrides={"sku": "Item Code"})

    assert 'the file has no column "Item Code"' in str(caught.value)


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("order_id=Order Number", {"order_id": "Order Number"}),
        ("SKU = Item Code ", {"sku": "Item Code"}),
        ("carrier=", {"carrier": ""}),
    ],
)
def test_parse_overrides_reads_pairs(pair: str, expected: dict[str, str]) -> None:
    """--map FIELD=HEADER options become a field to header table."""
    assert parse_overrides([pair]) == expected


@pytest.mark.parametrize("pair", ["order_id", "=Order", "weight=Weight"])
def test_parse_overrides_rejects_malformed(pair: str) -> None:
    """A --map option without a known field and "=" is a usage error."""
    with pytest.raises(UsageError):
        parse_overrides([pair])


def test_rival_template_reading_other_column_doubted(tmp_path: Path) -> None:
    """Two templates that fit equally well but read other columns make the match unsure."""
    first = make_template("first", {"order_id": ("Ref A",), "tracking_number": ("Tracking",)})
    second = make_template("second", {"order_id": ("Ref B",), "tracking_number": ("Tracking",)})
    table = table_with(tmp_path, "Ref A,Ref B,Tracking")

    mapping = match_template(table, [first, second])

    assert mapping.doubts == (
        'template "second" fits as well as "first", but it reads the order ID from "Ref B"',
    )


def test_rival_template_reading_same_columns_trusted(tmp_path: Path) -> None:
    """Two templates that would read the file alike leave no doubt."""
    first = make_template("first", {"order_id": ("Ref",), "tracking_number": ("Tracking",)})
    second = make_template("second", {"order_id": ("Ref",), "tracking_number": ("Tracking",)})
    table = table_with(tmp_path, "Ref,Tracking")

    assert match_template(table, [first, second]).confident


def test_forced_template_trusted(tmp_path: Path) -> None:
    """A template named with --template is the user's choice and needs no confirmation."""
    first = make_template("first", {"order_id": ("Ref A",), "tracking_number": ("Tracking",)})
    second = make_template("second", {"order_id": ("Ref B",), "tracking_number": ("Tracking",)})
    table = table_with(tmp_path, "Ref A,Ref B,Tracking")

    assert match_template(table, [first, second], forced="second").confident


def test_template_quirks_read(tmp_path: Path) -> None:
    """A template's default carrier, order prefixes and confidence are read."""
    path = write_template(
        tmp_path,
        "worldship.toml",
        'name = "ws"\nconfidence = "partial"\n[fields]\norder_id = ["Ref"]\n'
        'tracking_number = ["Tracking"]\nservice = ["Service Type"]\n'
        '[carrier]\ndefault = "UPS"\n[order]\nprefixes = ["#", "SO-"]\n',
    )

    template = load_template(path)

    assert template.confidence == "partial"
    assert template.default_carrier == "UPS"
    assert template.order_prefixes == ("SO-", "#")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('confidence = "sure"', 'key "confidence" must be one of'),
        ('[carrier]\nname = "UPS"', 'unknown key "carrier.name"'),
        ("[order]\nprefixes = [1]", 'key "order.prefixes" must be a list of text'),
        ('carrier = "UPS"', '"carrier" must be a table'),
    ],
)
def test_template_quirk_errors(tmp_path: Path, text: str, expected: str) -> None:
    """A wrong quirk in a template is a configuration error naming the key."""
    path = write_template(
        tmp_path,
        "bad.toml",
        f'name = "bad"\n{text}\n[fields]\norder_id = ["Ref"]\ntracking_number = ["T"]\n'
        if not text.startswith("[")
        else f'name = "bad"\n[fields]\norder_id = ["Ref"]\ntracking_number = ["T"]\n{text}\n',
    )

    with pytest.raises(ConfigError) as caught:
        load_template(path)

    assert expected in str(caught.value)


def test_plain_sheet_shown_as_generic(tmp_path: Path, templates: list[Template]) -> None:
    """Two common headers fit many tools' templates; the generic one is named."""
    table = table_with(tmp_path, "Order ID,Tracking Number")

    mapping = match_template(table, templates)

    assert mapping.template.name == "generic"
    assert mapping.confident


def test_second_tracking_column_doubted(tmp_path: Path, templates: list[Template]) -> None:
    """A second tracking number column, which would be left unread, makes the match unsure."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Tracking #,Carrier")

    mapping = match_template(table, templates)

    assert mapping.doubts == (
        'the file has two tracking number columns, "Tracking Number" and "Tracking #", '
        'and only "Tracking Number" would be read',
    )


def test_second_tracking_column_confirmed(tmp_path: Path, templates: list[Template]) -> None:
    """Naming the tracking column with --map confirms that the other one is not wanted."""
    table = table_with(tmp_path, "Order ID,Tracking Number,Tracking #,Carrier")

    mapping = match_template(table, templates, overrides={"tracking_number": "Tracking #"})

    assert mapping.confident


def test_second_order_column_noted(tmp_path: Path, templates: list[Template]) -> None:
    """A second order column is named in a note with the option that reads it instead."""
    table = table_with(tmp_path, "Order #,Order ID,Tracking Number")

    mapping = match_template(table, templates)

    assert '--map order_id="Order #"' in mapping.notes[0]


def test_map_cannot_leave_order_unread(tmp_path: Path, templates: list[Template]) -> None:
    """--map order_id= is refused: every row needs its order."""
    table = table_with(tmp_path, "Order ID,Tracking Number")

    with pytest.raises(UsageError) as caught:
        match_template(table, templates, overrides={"order_id": ""})

    assert "every row needs it" in str(caught.value)
