"""A Lambda Runtime API emulator and test driver for the `bootstrap` binary.

It implements the published Runtime API (2018-06-01: invocation/next, invocation/{id}/response,
invocation/{id}/error, init/error) on a loopback port, starts the function as Lambda would (with
AWS_LAMBDA_RUNTIME_API and the usual variables), hands it events and collects its answers.

Used as a library by scripts/lambda-e2e (scenario checks) and scripts/bench (cold-start timing).
"""

import base64
import json
import os
import queue
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Emulator:
    def __init__(self):
        self.events = queue.Queue()
        self.results = {}
        self.init_error = None
        self.ready = threading.Condition()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self._reply(404)
                request_id, payload = emulator.events.get()
                deadline = int((time.time() + 30) * 1000)
                self._reply(200, payload, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:eu-west-1:123456789012:function:libris",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self):
                body = self._body()
                with emulator.ready:
                    if self.path == f"{PREFIX}/init/error":
                        emulator.init_error = {"type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                                               "body": json.loads(body or b"{}")}
                    elif self.path.startswith(f"{PREFIX}/invocation/"):
                        _, request_id, kind = self.path[len(PREFIX) + 1:].split("/")
                        emulator.results[request_id] = (kind, body, time.perf_counter())
                    else:
                        return self._reply(404)
                    emulator.ready.notify_all()
                self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a function killed mid-request is expected when a test stops it

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.process = None

    def start(self, bootstrap, env):
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "AWS_LAMBDA_FUNCTION_NAME": "libris",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_REGION": "eu-west-1",
            **env,
        }
        started = time.perf_counter()
        self.process = subprocess.Popen([bootstrap], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return started

    def invoke(self, event, timeout=30):
        """Queues one event and waits for its answer: ('response'|'error', parsed body, finished_at)."""
        request_id = str(uuid.uuid4())
        self.events.put((request_id, json.dumps(event).encode()))
        deadline = time.time() + timeout
        with self.ready:
            while request_id not in self.results:
                if self.init_error or time.time() > deadline or (self.process and self.process.poll() is not None):
                    raise RuntimeError(f"no answer for {event.get('rawPath') or event.get('path')}: "
                                       f"init_error={self.init_error} exit={self.process and self.process.poll()}")
                self.ready.wait(0.1)
            kind, body, finished = self.results.pop(request_id)
        return kind, json.loads(body or b"null"), finished

    def wait_init_error(self, timeout=10):
        deadline = time.time() + timeout
        with self.ready:
            while self.init_error is None and time.time() < deadline:
                self.ready.wait(0.1)
        return self.init_error

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
        output = self.process.communicate(timeout=10)[0].decode(errors="replace") if self.process else ""
        self.server.shutdown()
        return output


def response_body(answer):
    """The JSON body of an API Gateway proxy answer (base64-decoded when the function encoded it), or None."""
    body = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


def rss_kib(pid):
    """Peak resident set size (VmHWM) of a running process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0
