"""The rule ids of SPEC.md, their severities and messages, and the `Violation` record.

Every validator (payload, dataset, local server) reports these ids; nothing else
in the code invents a rule id or a message text.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass
from enum import Enum
from fractions import Fraction
from typing import Any, Literal

Severity = Literal["error", "warning"]


class Rule(str, Enum):  # noqa: UP042 - str mixin keeps `rule == 'E005'` and json.dumps working
    """A rule of the contract. `Rule.E005.title` says what it checks."""

    E001 = "E001"
    E002 = "E002"
    E003 = "E003"
    E004 = "E004"
    E005 = "E005"
    E006 = "E006"
    E007 = "E007"
    E008 = "E008"
    W101 = "W101"
    W102 = "W102"
    W103 = "W103"
    W104 = "W104"
    W105 = "W105"
    W106 = "W106"
    W107 = "W107"
    W108 = "W108"
    W109 = "W109"

    def __str__(self) -> str:
        return self.value

    @property
    def title(self) -> str:
        return TITLES[self]

    @property
    def fix(self) -> str:
        """How to fix what the rule reports."""
        return FIXES[self]

    @property
    def severity(self) -> Severity:
        return "error" if self.value.startswith("E") else "warning"


TITLES: dict[Rule, str] = {
    Rule.E001: "the body is a JSON object",
    Rule.E002: "uid present, a string, not empty after trimming",
    Rule.E003: "eventName present, a string, 1 to 64 characters (Unicode code points)",
    Rule.E004: "platform, when present, is web, android or ios",
    Rule.E005: "required parameters present, not null, not empty",
    Rule.E006: "parameter types (strings, numbers, integers)",
    Rule.E007: "begin_checkout and purchase carry a non-empty items array",
    Rule.E008: "each item is an object with a non-empty string item_id and typed fields",
    Rule.W101: "eventName is not in the catalog (custom event)",
    Rule.W102: "a key the event's catalog entry does not list",
    Rule.W103: "price or value negative, quantity below 1",
    Rule.W104: "currency is not three upper-case letters",
    Rule.W105: "add_to_cart value differs from price * quantity",
    Rule.W106: "uid looks like an e-mail address or phone number",
    Rule.W107: "the same tx_id on more than one purchase",
    Rule.W108: "more than 20 parameters besides uid, eventName and platform",
    Rule.W109: "a parameter outside the catalog holds an object or a list",
}

FIXES: dict[Rule, str] = {
    Rule.E001: "Send one JSON object per event: not an array, a string or a number; no NaN or Infinity anywhere "
               "(JSON has no such values); at most 64 KiB, 64 levels deep and 1,000 keys an object.",
    Rule.E002: "Give every event the user's id as a non-empty string (a number id: send it as text).",
    Rule.E003: "Give every event its name as a string of 1 to 64 characters, such as purchase.",
    Rule.E004: "Leave platform out or use exactly web, android or ios (lower case).",
    Rule.E005: "Fill the event's required parameters (the catalog lists them); null counts as missing.",
    Rule.E006: "Send each parameter as its catalog type: numbers as JSON numbers (29900, not \"29,900\"), "
               "integers without a fraction, strings as text.",
    Rule.E007: "Send begin_checkout and purchase with an items array holding at least one item object.",
    Rule.E008: "Make every item an object with a non-empty string item_id, and its price and quantity numbers.",
    Rule.W101: "A typo? Use the catalog's name. A custom event on purpose? Declare it in a tracking plan "
               "(--plan) so its parameters are checked too.",
    Rule.W102: "A typo of a catalog parameter? Rename it. Your own parameter? Declare it in a tracking plan.",
    Rule.W103: "Check the sign: prices and values are not negative, a quantity is at least 1.",
    Rule.W104: "Use the ISO 4217 code in upper case: KRW, USD, JPY.",
    Rule.W105: "Send value as price * quantity for the line (or leave value out).",
    Rule.W106: "Use an opaque id (a hash or your user table's key), never an e-mail address or phone number.",
    Rule.W107: "Give every purchase its own tx_id; a repeated one counts the revenue twice.",
    Rule.W108: "Keep an event to 20 parameters: Adrop's SDKs drop the rest; split it or drop what no report uses.",
    Rule.W109: "Flatten the object into scalar parameters (or a JSON string): only items may hold objects.",
}
"""How to fix what each rule reports: the rules reference of the docs shows it beside a failing payload."""

# -- the heuristics of the warnings, stated once -------------------------------------
# Whitespace, spelled out: Python's `str.isspace` set. Python's `\s` and Rust's (polars) differ on
# U+001C-U+001F, so the patterns below use this class, never `\s`, and both validators agree.
BLANK = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
         "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

# Patterns match the whole text (Python: re.fullmatch; polars: wrapped in ^(?:…)$).
CURRENCY_PATTERN = r"[A-Z]{3}"
EMAIL_PATTERN = f"[^@{BLANK}]+@[^@{BLANK}]+\\.[^@{BLANK}]+"
BLANK_PATTERN = f"[{BLANK}]*"
PHONE_PATTERN = (  # international (+82 10-1234-5678), national (010-1234-5678), North American ((555) 123-4567)
    r"\+[0-9][0-9 ().-]{7,}[0-9]"
    r"|0[0-9]{1,3}[ .-]?[0-9]{3,4}[ .-]?[0-9]{4}"
    r"|\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-][0-9]{4}"
)
VALUE_TOLERANCE = 1e-6  # W105: |value - price*quantity| > tolerance * max(1, |price*quantity|)

_CURRENCY = re.compile(CURRENCY_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)


def is_currency(s: str) -> bool:
    return _CURRENCY.fullmatch(s) is not None


def looks_personal(uid: str) -> str | None:
    """'an e-mail address' / 'a phone number' when `uid` looks like one, else None (W106)."""
    if _EMAIL.fullmatch(uid):
        return "an e-mail address"
    if _PHONE.fullmatch(uid):
        return "a phone number"
    return None


def value_mismatch(value: float, price: float, quantity: float) -> bool:
    """W105: |value - price*quantity| > tolerance * max(1, |price*quantity|).

    In floats (what the vectorised check computes, bit for bit) whenever the three convert to
    floats and the result stays finite; otherwise (numbers beyond the float range, such as an
    integer of 400 digits, or a product that overflows) exactly, in fractions: never an
    OverflowError, never infinity compared with infinity."""
    try:
        v, expected = float(value), float(price) * float(quantity)
        if math.isfinite(v) and math.isfinite(expected):
            return abs(v - expected) > VALUE_TOLERANCE * max(1.0, abs(expected))
    except OverflowError:
        pass
    exact = Fraction(price) * Fraction(quantity)
    return abs(Fraction(value) - exact) > Fraction(VALUE_TOLERANCE) * max(Fraction(1), abs(exact))


# -- messages ------------------------------------------------------------------------
def is_bool(value: Any) -> bool:
    """True for Python and numpy booleans (numpy's is not a subclass of bool)."""
    t = type(value)
    return isinstance(value, bool) or (t.__module__ == "numpy" and t.__name__ in ("bool", "bool_"))


def json_kind(value: Any) -> str:
    """The JSON kind of a Python value, with its article: 'a string', 'a boolean', 'null'…"""
    if value is None:
        return "null"
    if is_bool(value):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, numbers.Integral):
        return "an integer"
    if isinstance(value, numbers.Real):
        try:
            value = float(value)
        except OverflowError:  # a huge fraction: finite, whole or not
            return "a number" if value == math.floor(value) else "a number with a fraction"
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity"
        return "a number with a fraction" if not value.is_integer() else "a number"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


