"""emma_osplus: the interface between OSPlus and EMMA.

The public API is re-exported here from private modules; import from ``emma_osplus``.
"""

from __future__ import annotations

from ._email import (
    EmailAddress,
    matching_key,
)
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
from ._filenames import (
    FILE_KINDS,
    FileKind,
    FileName,
    check_safe_name,
    kind_of,
    parse_file_name,
)
from ._fsspec_transport import (
    FsspecTransport,
)
from ._messages import CATALOGUE, Message, MessageDefinition, MessageLevel, Severity
from ._records import Item, Mode, Notice, Record, Rejected
from ._registry import (
    Journey,
    Journeys,
    Mailing,
    Mailings,
    Occasion,
    Occasions,
    Registry,
    Selection,
    UnresolvedCode,
    default_registry,
)
from ._store import MemoryStore, SQLiteStore, Store
from ._transport import (
    DirectoryTransport,
    MemoryTransport,
    Transport,
)
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
    "FILE_KINDS",
    "Blz",
    "CustomerNumber",
    "DecodingError",
    "DirectoryTransport",
    "EmailAddress",
    "EmmaOsplusError",
    "EventId",
    "FileError",
    "FileKind",
    "FileName",
    "FileNameError",
    "FsspecTransport",
    "IntegrityError",
    "InvalidValueError",
    "Item",
    "Journey",
    "Journeys",
    "Mailing",
    "MailingId",
    "Mailings",
    "MemoryStore",
    "MemoryTransport",
    "Message",
    "MessageDefinition",
    "MessageError",
    "MessageLevel",
    "Mode",
    "Notice",
    "Occasion",
    "OccasionCode",
    "Occasions",
    "OrderName",
    "OrderNumber",
    "ProcessError",
    "Record",
    "RecordError",
    "Registry",
    "Rejected",
    "SQLiteStore",
    "SchemaError",
    "Selection",
    "SequenceGapError",
    "Severity",
    "Store",
    "StructureError",
    "Transport",
    "TransportError",
    "UnresolvedCode",
    "XmlSecurityError",
    "__version__",
    "check_safe_name",
    "default_registry",
    "error_for",
    "kind_of",
    "matching_key",
    "parse_file_name",
    "suggest_order_name",
]
