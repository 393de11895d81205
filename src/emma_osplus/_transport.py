"""Transports: where files wait, are read, published, archived and quarantined.

The contract is deliberately small (httpx's ``_transports/base.py`` is the model): a
:class:`Transport` lists the files waiting in its inbox, opens one for reading (a binary file
object, so large files stream), publishes one to its outbox **atomically** (a reader on the other
side never sees a half-written file), and moves a processed one to the archive or to quarantine.
Every backend failure is raised as :class:`~emma_osplus.TransportError` with the backend's
exception as ``__cause__``.  Every name is checked before it touches a backend: a name that could
escape its folder is refused with E108 (:class:`~emma_osplus.FileNameError`).

Built in (standard library only):

- :class:`MemoryTransport`: dictionaries; the default in tests and notebooks.
  :meth:`MemoryTransport.pair` connects two of them (one side's outbox is the other's inbox).
- :class:`DirectoryTransport`: inbox / outbox / archive / quarantine folders; publishing writes
  a hidden temporary file, fsyncs it, and renames it into place.

Remote storage (SFTP, SMB, S3, ...) goes through fsspec: see :mod:`emma_osplus.fsspec`.

>>> from emma_osplus import MemoryTransport
>>> osplus, emma = MemoryTransport.pair()
>>> osplus.publish("37050198_KMM_K1_20261122093000_0001.csv", b"KUNDENNUMMER;EMAIL\\r\\n")
>>> emma.waiting()
['37050198_KMM_K1_20261122093000_0001.csv']
>>> emma.read("37050198_KMM_K1_20261122093000_0001.csv")
b'KUNDENNUMMER;EMAIL\\r\\n'
>>> emma.archive("37050198_KMM_K1_20261122093000_0001.csv")
>>> emma.waiting(), sorted(emma.archived)
([], ['37050198_KMM_K1_20261122093000_0001.csv'])
>>> emma.read("../etc/passwd")
Traceback (most recent call last):
...
emma_osplus._errors.FileNameError: E108: Dateiname entspricht nicht der Namenskonvention (path separator '/')
"""

from __future__ import annotations

import abc
import contextlib
import errno
import io
import os
import stat
import uuid
from collections.abc import Iterable, Iterator, MutableMapping
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ._errors import TransportError
from ._filenames import check_safe_name

__all__ = ["DirectoryTransport", "MemoryTransport", "Transport"]

Payload = bytes | Iterable[bytes]


def _chunks(data: Payload) -> Iterator[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
    else:
        yield from data


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):  # best effort after a failure
        path.unlink(missing_ok=True)


class Transport(abc.ABC):
    """The transport contract.  Subclasses implement the five abstract methods.

    Names are plain file names (no folders).  :meth:`waiting` lists the inbox in name order,
    which for the file-name grammar is institute, kind, order, creation time, sequence.
    """

    @abc.abstractmethod
    def waiting(self) -> list[str]:
        """Names of the files waiting in the inbox, sorted."""

    @abc.abstractmethod
    def open(self, name: str) -> BinaryIO:
        """A binary file object for reading a waiting file (close it, or use ``with``)."""

    @abc.abstractmethod
    def publish(self, name: str, data: Payload) -> None:
        """Write a file to the outbox atomically (bytes or an iterable of byte chunks)."""

    @abc.abstractmethod
    def archive(self, name: str) -> None:
        """Move a processed file from the inbox to the archive."""

    @abc.abstractmethod
    def quarantine(self, name: str) -> None:
        """Move a bad file from the inbox to quarantine."""

    def read(self, name: str) -> bytes:
        """The whole content of a waiting file."""
        with self.open(name) as stream:
            return stream.read()

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release the backend's resources."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MemoryTransport(Transport):
    """A transport over dictionaries (name → bytes).

    ``inbox`` and ``outbox`` may be shared with another transport (see :meth:`pair`); the
    archive and quarantine are this transport's own.
    """

    def __init__(
        self,
        inbox: MutableMapping[str, bytes] | None = None,
        outbox: MutableMapping[str, bytes] | None = None,
    ) -> None:
        self.inbox: MutableMapping[str, bytes] = {} if inbox is None else inbox
        self.outbox: MutableMapping[str, bytes] = {} if outbox is None else outbox
        self.archived: dict[str, bytes] = {}
        self.quarantined: dict[str, bytes] = {}

    @classmethod
    def pair(cls) -> tuple[MemoryTransport, MemoryTransport]:
        """Two connected transports: what one publishes waits in the other's inbox."""
        a_to_b: dict[str, bytes] = {}
        b_to_a: dict[str, bytes] = {}
        return cls(inbox=b_to_a, outbox=a_to_b), cls(inbox=a_to_b, outbox=b_to_a)

    def deliver(self, name: str, data: Payload) -> None:
        """Put a file into this transport's inbox (what the other side would publish)."""
        self.inbox[check_safe_name(name)] = b"".join(_chunks(data))

    def waiting(self) -> list[str]:
        return sorted(self.inbox)

    def open(self, name: str) -> BinaryIO:
        return io.BytesIO(self._get(name))

    def publish(self, name: str, data: Payload) -> None:
        content = b"".join(_chunks(data))  # complete before it becomes visible
        self.outbox[check_safe_name(name)] = content

    def archive(self, name: str) -> None:
        self.archived[name] = self._pop(name)

    def quarantine(self, name: str) -> None:
        self.quarantined[name] = self._pop(name)

    def _get(self, name: str) -> bytes:
        try:
            return self.inbox[check_safe_name(name)]
        except KeyError as exc:
            raise TransportError(f"{name!r} is not waiting in the inbox") from exc

    def _pop(self, name: str) -> bytes:
        data = self._get(name)
        del self.inbox[name]
        return data


