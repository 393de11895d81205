"""The exception hierarchy.  Every exception the library raises on purpose derives from
:class:`EmmaOsplusError`; those that report a problem in the data carry the
:class:`~emma_osplus.Message` (code, position, field, raw input)::

    EmmaOsplusError
    ├── MessageError                    carries .message (and .messages)
    │   ├── InvalidValueError           a value refused at construction (also a ValueError)
    │   ├── FileError                   E1xx: the file as a whole cannot be read
    │   │   ├── DecodingError           E101
    │   │   ├── IntegrityError          E102, E103
    │   │   ├── StructureError          E104, E107
    │   │   ├── XmlSecurityError        E105
    │   │   ├── SchemaError             E106
    │   │   ├── FileNameError           E108
    │   │   └── SequenceGapError        E109
    │   ├── RecordError                 E2xx: one record is bad (strict readers, writers)
    │   └── ProcessError                E3xx: a rule of the interface refuses the step
    └── TransportError                  a transport or store backend failed

Use :func:`error_for` to turn a message into the matching exception:

>>> from emma_osplus import Message, error_for
>>> err = error_for(Message("E104", line=3, detail="trailer missing"))
>>> type(err).__name__, err.message.code
('StructureError', 'E104')
>>> str(err)
'E104, line 3: Dateistruktur beschädigt (trailer missing)'
"""

from __future__ import annotations

from collections.abc import Iterable

from ._messages import Message

__all__ = [
    "DecodingError",
    "EmmaOsplusError",
    "FileError",
    "FileNameError",
    "IntegrityError",
    "InvalidValueError",
    "MessageError",
    "ProcessError",
    "RecordError",
    "SchemaError",
    "SequenceGapError",
    "StructureError",
    "TransportError",
    "XmlSecurityError",
    "error_for",
]


class EmmaOsplusError(Exception):
    """Base of every exception the library raises on purpose."""


class MessageError(EmmaOsplusError):
    """An error that carries one or more :class:`Message` objects (the first is ``message``)."""

    def __init__(self, message: Message, *more: Message) -> None:
        self.messages: tuple[Message, ...] = (message, *more)
        super().__init__(message.describe())

    @property
    def message(self) -> Message:
        """The first (usually the only) message."""
        return self.messages[0]

    @property
    def code(self) -> str:
        """The code of the first message."""
        return self.messages[0].code


class InvalidValueError(MessageError, ValueError):
    """A value refused when a domain type was constructed."""


class FileError(MessageError):
    """E1xx: the file as a whole could not be read."""


class DecodingError(FileError):
    """E101: bytes not decodable in the declared or detected encoding."""


class IntegrityError(FileError):
    """E102/E103: a delivered file is missing or differs from its manifest."""


class StructureError(FileError):
    """E104/E107: broken structure, missing header/trailer, wrong counts, missing columns."""


class XmlSecurityError(FileError):
    """E105: XML not well-formed, or with a DTD, entity or external reference."""


class SchemaError(FileError):
    """E106: XML violates its schema."""


class FileNameError(FileError):
    """E108: a file name that does not follow the grammar (or could escape a directory)."""


class SequenceGapError(FileError):
    """E109: a sequence number was skipped."""


class RecordError(MessageError):
    """E2xx: one record is bad; raised by strict readers and by writers."""


class ProcessError(MessageError):
    """E3xx: a rule of the interface refuses the step."""


class TransportError(EmmaOsplusError):
    """A transport or store backend failed; the backend's exception is the ``__cause__``."""


_BY_CODE: dict[str, type[MessageError]] = {
    "E101": DecodingError,
    "E102": IntegrityError,
    "E103": IntegrityError,
    "E104": StructureError,
    "E105": XmlSecurityError,
    "E106": SchemaError,
    "E107": StructureError,
    "E108": FileNameError,
    "E109": SequenceGapError,
}


def error_for(message: Message, *more: Message) -> MessageError:
    """The exception that matches *message*'s code (not raised, returned)."""
    cls = _BY_CODE.get(message.code)
    if cls is None:
        family = message.code[:2]
        if family == "E2":
            cls = RecordError
        elif family == "E3":
            cls = ProcessError
        else:
            cls = MessageError
    return cls(message, *more)


def first_error(messages: Iterable[Message]) -> Message | None:
    """The first message in *messages* that is an error, or ``None``."""
    return next((m for m in messages if m.is_error), None)