EXPECTED = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "items": "an array of item objects",
}


def msg_wrong_type(field: str, expected: str, got: str) -> str:
    return f"{field} must be {EXPECTED[expected]}, got {got}"


MAX_EVENT_NAME = 64
"""E003: the most characters (Unicode code points) an eventName may have (Adrop's Korean API page: 1~64자)."""


def msg_long_name(length: int | str) -> str:
    """E003 for an eventName longer than `MAX_EVENT_NAME`; `length` may be a slot of a rendered message."""
    return MESSAGES["E003.long"].format(length=length, limit=MAX_EVENT_NAME)


MAX_PARAMS = 20
"""W108: the most parameters (keys besides uid, eventName, platform; null never counts) Adrop's SDKs take."""


def msg_too_many(count: int | str) -> str:
    """W108 for an event of `count` parameters; `count` may be a slot of a rendered message."""
    return MESSAGES["W108"].format(count=count, limit=MAX_PARAMS)


def msg_missing(field: str, event: str) -> str:
    return f"{field} is required for {event} but is missing"


def msg_empty(field: str, event: str) -> str:
    return f"{field} is required for {event} but is empty"


MESSAGES: dict[str, str] = {
    # fixed texts; each rule's variable messages are built by the helpers above
    "E002.missing": "uid is missing: every event needs the user's id",
    "E002.empty": "uid is empty (or only whitespace)",
    "E003.missing": "eventName is missing",
    "E003.empty": "eventName is empty",
    "E003.long": "eventName is {length} characters long; Adrop takes at most {limit}",
    "E004": "platform must be one of web, android, ios",
    "E007.missing": "{event} needs an items array, and it is missing",
    "E007.type": "{event}: items must be an array of item objects, got {got}",
    "E007.empty": "{event}: items is an empty array; it needs at least one item",
    "E008.type": "{field} must be an item object, got {got}",
    "E008.missing": "{field} is missing: every item needs an item_id",
    "E008.empty": "{field} is empty: every item needs an item_id",
    "W101": "'{event}' is not in the catalog (a custom event? add it to your tracking plan)",
    "W101.strict": "'{event}' is not in the catalog, and strict mode allows catalog events only",
    "W102": "'{field}' is not a parameter of {event}",
    # with a near match in the catalog (`Catalog.suggest_event`, `Catalog.suggest_key`)
    "W101.suggest": "'{event}' is not in the catalog (did you mean '{suggestion}'?)",
    "W101.strict.suggest": "'{event}' is not in the catalog, and strict mode allows catalog events only "
                           "(did you mean '{suggestion}'?)",
    "W102.suggest": "'{field}' is not a parameter of {event} (did you mean '{suggestion}'?)",
    "W103.negative": "{field} is negative",
    "W103.quantity": "{field} is below 1",
    "W104": "currency should be an ISO 4217 code: three upper-case letters such as KRW or USD",
    "W105": "value differs from price * quantity",
    "W106": "uid looks like {what}: personal data does not belong in an id",
    "W108": "the event has {count} parameters besides uid, eventName and platform; Adrop's SDKs take at most {limit} "
            "an event",
    "W109": "'{field}' holds {kind}: Adrop's SDKs drop a parameter whose value is an object or a list "
            "(only items carries objects)",
    "W107": "tx_id '{tx}' was already used by the purchase in row {first}: revenue would be counted twice",
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: which rule, where (`field`, e.g. `items[1].item_id`), and why."""

    rule: Rule
    field: str
    message: str
    severity: Severity = "error"
    value: str | None = None
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rule"] = self.rule.value
        return d


def short_value(value: Any, limit: int = 80) -> str | None:
    """A short printable form of an offending value for reports (never the whole 10 MB)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else safe_repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_repr(value: Any) -> str:
    """repr(value), or a description when Python will not write it (an integer of more digits than
    `sys.get_int_max_str_digits()`)."""
    try:
        return repr(value)
    except ValueError:
        if isinstance(value, int):
            return f"<an integer of about {int(value.bit_length() * math.log10(2)):,} digits>"
        return f"<{type(value).__name__}>"


def printable(text: str) -> str:
    """User text (a key, an event name, a tx_id) as it may appear inside a message: characters
    that are not printable (NUL and other control characters, line and paragraph separators,
    lone surrogates) written as escapes, repr-style (`\\x00`, `\\u2028`). Never raises."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(c: str) -> str:
    if c in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[c]
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


NON_PRINTABLE_PATTERN = r"[^\x20-\x7e]"
"""A superset (a regex, for polars) of the characters `printable` escapes: every character outside
printable ASCII. The rows it matches are then escaped by `printable` itself, so both validators
print the same text whatever Unicode version each one's tables follow."""

# parameters the W103 sanity checks look at (top level and inside items)
NON_NEGATIVE: tuple[str, ...] = ("price", "value")
AT_LEAST_ONE: tuple[str, ...] = ("quantity",)
UNICODE_MESSAGE = "the event holds text that is not valid Unicode (a lone surrogate such as \\ud800)"

# Limits (SPEC.md): the same in every entry point and the local server, so a dataset check
# predicts the server's answer. Past them an event is an E001 row (the server: 400 !invalid;
# a body over MAX_EVENT_BYTES: 413).
MAX_DEPTH = 64
"""Levels of nesting in one event: the event object is level 1, its `items` array 2, an item 3."""
MAX_KEYS = 1000
"""Keys in any one object of an event."""
MAX_EVENT_BYTES = 64 * 1024
"""An event's JSON encoding, in bytes."""
DEPTH_MESSAGE = f"the event is nested more than {MAX_DEPTH} levels deep"
KEYS_MESSAGE = f"the event has an object with more than {MAX_KEYS:,} keys"
SIZE_MESSAGE = f"the event's JSON is larger than {MAX_EVENT_BYTES // 1024} KiB"


def digits_message(limit: int) -> str:
    """E001 for an integer longer than Python writes as text (`sys.get_int_max_str_digits()`): such
    an event cannot be written as JSON here, so it could not be sent as it is."""
    return f"the event holds an integer of more than {limit:,} digits, too long to write as JSON text"

CURRENCY_PARAM = "currency"
TX_PARAM = "tx_id"
VALUE_TRIPLE: tuple[str, str, str] = ("value", "price", "quantity")  # W105: value == price * quantity
PURCHASE_EVENT = "purchase"