class DirectoryTransport(Transport):
    """A transport over local folders.

    ``archive`` and ``quarantine`` default to sub-folders of the inbox (``archive/`` and
    ``quarantine/``); only regular files directly in the inbox whose names do not start with a
    dot are waiting, so temporary files of a writer on the other side are never seen.
    """

    def __init__(
        self,
        inbox: str | os.PathLike[str],
        outbox: str | os.PathLike[str],
        *,
        archive: str | os.PathLike[str] | None = None,
        quarantine: str | os.PathLike[str] | None = None,
        fsync: bool = True,
    ) -> None:
        self.inbox = Path(inbox)
        self.outbox = Path(outbox)
        self.archive_dir = Path(archive) if archive is not None else self.inbox / "archive"
        self.quarantine_dir = (
            Path(quarantine) if quarantine is not None else self.inbox / "quarantine"
        )
        self.fsync = fsync
        for name, folder in (
            ("inbox", self.inbox),
            ("archive", self.archive_dir),
            ("quarantine", self.quarantine_dir),
        ):
            if os.path.abspath(folder) == os.path.abspath(self.outbox):
                # the partner's files would be sent back, our own read as the partner's
                raise TransportError(f"the outbox is the {name} folder: {self.outbox}")
        try:
            for folder in (self.inbox, self.outbox, self.archive_dir, self.quarantine_dir):
                folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TransportError(f"cannot prepare folders: {exc}") from exc

    def __repr__(self) -> str:
        return f"DirectoryTransport(inbox={str(self.inbox)!r}, outbox={str(self.outbox)!r})"

    def waiting(self) -> list[str]:
        try:
            return sorted(
                entry.name
                for entry in os.scandir(self.inbox)
                if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
            )
        except OSError as exc:
            raise TransportError(f"cannot list {self.inbox}: {exc}") from exc

    def open(self, name: str) -> BinaryIO:
        """Open a waiting file: a regular file directly in the inbox, never through a symbolic
        link (one put there after the listing could point anywhere) nor a FIFO or device."""
        path = self.inbox / check_safe_name(name)
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            if not hasattr(os, "O_NOFOLLOW") and path.is_symlink():
                raise TransportError(f"cannot open {name!r}: it is a symbolic link")
            descriptor = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise TransportError(f"cannot open {name!r}: it is a symbolic link") from exc
            raise TransportError(f"cannot open {name!r}: {exc}") from exc
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise TransportError(f"cannot open {name!r}: not a regular file")
            if hasattr(os, "set_blocking"):
                os.set_blocking(descriptor, True)
            return os.fdopen(descriptor, "rb")
        except BaseException:
            os.close(descriptor)
            raise

    def publish(self, name: str, data: Payload) -> None:
        final = self.outbox / check_safe_name(name)
        temporary = self.outbox / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            with temporary.open("wb") as stream:
                for chunk in _chunks(data):
                    stream.write(chunk)
                stream.flush()
                if self.fsync:
                    os.fsync(stream.fileno())
            os.replace(temporary, final)
            self._sync_folder(self.outbox)
        except OSError as exc:
            _discard(temporary)
            raise TransportError(f"cannot publish {name!r}: {exc}") from exc
        except BaseException:
            _discard(temporary)
            raise

    def archive(self, name: str) -> None:
        self._move(name, self.archive_dir)

    def quarantine(self, name: str) -> None:
        self._move(name, self.quarantine_dir)

    def _move(self, name: str, folder: Path) -> None:
        source = self.inbox / check_safe_name(name)
        target = folder / name
        counter = 1
        while target.exists():  # a file of the same name was moved before: keep both
            target = folder / f"{name}.{counter}"
            counter += 1
        try:
            os.replace(source, target)
            self._sync_folder(folder)
            self._sync_folder(self.inbox)
        except OSError as exc:
            raise TransportError(f"cannot move {name!r} to {folder}: {exc}") from exc

    def _sync_folder(self, folder: Path) -> None:
        if not self.fsync or os.name != "posix":
            return
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
