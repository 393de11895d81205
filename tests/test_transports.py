"""Every built-in transport passes the same contract suite (emma_osplus.testing).

The SFTP case runs against a real OpenSSH server that the fixture starts on loopback.  When
``EMMA_OSPLUS_REQUIRE_SFTP`` is set (the nox ``tests`` session sets it after installing
``openssh-server``), a missing ``sshd`` is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from emma_osplus import DirectoryTransport, FsspecTransport, MemoryTransport, TransportError
from emma_osplus.testing import TransportContract

NAME = "37050198_KMM_K2026001_20261122093000_0001.csv"


class TestMemoryTransport(TransportContract):
    supports_hidden_files = False

    def make_transport(self, tmp_path: Path) -> MemoryTransport:
        return MemoryTransport()

    def put_in_inbox(self, transport: Any, name: str, data: bytes) -> None:
        transport.deliver(name, data)

    def outbox_files(self, transport: Any) -> dict[str, bytes]:
        return dict(transport.outbox)


class TestDirectoryTransport(TransportContract):
    def make_transport(self, tmp_path: Path) -> DirectoryTransport:
        return DirectoryTransport(tmp_path / "inbox", tmp_path / "outbox")

    def put_in_inbox(self, transport: Any, name: str, data: bytes) -> None:
        (transport.inbox / name).write_bytes(data)

    def outbox_files(self, transport: Any) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in transport.outbox.iterdir() if p.is_file()}


class TestFsspecMemoryTransport(TransportContract):
    def make_transport(self, tmp_path: Path) -> FsspecTransport:
        fs = fsspec.filesystem("memory", skip_instance_cache=True)
        root = f"/{tmp_path.name}"
        return FsspecTransport(fs, f"{root}/inbox", f"{root}/outbox")

    def put_in_inbox(self, transport: Any, name: str, data: bytes) -> None:
        transport.fs.pipe_file(f"{transport.inbox}/{name}", data)

    def outbox_files(self, transport: Any) -> dict[str, bytes]:
        return _fs_files(transport.fs, transport.outbox)


def _fs_files(fs: Any, folder: str) -> dict[str, bytes]:
    return {
        entry["name"].rsplit("/", 1)[-1]: fs.cat_file(entry["name"])
        for entry in fs.ls(folder, detail=True)
        if entry["type"] == "file"
    }


# --- a real OpenSSH server on loopback -------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    binary = shutil.which("sshd") or next(
        (p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.path.exists(p)), None
    )
    if binary is None:
        if os.environ.get("EMMA_OSPLUS_REQUIRE_SFTP"):
            pytest.fail("sshd is required (EMMA_OSPLUS_REQUIRE_SFTP) but not installed")
        pytest.skip("OpenSSH server not installed (apt-get install openssh-server)")
    home = tmp_path_factory.mktemp("sshd")
    host_key, user_key = home / "host_key", home / "user_key"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = home / "authorized_keys"
    authorized.write_text(Path(f"{user_key}.pub").read_text())
    authorized.chmod(0o600)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    port = _free_port()
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
        f"PidFile {home / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n"
    )
    log = home / "sshd.log"
    with log.open("wb") as log_stream:
        process = subprocess.Popen(
            [binary, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log_stream,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    import getpass

    try:
        yield {
            "host": "127.0.0.1",
            "port": port,
            "username": getpass.getuser(),
            "key_filename": str(user_key),
            "root": home / "files",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


class TestSftpTransport(TransportContract):
    """fsspec's SFTP file system (paramiko) against OpenSSH's sftp-server on loopback."""

    @pytest.fixture
    def transport(self, tmp_path: Path, sshd: dict[str, Any]) -> Iterator[FsspecTransport]:
        fs = fsspec.filesystem(
            "sftp",
            host=sshd["host"],
            port=sshd["port"],
            username=sshd["username"],
            key_filename=sshd["key_filename"],
            look_for_keys=False,
            allow_agent=False,
            skip_instance_cache=True,
        )
        root = tmp_path / "sftp"
        transport = FsspecTransport(fs, f"{root}/inbox", f"{root}/outbox")
        yield transport
        transport.close()

    def put_in_inbox(self, transport: Any, name: str, data: bytes) -> None:
        Path(transport.inbox, name).write_bytes(data)  # the server's disk is ours

    def outbox_files(self, transport: Any) -> dict[str, bytes]:
        folder = Path(transport.outbox)
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_sftp_from_url(sshd: dict[str, Any], tmp_path: Path) -> None:
    url = f"sftp://{sshd['username']}@{sshd['host']}:{sshd['port']}{tmp_path}"
    transport = FsspecTransport.from_url(
        f"{url}/in", f"{url}/out", key_filename=sshd["key_filename"], look_for_keys=False
    )
    with transport:
        transport.publish(NAME, b"over ssh")
    assert (tmp_path / "out" / NAME).read_bytes() == b"over ssh"


def test_directory_backend_errors_are_transport_errors(tmp_path: Path) -> None:
    transport = DirectoryTransport(tmp_path / "in", tmp_path / "out")
    shutil.rmtree(tmp_path / "out")
    (tmp_path / "out").write_text("a file where the outbox should be")
    with pytest.raises(TransportError) as info:
        transport.publish(NAME, b"x")
    assert isinstance(info.value.__cause__, OSError)


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="POSIX links")
def test_directory_open_never_follows_a_link_out_of_the_inbox(tmp_path: Path) -> None:
    """A symbolic link (one swapped in after the listing, say) or a FIFO under a waiting
    name is refused, never read: the partner must not make us read files outside the inbox."""
    secret = tmp_path / "secret.csv"
    secret.write_bytes(b"not for the processor")
    transport = DirectoryTransport(tmp_path / "in", tmp_path / "out")
    (tmp_path / "in" / "link.csv").symlink_to(secret)
    os.mkfifo(tmp_path / "in" / "pipe.csv")
    assert transport.waiting() == []  # neither is listed ...
    with pytest.raises(TransportError, match="symbolic link"):  # ... nor opened by name
        transport.read("link.csv")
    with pytest.raises(TransportError, match="not a regular file"):
        transport.read("pipe.csv")
    (tmp_path / "in" / "plain.csv").write_bytes(b"data")
    assert transport.read("plain.csv") == b"data"


@pytest.mark.parametrize("where", ["inbox", "archive", "quarantine"])
def test_directory_outbox_must_be_its_own_folder(tmp_path: Path, where: str) -> None:
    """An outbox that is the inbox (or its archive or quarantine) would make a side read its
    own files as the partner's: refused when the transport is made."""
    inbox = tmp_path / "in"
    folders = {"inbox": inbox, "archive": inbox / "archive", "quarantine": inbox / "quarantine"}
    with pytest.raises(TransportError, match=f"the outbox is the {where} folder"):
        DirectoryTransport(inbox, tmp_path / "x" / ".." / folders[where].relative_to(tmp_path))


def test_directory_publish_is_never_half_visible(tmp_path: Path) -> None:
    """While a publication is being written, the final name does not exist."""
    transport = DirectoryTransport(tmp_path / "in", tmp_path / "out", fsync=False)
    seen: list[bool] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            seen.append((tmp_path / "out" / NAME).exists())
            yield b"x" * 1000

    transport.publish(NAME, chunks())
    assert seen == [False, False, False]
    assert (tmp_path / "out" / NAME).read_bytes() == b"x" * 3000
    assert [p.name for p in (tmp_path / "out").iterdir()] == [NAME]


def test_memory_pair_connects_sides() -> None:
    osplus, emma = MemoryTransport.pair()
    emma.publish(NAME, b"to osplus")
    assert osplus.waiting() == [NAME]
    assert emma.waiting() == []
