"""Starting the local server for a check and talking to it as a dev-mode librarian.

Shared by the Python checks, so each one starts the server the same way: on a free loopback port, in
LIBRIS_AUTH=dev, waiting for /health. Dev tokens die with the process (the key lives in memory), so a
check that restarts the server asks for a new one.
"""

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from libris_tools import paths
from libris_tools.log import log
from libris_tools.net import free_port


class LocalServer:
    def __init__(self, binary, env, port=None, prefix=()):
        self.command = [*prefix, binary]
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1", "LIBRIS_AUTH": "dev"}
        self.process = None
        self.token = None

    def start(self, output=subprocess.DEVNULL, timeout=20, ready_path="/health"):
        """Starts the server, waits until `ready_path` answers, and takes a librarian token."""
        self.process = subprocess.Popen(self.command, env=self.env, stdout=output, stderr=output)
        for _ in range(int(timeout / 0.05)):
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(f"{self.base}{ready_path}", timeout=1)
                self.token = self.dev_token("librarian")
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the server did not start")

    def dev_token(self, role, subject=None):
        query = f"role={role}" + (f"&subject={subject}" if subject else "")
        with urllib.request.urlopen(f"{self.base}/auth/dev-token?{query}", timeout=5) as response:
            return json.loads(response.read())["access_token"]

    def call(self, method, path, body=None, token=None):
        """One request as the librarian (or `token`); returns (status, decoded body)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json", "authorization": f"Bearer {token or self.token}"}
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def demo_server(binary, work, log_lines=40):
    """A server for a client scenario: a fresh SQLite file with the demo data in the folder `work`, its
    output in `work/server.log`, whose last `log_lines` lines are printed when the start or the body fails (a
    client's failure is often explained there), and stopped on the way out, also when it never got ready."""
    work = Path(work)
    env = {**paths.tool_env(), "DATABASE_URL": f"sqlite://{work}/libris.db?mode=rwc", "LIBRIS_DEMO_DATA": "true"}
    server = LocalServer(str(binary), env)
    log(f"starting the server on {server.base} (a fresh SQLite file, demo data)")
    try:
        with open(work / "server.log", "wb") as server_log:
            server.start(output=server_log, timeout=60)
        yield server
    except BaseException:
        print("\n==> the last lines of the server log", file=sys.stderr)
        print("\n".join((work / "server.log").read_text(errors="replace").splitlines()[-log_lines:]), file=sys.stderr)
        raise
    finally:
        server.stop()
