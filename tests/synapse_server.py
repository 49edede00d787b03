"""A real Synapse homeserver for the Matrix tests: 127.0.0.1 only, SQLite in a temporary folder.

`SynapseServer(tmpdir).start()` writes a minimal homeserver.yaml (no federation, no presence, no
rate limits, no key servers, so it never reaches the internet), generates the signing key, starts
`python -m synapse.app.homeserver` and waits until /_matrix/client/versions answers. Users are
registered with the shared registration secret, through the admin API that Synapse's own
`register_new_matrix_user` calls.

Run it by hand to poke at it: `python tests/synapse_server.py` prints the URL and waits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

SERVER_NAME = "localhost"
_UNLIMITED = {"per_second": 10000, "burst_count": 100000}


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the test process dies, even by kill -9 (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, port: int, secret: str) -> dict:
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(root / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(root / "homeserver.db")}},
        "log_config": str(root / "log.yaml"),
        "media_store_path": str(root / "media"),
        "signing_key_path": str(root / "signing.key"),
        "registration_shared_secret": secret,
        "enable_registration": False,
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "user_directory": {"enabled": False},
        "max_upload_size": "10M",
        # Passwords are hashed on every registration and login: the lowest bcrypt cost suits a
        # throwaway test server (Synapse's default of 12 takes a few hundred ms per hash).
        "bcrypt_rounds": 4,
        "rc_message": _UNLIMITED,
        "rc_registration": _UNLIMITED,
        "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
        "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
        "rc_joins_per_room": _UNLIMITED,
        "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
        "rc_key_requests": _UNLIMITED,
        "rc_room_creation": _UNLIMITED,
        "rc_media_create": _UNLIMITED,
        "rc_profile": _UNLIMITED,
        "rc_admin_redaction": _UNLIMITED,
        "rc_3pid_validation": _UNLIMITED,
    }


_LOG_CONFIG = """\
version: 1
formatters:
  precise: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: precise, filename: LOGFILE}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


class SynapseServer:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen | None = None

    @property
    def db_path(self) -> Path:
        return self.root / "homeserver.db"

    @property
    def config_path(self) -> Path:
        return self.root / "homeserver.yaml"

    def start(self, timeout: float = 60) -> SynapseServer:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "media").mkdir(exist_ok=True)
        (self.root / "log.yaml").write_text(_LOG_CONFIG.replace("LOGFILE", str(self.root / "homeserver.log")))
        # JSON is YAML: no need for a YAML writer here.
        self.config_path.write_text(json.dumps(_config(self.root, self.port, self.secret), indent=1))
        env = dict(os.environ, SYNAPSE_ASYNC_IO_REACTOR="0")
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(self.config_path), "--generate-keys"],
            check=True,
            capture_output=True,
            env=env,
            cwd=self.root,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(self.config_path)],
            stdout=open(self.root / "stdout.log", "wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.root,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"synapse exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"synapse did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            p = self.root / name
            if p.exists():
                text += "\n".join(p.read_text(errors="replace").splitlines()[-n:]) + "\n"
        return text

    def register(self, localpart: str, password: str, admin: bool = False) -> str:
        """Register a user with the shared secret; return the mxid.

        The same admin API call as Synapse's `register_new_matrix_user`, made here over HTTP rather
        than by starting that script (a new Python process that imports Synapse, for every bot)."""
        url = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(url, timeout=30) as r:
            nonce = json.load(r)["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join([nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"])
        )
        body = {"nonce": nonce, "username": localpart, "password": password, "mac": mac.hexdigest(), "admin": admin}
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except urllib.error.HTTPError as exc:
            raise RuntimeError(
                f"registering {localpart} failed: {exc.code} {exc.read().decode(errors='replace')}"
            ) from exc
        return f"@{localpart}:{SERVER_NAME}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # -- inspection (for the "no plaintext on the server" test) ----------------------------------
    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def database_bytes(self) -> bytes:
        """Every byte Synapse keeps in its SQLite files (main file, WAL, journal)."""
        data = b""
        for p in self.root.glob("homeserver.db*"):
            data += p.read_bytes()
        return data


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.monotonic()
        server = SynapseServer(tmp).start()
        print(f"synapse at {server.url} after {time.monotonic() - t0:.1f}s; secret {server.secret}", flush=True)
        try:
            signal.pause()
        finally:
            server.stop()
