"""Delivery verification: every code it gives (E102, E103, E104, E108, E306, and the list's own
file-level codes), with mappings and callables, bytes and file objects."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emma_osplus import IntegrityError, OccasionCode
from emma_osplus._manifest import Manifest, ManifestFile, ManifestOptions, write_manifest
from emma_osplus._subscribers import read_subscriber_list
from emma_osplus._verify import DeliveryVerification, image_type, verify_delivery
from emma_osplus.testing._csv import subscriber_list_files

LIST = "37050198_KMM_K2026001_20261122093000_0001.csv"
CSV = (
    "KUNDENNUMMER;EMAIL;VORNAME;BERATERBILD;FAKSIMILE\r\n"
    "0000004711;anna@example.de;Jörg;berater_0042.jpg;faks_0042.png\r\n"
    "0000004712;bernd@example.de;Bernd;berater_0042.jpg;\r\n"
    "0000004713;carla@example.de;Carla;berater_0007.gif;\r\n"
).encode("cp1252")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(50)
GIF = b"GIF89a" + bytes(30)
FILES = {LIST: CSV, "berater_0042.jpg": JPEG, "faks_0042.png": PNG, "berater_0007.gif": GIF}
ROLES = {
    "berater_0042.jpg": "beraterbild",
    "faks_0042.png": "faksimile",
    "berater_0007.gif": "beraterbild",
}


def entry(name: str, data: bytes, **more: Any) -> ManifestFile:
    rolle = "abonnenten" if name.endswith(".csv") else ROLES.get(name, "beraterbild")
    return ManifestFile(name, rolle, len(data), hashlib.sha256(data).hexdigest(), **more)


def manifest_for(
    files: dict[str, bytes], *, art: str = "KMM", saetze: int = 3, **more: Any
) -> Manifest:
    entries = [
        entry(name, data, saetze=saetze, **more) if name.endswith(".csv") else entry(name, data)
        for name, data in files.items()
    ]
    return Manifest(
        blz="37050198",
        nummer="K2026001",
        art=art,
        bezeichnung="Herbst_Aktion_2026",
        erstellt=dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone.utc),
        anlass="MCAG002" if art == "REKU" else None,
        options=ManifestOptions(weiterleitung_sfp=False, beraterbilder=True, faksimiles=True),
        files=entries,
    )


MANIFEST = manifest_for(FILES)


def codes(result: DeliveryVerification) -> list[str]:
    return [m.code for m in result.messages]


def test_a_complete_delivery_is_ok() -> None:
    result = verify_delivery(MANIFEST, FILES)
    assert result.ok, result.messages
    assert result.messages == ()
    assert [f.name for f in result.files] == list(FILES)
    assert (result.rows, result.rejected) == (3, 0)
    result.raise_for_errors()


class CountingFile(io.BytesIO):
    """A binary file that records how it was read and whether it was closed."""

    reads: list[int]

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = []
        self.was_closed = False

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append(-1 if size is None else size)
        return super().read(size)

    def close(self) -> None:
        self.was_closed = True
        super().close()


@pytest.mark.parametrize("chunk_size", [1, 5, 7, 1 << 20])
def test_file_objects_are_read_once_in_chunks_and_closed(chunk_size: int) -> None:
    opened: list[CountingFile] = []

    def read(name: str) -> CountingFile:
        f = CountingFile(FILES[name])
        opened.append(f)
        return f

    result = verify_delivery(MANIFEST, read, chunk_size=chunk_size)
    assert result.ok, result.messages
    assert result.rows == 3
    assert len(opened) == len(FILES)
    for f in opened:
        assert f.was_closed
        assert all(size == chunk_size for size in f.reads)


def test_size_and_hash_mismatch_is_e102() -> None:
    longer = {**FILES, "faks_0042.png": PNG + b"x"}
    result = verify_delivery(MANIFEST, longer)
    assert codes(result) == ["E102"]
    [m] = result.messages
    assert (m.field, m.raw) == ("lieferschein/dateien/datei/@bytes", "faks_0042.png")
    assert f"{len(PNG) + 1} bytes, the manifest says {len(PNG)}; the SHA-256 differs" in (
        m.detail or ""
    )
    same_size = {**FILES, "faks_0042.png": PNG[:-1] + b"x"}
    result = verify_delivery(MANIFEST, same_size)
    assert codes(result) == ["E102"]
    assert result.messages[0].field == "lieferschein/dateien/datei/@sha256"
    assert "faks_0042.png" not in [f.name for f in result.files]
    with pytest.raises(IntegrityError):
        result.raise_for_errors()


def raising(error: type[Exception]) -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        if name == LIST:
            raise error(name)
        return FILES[name]

    return read


@pytest.mark.parametrize(
    "read",
    [
        {k: v for k, v in FILES.items() if k != LIST},
        raising(FileNotFoundError),
        raising(KeyError),
        lambda name: None if name == LIST else FILES[name],
    ],
    ids=["mapping", "FileNotFoundError", "KeyError", "None"],
)
def test_missing_subscriber_list_is_e103(read: Any) -> None:
    result = verify_delivery(MANIFEST, read)
    assert codes(result) == ["E103"]
    assert result.messages[0].raw == LIST
    assert result.rows is None
    assert not result.ok


def test_other_read_failures_propagate() -> None:
    with pytest.raises(PermissionError):
        verify_delivery(MANIFEST, raising(PermissionError))


def test_missing_picture_is_e103_and_e306() -> None:
    result = verify_delivery(MANIFEST, {k: v for k, v in FILES.items() if k != "faks_0042.png"})
    assert codes(result) == ["E103", "E306"]
    assert "faksimile is missing" in (result.messages[1].detail or "")


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"<svg/>", "3c 73 76 67 2f 3e"),
        (b"", "nothing: the file is empty"),
        (b"BM\x00\x00", "42 4d 00 00"),
    ],
)
def test_picture_that_is_not_an_image_is_e306(content: bytes, shown: str) -> None:
    files = {**FILES, "berater_0007.gif": content}
    result = verify_delivery(manifest_for(files), files)
    assert codes(result) == ["E306"]
    assert shown in (result.messages[0].detail or "")


def test_row_count_differs_from_saetze_is_e104() -> None:
    result = verify_delivery(manifest_for(FILES, saetze=1000), FILES)
    assert codes(result) == ["E104"]
    assert "3 rows, the manifest says 1000" in (result.messages[0].detail or "")
    bad_row = CSV + b"12x;x@y.de;X;;\r\n"  # rejected rows count as rows
    files = {**FILES, LIST: bad_row}
    result = verify_delivery(manifest_for(files, saetze=4), files)
    assert result.ok, result.messages
    assert (result.rows, result.rejected) == (4, 1)


def test_picture_named_in_rows_but_not_listed_is_e306() -> None:
    files = {k: v for k, v in FILES.items() if k != "berater_0042.jpg"}
    result = verify_delivery(manifest_for(files), files)
    assert codes(result) == ["E306"]
    [m] = result.messages
    assert (m.line, m.field) == (2, "BERATERBILD")
    assert m.raw is not None
    assert m.raw.startswith("0000004711;")
    assert "'berater_0042.jpg' is not in the manifest, not as beraterbild (named in 2 rows" in (
        m.detail or ""
    )


def test_picture_listed_in_the_wrong_role_is_e306() -> None:
    wrong = attrs.evolve(
        MANIFEST,
        files=[
            attrs.evolve(f, rolle="beraterbild") if f.name == "faks_0042.png" else f
            for f in MANIFEST.files
        ],
    )
    result = verify_delivery(wrong, FILES)
    assert codes(result) == ["E306"]
    assert result.messages[0].field == "FAKSIMILE"
    assert "is listed as beraterbild, not as faksimile" in (result.messages[0].detail or "")


def test_subscriber_list_name_is_checked() -> None:
    for name, detail in [
        ("kunden.csv", "parts separated by '_'"),
        ("37050198_IAM_K2026001_20261122093000_0001.csv", "a IAM file in a delivery of art KMM"),
    ]:
        files = {name: CSV, **{k: v for k, v in FILES.items() if k != LIST}}
        result = verify_delivery(manifest_for(files), files)
        assert codes(result) == ["E108"]
        assert detail in (result.messages[0].detail or "")


def test_manifest_name_is_checked() -> None:
    ok = "37050198_LIEF_K2026001_20261122093500_0001.xml"
    assert verify_delivery(MANIFEST, FILES, manifest_name=ok).ok
    result = verify_delivery(MANIFEST, FILES, manifest_name=LIST)
    assert codes(result) == ["E108"]
    result = verify_delivery(MANIFEST, FILES, manifest_name="../lieferschein.xml")
    assert codes(result) == ["E108"]


def test_manifest_as_bytes() -> None:
    result = verify_delivery(write_manifest(MANIFEST), FILES)
    assert result.ok
    assert result.manifest == MANIFEST
    result = verify_delivery(io.BytesIO(write_manifest(MANIFEST)), FILES)
    assert result.ok
    broken = verify_delivery(b"<!DOCTYPE x><lieferschein/>", FILES)
    assert (broken.ok, broken.manifest, codes(broken)) == (False, None, ["E105"])


def test_file_level_problems_of_the_list_are_reported() -> None:
    files = {**FILES, LIST: b"KUNDENNUMMER;VORNAME\r\n1;Anna\r\n"}
    result = verify_delivery(manifest_for(files), files)
    assert codes(result) == ["E107"]
    assert LIST in (result.messages[0].detail or "")
    assert result.rows is None


def test_declared_encoding_is_used_strictly() -> None:
    result = verify_delivery(manifest_for(FILES, encoding="utf-8"), FILES)
    assert codes(result) == ["E101"]
    files = {**FILES, LIST: CSV.decode("cp1252").encode("utf-8")}
    assert verify_delivery(manifest_for(files, encoding="utf-8"), files).ok


def test_reku_occasions_resolve_with_the_given_registry() -> None:
    reku = "37050198_REKU_K2026001_20261122093000_0001.csv"
    files = {reku: b"KUNDENNUMMER;EMAIL;ANLASS\r\n1;a@b.de;MCZZ999\r\n2;c@d.de;AG002\r\n"}
    manifest = manifest_for(files, art="REKU", saetze=2)
    result = verify_delivery(manifest, files)
    assert result.ok  # an unknown occasion rejects the row; the delivery is complete
    assert (result.rows, result.rejected) == (2, 1)
    result = verify_delivery(manifest, files, occasions=OccasionCode)
    assert (result.rows, result.rejected) == (2, 0)


def test_image_type() -> None:
    assert [image_type(x) for x in (JPEG, PNG, GIF, b"GIF87a", b"\xff\xd8", b"")] == [
        "jpeg",
        "png",
        "gif",
        "gif",
        None,
        None,
    ]


@settings(max_examples=25, deadline=None)
@given(
    data=subscriber_list_files("KMM", max_rows=6),
    picture=st.sampled_from([JPEG, PNG, GIF]),
    flip=st.integers(0, 10**6),
)
def test_any_changed_byte_is_noticed(data: bytes, picture: bytes, flip: int) -> None:
    """A generated delivery (the list and every picture its rows name) verifies; any byte
    changed in any listed file is E102."""
    files = {LIST: data}
    roles: dict[str, set[str]] = {}
    rows = 0
    for record in read_subscriber_list(data, "KMM", encoding="windows-1252"):
        rows += 1
        for column, rolle in (("BERATERBILD", "beraterbild"), ("FAKSIMILE", "faksimile")):
            name = record.values.get(column, "")  # type: ignore[union-attr]
            if name:
                roles.setdefault(name, set()).add(rolle)
                files[name] = picture
    entries = [entry(LIST, data, saetze=rows, encoding="windows-1252")]
    entries += [attrs.evolve(entry(n, picture), rolle=min(r)) for n, r in roles.items()]
    manifest = attrs.evolve(MANIFEST, files=entries)
    result = verify_delivery(manifest, files)
    # a name used as picture and as facsimile can only be listed in one role: E306
    expected = ["E306"] * sum(len(r) - 1 for r in roles.values())
    assert codes(result) == expected
    name = list(files)[flip % len(files)]
    content = files[name]
    at = flip % len(content)
    changed = {**files, name: content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]}
    result = verify_delivery(manifest, changed)
    assert "E102" in codes(result)
    assert not result.ok


def test_a_transport_can_read_the_files(tmp_path: Any) -> None:
    from emma_osplus import DirectoryTransport, MemoryTransport

    memory = MemoryTransport()
    for name, data in FILES.items():
        memory.deliver(name, data)
    assert verify_delivery(MANIFEST, memory.open).ok
    folder = DirectoryTransport(tmp_path / "in", tmp_path / "out")
    for name, data in FILES.items():
        if name != "faks_0042.png":
            (folder.inbox / name).write_bytes(data)
    assert codes(verify_delivery(MANIFEST, folder.open)) == ["E103", "E306"]
    assert codes(verify_delivery(MANIFEST, MemoryTransport().open))[:1] == ["E103"]
