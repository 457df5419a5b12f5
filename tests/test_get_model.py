"""`get-model`, against an archive served over real HTTP on localhost (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import pty
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from assistant.model_download import MODELS
from tests.conftest import ROOT, cli

NAME = MODELS["small-en-us"].name


def model_zip(extra: dict[str, bytes] | None = None) -> bytes:
    """An archive shaped like the real one (a vosk model directory), small enough for a test."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{NAME}/am/final.mdl", os.urandom(300_000))
        z.writestr(f"{NAME}/conf/model.conf", "--sample-frequency=16000\n")
        z.writestr(f"{NAME}/graph/HCLr.fst", b"fst")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def server():
    """Serves whatever bytes the test puts in `files`, at http://127.0.0.1:PORT/<name>."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield files, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def get_model(models: Path, url: str, sha: str) -> subprocess.CompletedProcess:
    return cli("get-model", "--dir", str(models), "--url", url, "--sha256", sha, timeout=120)


def test_a_verified_model_is_installed_where_run_finds_it(server, tmp_path):
    files, base = server
    files["m.zip"] = data = model_zip()
    out = get_model(tmp_path / "models", f"{base}/m.zip", hashlib.sha256(data).hexdigest())
    assert out.returncode == 0, out.stderr
    model = tmp_path / "models" / NAME
    assert (model / "am" / "final.mdl").stat().st_size == 300_000
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [NAME]  # no temporary left
    again = get_model(tmp_path / "models", f"{base}/gone.zip", "0" * 64)  # present: no download
    assert again.returncode == 0 and "Model ready" in again.stdout


@pytest.mark.parametrize("problem", ["checksum", "traversal", "not a model", "404"])
def test_a_bad_download_installs_nothing_and_says_why(server, tmp_path, problem):
    files, base = server
    data = {"checksum": model_zip(), "traversal": model_zip({f"{NAME}/../../evil.txt": b"x"}),
            "not a model": b"PK\x05\x06" + b"\0" * 18, "404": b""}[problem]
    files["m.zip"] = data
    sha = hashlib.sha256(data).hexdigest() if problem != "checksum" else "0" * 64
    url = f"{base}/m.zip" if problem != "404" else f"{base}/missing.zip"
    out = get_model(tmp_path / "models", url, sha)
    assert out.returncode == 1
    expected = {"checksum": "checksum mismatch", "traversal": "unexpected path",
                "not a model": "does not contain a vosk model", "404": "404"}[problem]
    assert expected in out.stderr
    assert list((tmp_path / "models").iterdir()) == []
    assert not (tmp_path / "evil.txt").exists()


def test_the_pinned_model_is_the_published_small_english_one():
    spec = MODELS["small-en-us"]
    assert spec.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert spec.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"


def test_a_terminal_sees_a_progress_bar(server, tmp_path):
    files, base = server
    files["m.zip"] = data = model_zip()
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "get-model", "--dir", str(tmp_path),
                             "--url", f"{base}/m.zip", "--sha256", hashlib.sha256(data).hexdigest()],
                            cwd=ROOT, stdin=slave, stdout=slave, stderr=slave, env={**os.environ,
                                                                                    "COLUMNS": "100"})
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    os.close(master)
    text = seen.decode("utf-8", "replace")
    assert f"{NAME}.zip" in text and "━" in text  # the bar, labelled with the file
    assert "Model ready" in text
