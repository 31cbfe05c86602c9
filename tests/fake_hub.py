"""A tiny Hugging Face hub on 127.0.0.1 (thread http.server): repo info, the file tree and `resolve` downloads.

It answers exactly what huggingface_hub 2.4 asks during `snapshot_download` / `hf_hub_download`:
GET /api/models/{repo}/revision/{rev}, GET /api/models/{repo}/tree/{commit}[/path]?recursive=…,
HEAD and GET /{repo}/resolve/{rev}/{filename}. Everything else is a 404, and every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeHub:
    repos: dict[str, dict[str, bytes]]  # repo id -> {path in repo: content}
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def file(self, path: str) -> tuple[str, str, bytes] | None:
        """(repo, filename, content) for a /{repo}/resolve/{rev}/{filename} path."""
        for repo, files in self.repos.items():
            prefix = f"/{repo}/resolve/"
            if path.startswith(prefix):
                _rev, _, filename = path[len(prefix):].partition("/")
                if filename in files:
                    return repo, filename, files[filename]
        return None


def _tree(files: dict[str, bytes]) -> list[dict]:
    return [{"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
            for name, data in sorted(files.items())]


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None, head: bool = False) -> None:
            self.send_response(code)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _json(self, obj: object) -> None:
            self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json"})

        def _answer(self, head: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(f"{self.command} {path}")
            for repo, files in hub.repos.items():
                if path.startswith(f"/api/models/{repo}/revision/"):
                    return self._json({"id": repo, "sha": COMMIT, "siblings": [{"rfilename": f} for f in files]})
                if path.startswith(f"/api/models/{repo}/tree/"):
                    return self._json(_tree(files))
            found = hub.file(path)
            if found is None:
                return self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"}, head)
            _repo, _name, data = found
            headers = {"ETag": f'"{hashlib.sha1(data).hexdigest()}"', "X-Repo-Commit": COMMIT,
                       "Content-Type": "application/octet-stream"}
            self._send(200, data, headers, head)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self._answer(head=False)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server API
            self._answer(head=True)

    return Handler


@contextmanager
def serve(repos: dict[str, dict[str, bytes]]) -> Iterator[FakeHub]:
    """Run the fake hub on a free port of 127.0.0.1 for the `with` block; `hub.url` is its endpoint."""
    hub = FakeHub(repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def tiny_diffusers_repo() -> dict[str, bytes]:
    """A text-to-image repo in the diffusers layout (tiny fake weights; enough for the fetch path)."""
    return {
        "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
        "unet/config.json": b"{}",
        "unet/diffusion_pytorch_model.safetensors": b"u" * 50_000,
        "unet/diffusion_pytorch_model.fp16.safetensors": b"h" * 25_000,
        "unet/diffusion_pytorch_model.bin": b"b" * 10,
        "tokenizer/vocab.json": b"{}",
        "v1-5-pruned.ckpt": b"c" * 10,
    }
