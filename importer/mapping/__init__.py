"""Match a file's headers to the canonical fields with a column template.

`templates` reads the templates; `match` picks one for a file's headers and
judges how sure the choice is.
"""

from importer.mapping.match import (
    ColumnMapping,
    confirmation_message,
    confirming_options,
    describe_mapping,
    find_template,
    header_score,
    match_template,
    parse_overrides,
)
from importer.mapping.templates import (
    CONFIDENCE_LEVELS,
    FIELD_LABELS,
    FIELDS,
    GENERIC_TEMPLATE,
    REQUIRED_FIELDS,
    SERVICE_FIELD,
    TEMPLATE_FIELDS,
    Template,
    load_template,
    load_templates,
    normalize_header,
    templates_folder,
)

__all__ = [
    "CONFIDENCE_LEVELS",
    "FIELDS",
    "FIELD_LABELS",
    "GENERIC_TEMPLATE",
    "REQUIRED_FIELDS",
    "SERVICE_FIELD",
    "TEMPLATE_FIELDS",
    "ColumnMapping",
    "Template",
    "confirmation_message",
    "confirming_options",
    "describe_mapping",
    "find_template",
    "header_score",
    "load_template",
    "load_templates",
    "match_template",
    "normalize_header",
    "parse_overrides",
    "templates_folder",
]
