"""Public home of the layout converters (see :mod:`emma_osplus._converters`)."""

from ._converters import (
    DATE,
    DATETIME_OFFSET,
    TEXT,
    TIMESTAMP_UTC,
    CodeTable,
    Converter,
    Date,
    DateTimeOffset,
    Integer,
    Pattern,
    Text,
    TimestampUtc,
    ValueType,
)
from ._email import (
    EMAIL,
)

__all__ = [
    "DATE",
    "DATETIME_OFFSET",
    "EMAIL",
    "TEXT",
    "TIMESTAMP_UTC",
    "CodeTable",
    "Converter",
    "Date",
    "DateTimeOffset",
    "Integer",
    "Pattern",
    "Text",
    "TimestampUtc",
    "ValueType",
]
