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

__all__ = [
    "DATE",
    "DATETIME_OFFSET",
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
