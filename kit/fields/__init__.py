"""TeleCRM field types, in one table: type → Block Kit element → parser → validator.

Typed ``/lead`` values and modal submissions both go through :func:`convert`, so a value is checked
the same way whichever way it arrived, and is turned into exactly the JSON TeleCRM expects (the
types are :class:`telecrm.schema.FieldType`; telecrm/sandbox/values.py checks them the same way on
the other side). Nothing here does I/O: the cached :class:`~telecrm.schema.WorkspaceSchema` is all
it needs.

Where things are:

* :mod:`kit.fields.kinds` — the table (:class:`FieldKind`, :func:`kind_of`) and what is built on it:
  :func:`convert`, :func:`validate_fields`, :func:`resolve_keys`, :func:`describe_type`,
  :func:`element_for`, :func:`input_block`;
* :mod:`kit.fields.values` — text, email, phone, number, money, rating and web-address converters;
* :mod:`kit.fields.dates` — :func:`parse_datetime` and the date converter;
* :mod:`kit.fields.choices` — dropdowns, tags, statuses, lost reasons, team members; option values;
* :mod:`kit.fields.elements` — the Block Kit element builders and :func:`options_for_query`;
* :mod:`kit.fields.forms` — reading a submitted modal back, and which fields a modal shows;
* :mod:`kit.fields.base` — the error types, the converters' context and Slack's limits.

Import from ``kit.fields``; the modules are its inside.

Choices made where TeleCRM leaves room:

* A choice field whose choices are not cached (a dropdown without options, an empty pipeline, no
  team members) accepts any non-empty value of the right syntax — it cannot be checked here, and
  refusing everything would make the field unusable.
* Tags are free text in TeleCRM; when the field has options, a tag matching one is given the option's
  spelling, other tags are kept as typed.
* Option values are limited to 150 characters by Slack; a longer label is sent as a stable short key
  (``~`` + hash) and mapped back by :func:`option_value_to_label` (which :func:`convert` applies).
"""

from kit.fields.base import (
    MAX_ACTION_ID,
    MAX_HINT,
    MAX_LABEL,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_PLACEHOLDER,
    PHONE_EXAMPLE,
    TELECRM_DATETIME_FORMAT,
    FieldError,
    Problem,
)
from kit.fields.choices import option_value, option_value_to_label
from kit.fields.dates import parse_datetime
from kit.fields.elements import options_for_query
from kit.fields.forms import form_values, order_fields_for_modal, value_from_state, view_spec
from kit.fields.kinds import (
    ConvertMemo,
    FieldKind,
    convert,
    describe_type,
    element_for,
    input_block,
    kind_of,
    resolve_keys,
    validate_fields,
)
from kit.fields.values import normalize_amount, normalize_phone

__all__ = [
    "ConvertMemo",
    "MAX_ACTION_ID",
    "MAX_HINT",
    "MAX_LABEL",
    "MAX_OPTIONS",
    "MAX_OPTION_TEXT",
    "MAX_OPTION_VALUE",
    "MAX_PLACEHOLDER",
    "PHONE_EXAMPLE",
    "TELECRM_DATETIME_FORMAT",
    "FieldError",
    "FieldKind",
    "Problem",
    "convert",
    "describe_type",
    "element_for",
    "form_values",
    "input_block",
    "kind_of",
    "normalize_amount",
    "normalize_phone",
    "option_value",
    "option_value_to_label",
    "options_for_query",
    "order_fields_for_modal",
    "parse_datetime",
    "resolve_keys",
    "validate_fields",
    "value_from_state",
    "view_spec",
]
