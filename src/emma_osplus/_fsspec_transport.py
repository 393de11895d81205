"""A transport over any fsspec file system: SFTP, SMB, S3, local, memory, ...

Needs the optional extra ``emma-osplus[fsspec]`` (fsspec, and paramiko for SFTP); fsspec is
imported only when a transport is created.  The folder layout and the guarantees are those of
:class:`~emma_osplus.DirectoryTransport`: publishing writes a hidden temporary name in the
outbox and renames it into place.  On SFTP the rename is OpenSSH's ``posix-rename``, atomic and
overwriting; object stores (S3) have no rename, so there a reader may see a file being copied —
use a manifest-last protocol there (deliveries already write their manifest last).

>>> import fsspec
>>> from emma_osplus import FsspecTransport
>>> fs = fsspec.filesystem("memory")
>>> transport = FsspecTransport(fs, "/doc/inbox", "/doc/outbox")
>>> transport.publish("37050198_QUIT_0_20261122093000_0001.xml", [b"<quittung/>", b"\\n"])
>>> fs.cat("/doc/outbox/37050198_QUIT_0_20261122093000_0001.xml")
b'<quittung/>\\n'
"""

from __future__ import annotations

import posixpath
import uuid
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ._errors import TransportError
from ._filenames import check_safe_name
from ._transport import Payload, Transport, _chunks

if TYPE_CHECKING:  # pragma: no cover
    from fsspec import AbstractFileSystem

__all__ = ["FsspecTransport"]


def _backend_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        import paramiko  # noqa: PLC0415 - optional, only to map its errors

        errors.append(paramiko.SSHException)
    except ImportError:  # pragma: no cover - paramiko is in the extra
        pass
    return tuple(errors)


class FsspecTransport(Transport):
    """A transport over an fsspec file system ``fs`` with absolute folder paths."""

    def __init__(
        self,
        fs: AbstractFileSystem,
        inbox: str,
        outbox: str,
        *,
        archive: str | None = None,
        quarantine: str | None = None,
    ) -> None:
        self.fs = fs
        self.inbox = inbox.rstrip("/")
        self.outbox = outbox.rstrip("/")
        self.archive_dir = (archive or posixpath.join(self.inbox, "archive")).rstrip("/")
        self.quarantine_dir = (quarantine or posixpath.join(self.inbox, "quarantine")).rstrip("/")
        self._errors = _backend_errors()
        try:
            for folder in (self.inbox, self.outbox, self.archive_dir, self.quarantine_dir):
                fs.makedirs(folder, exist_ok=True)
        except self._errors as exc:
            raise TransportError(f"cannot prepare folders: {exc}") from exc

    @classmethod
    def from_url(cls, inbox_url: str, outbox_url: str, **storage_options: Any) -> FsspecTransport:
        """A transport from two URLs on the same file system, e.g.
        ``sftp://emma@host:2222/data/inbox`` (``storage_options`` go to fsspec)."""
        from fsspec.core import url_to_fs  # noqa: PLC0415 - optional dependency

        fs, inbox = url_to_fs(inbox_url, **storage_options)
        _, outbox = url_to_fs(outbox_url, **storage_options)
        return cls(fs, inbox, outbox)

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"FsspecTransport({protocol}, inbox={self.inbox!r}, outbox={self.outbox!r})"

    def waiting(self) -> list[str]:
        try:
            entries = self.fs.ls(self.inbox, detail=True)
        except self._errors as exc:
            raise TransportError(f"cannot list {self.inbox}: {exc}") from exc
        names = (
            posixpath.basename(str(entry["name"]).rstrip("/"))
            for entry in entries
            if entry.get("type") == "file"
        )
        return sorted(name for name in names if not name.startswith("."))

    def open(self, name: str) -> BinaryIO:
        path = posixpath.join(self.inbox, check_safe_name(name))
        try:
            return cast(BinaryIO, self.fs.open(path, "rb"))
        except self._errors as exc:
            raise TransportError(f"cannot open {name!r}: {exc}") from exc

    def publish(self, name: str, data: Payload) -> None:
        final = posixpath.join(self.outbox, check_safe_name(name))
        temporary = posixpath.join(self.outbox, f".{name}.{uuid.uuid4().hex}.tmp")
        try:
            with self.fs.open(temporary, "wb") as stream:
                for chunk in _chunks(data):
                    stream.write(chunk)
            self.fs.mv(temporary, final)
        except self._errors as exc:
            self._discard(temporary)
            raise TransportError(f"cannot publish {name!r}: {exc}") from exc
        except BaseException:
            self._discard(temporary)
            raise

    def archive(self, name: str) -> None:
        self._move(name, self.archive_dir)

    def quarantine(self, name: str) -> None:
        self._move(name, self.quarantine_dir)

    def close(self) -> None:
        client = getattr(self.fs, "client", None)  # SFTP keeps an SSH connection
        if client is not None and hasattr(client, "close"):
            client.close()

    def _move(self, name: str, folder: str) -> None:
        source = posixpath.join(self.inbox, check_safe_name(name))
        try:
            target = posixpath.join(folder, name)
            counter = 1
            while self.fs.exists(target):
                target = posixpath.join(folder, f"{name}.{counter}")
                counter += 1
            self.fs.mv(source, target)
        except self._errors as exc:
            raise TransportError(f"cannot move {name!r} to {folder}: {exc}") from exc

    def _discard(self, path: str) -> None:
        try:
            if self.fs.exists(path):
                self.fs.rm(path)
        except self._errors:  # pragma: no cover - best effort after a failure
            pass
