"""emma_osplus: the interface between OSPlus and EMMA.

The public API is re-exported here from private modules; import from ``emma_osplus``.
"""

from __future__ import annotations

from ._errors import (
    DecodingError,
    EmmaOsplusError,
    FileError,
    FileNameError,
    IntegrityError,
    InvalidValueError,
    MessageError,
    ProcessError,
    RecordError,
    SchemaError,
    SequenceGapError,
    StructureError,
    TransportError,
    XmlSecurityError,
    error_for,
)
from ._messages import CATALOGUE, Message, MessageDefinition, MessageLevel, Severity
from ._records import Item, Mode, Notice, Record, Rejected
from ._types import (
    Blz,
    CustomerNumber,
    EventId,
    MailingId,
    OccasionCode,
    OrderName,
    OrderNumber,
    suggest_order_name,
)
from ._version import __version__

__all__ = [
    "CATALOGUE",
    "Blz",
    "CustomerNumber",
    "DecodingError",
    "EmmaOsplusError",
    "EventId",
    "FileError",
    "FileNameError",
    "IntegrityError",
    "InvalidValueError",
    "Item",
    "MailingId",
    "Message",
    "MessageDefinition",
    "MessageError",
    "MessageLevel",
    "Mode",
    "Notice",
    "OccasionCode",
    "OrderName",
    "OrderNumber",
    "ProcessError",
    "Record",
    "RecordError",
    "Rejected",
    "SchemaError",
    "SequenceGapError",
    "Severity",
    "StructureError",
    "TransportError",
    "XmlSecurityError",
    "__version__",
    "error_for",
    "suggest_order_name",
]
