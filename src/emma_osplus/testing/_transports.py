"""A reusable contract test suite for transports (pytest).

Subclass :class:`TransportContract` in a test module under a name pytest collects, and
implement its three hooks for your backend; every built-in transport runs the same suite::

    from emma_osplus import MemoryTransport
    from emma_osplus.testing import TransportContract

    class TestMyTransport(TransportContract):
        def make_transport(self, tmp_path):
            return MemoryTransport()

        def put_in_inbox(self, transport, name, data):
            transport.inbox[name] = data

        def outbox_files(self, transport):
            return dict(transport.outbox)

The suite checks listing, reading (also of large files, in chunks), atomic publishing (a
failed publication leaves nothing under the final name), archiving, quarantine, refusal of
unsafe names (E108) and the mapping of backend failures to :class:`~emma_osplus.TransportError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .._errors import FileNameError, TransportError
from .._transport import Transport

__all__ = ["TransportContract"]

_NAME_A = "37050198_KMM_K2026001_20261122093000_0001.csv"
_NAME_B = "37050198_LIEF_K2026001_20261122093001_0001.xml"
_UNSAFE = ("../evil.csv", "a/b.csv", "a\\b.csv", "/etc/passwd", "", "..", "x\x00.csv")


class TransportContract:
    """The transport contract as pytest tests; implement the three hooks below."""

    #: Whether the backend can hold files whose names start with a dot (temporary files of a
    #: writer); such files must never be listed as waiting.
    supports_hidden_files = True

    def make_transport(self, tmp_path: Path) -> Transport:
        """A fresh transport with an empty inbox and outbox."""
        raise NotImplementedError

    def put_in_inbox(self, transport: Transport, name: str, data: bytes) -> None:
        """Place a file into the transport's inbox, as the other side would."""
        raise NotImplementedError

    def outbox_files(self, transport: Transport) -> dict[str, bytes]:
        """Every file in the outbox (name → content), hidden ones included."""
        raise NotImplementedError

    @pytest.fixture
    def transport(self, tmp_path: Path) -> Iterator[Transport]:
        transport = self.make_transport(tmp_path)
        yield transport
        transport.close()

    def test_empty_inbox(self, transport: Transport) -> None:
        assert transport.waiting() == []

    def test_lists_waiting_files_sorted(self, transport: Transport) -> None:
        self.put_in_inbox(transport, _NAME_B, b"b")
        self.put_in_inbox(transport, _NAME_A, b"a")
        assert transport.waiting() == [_NAME_A, _NAME_B]

    def test_reads_exact_bytes(self, transport: Transport) -> None:
        data = bytes(range(256)) * 3 + b"\r\n\r\x00"
        self.put_in_inbox(transport, _NAME_A, data)
        assert transport.read(_NAME_A) == data

    def test_streams_large_file_in_chunks(self, transport: Transport) -> None:
        block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB
        data = block * 48  # 3 MiB
        self.put_in_inbox(transport, _NAME_A, data)
        digest = hashlib.sha256()
        with transport.open(_NAME_A) as stream:
            while chunk := stream.read(65536):
                assert len(chunk) <= 65536
                digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(data).hexdigest()

    def test_publishes_bytes_and_chunks(self, transport: Transport) -> None:
        transport.publish(_NAME_A, b"whole")
        transport.publish(_NAME_B, iter([b"in ", b"chunks"]))
        outbox = self.outbox_files(transport)
        assert outbox == {_NAME_A: b"whole", _NAME_B: b"in chunks"}
        assert transport.waiting() == []

    def test_publishing_again_replaces(self, transport: Transport) -> None:
        transport.publish(_NAME_A, b"first")
        transport.publish(_NAME_A, b"second")
        assert self.outbox_files(transport) == {_NAME_A: b"second"}

    def test_failed_publication_leaves_nothing(self, transport: Transport) -> None:
        def broken() -> Iterator[bytes]:
            yield b"half of a file"
            raise RuntimeError("writer died")

        with pytest.raises(RuntimeError):
            transport.publish(_NAME_A, broken())
        assert self.outbox_files(transport) == {}

    def test_archive_and_quarantine_remove_from_inbox(self, transport: Transport) -> None:
        self.put_in_inbox(transport, _NAME_A, b"a")
        self.put_in_inbox(transport, _NAME_B, b"b")
        transport.archive(_NAME_A)
        assert transport.waiting() == [_NAME_B]
        transport.quarantine(_NAME_B)
        assert transport.waiting() == []

    def test_same_name_archived_twice_keeps_both(self, transport: Transport) -> None:
        self.put_in_inbox(transport, _NAME_A, b"first")
        transport.archive(_NAME_A)
        self.put_in_inbox(transport, _NAME_A, b"second")
        transport.archive(_NAME_A)
        assert transport.waiting() == []

    @pytest.mark.parametrize("name", _UNSAFE)
    def test_unsafe_names_refused(self, transport: Transport, name: str) -> None:
        calls: list[Any] = [
            lambda: transport.open(name),
            lambda: transport.publish(name, b"x"),
            lambda: transport.archive(name),
            lambda: transport.quarantine(name),
        ]
        for call in calls:
            with pytest.raises(FileNameError) as info:
                call()
            assert info.value.code == "E108"
        assert self.outbox_files(transport) == {}

    def test_missing_file_is_a_transport_error(self, transport: Transport) -> None:
        with pytest.raises(TransportError):
            transport.read(_NAME_A)
        with pytest.raises(TransportError):
            transport.archive(_NAME_A)

    def test_hidden_files_are_not_waiting(self, transport: Transport) -> None:
        if not self.supports_hidden_files:
            pytest.skip("this backend cannot hold hidden files")
        self.put_in_inbox(transport, "." + _NAME_A + ".tmp", b"half")
        self.put_in_inbox(transport, _NAME_B, b"b")
        assert transport.waiting() == [_NAME_B]
