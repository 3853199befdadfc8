"""The front door: Lambda's scaling on loopback, in one asyncio process.

Each instance is a real `bootstrap` process with its own Runtime API endpoint (a port of its own:
`AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT`). An invocation goes to an idle instance (the one idle the
shortest, as Lambda keeps reusing warm instances and lets the others go cold); when none is idle a new
instance is started, a cold start, until `limit` instances live; past that, invocations queue for the next
idle one. Instances idle for longer than `idle_stop` seconds are stopped. The published Runtime API
(2018-06-01) is served: invocation/next (held open until there is work), invocation/{id}/response,
invocation/{id}/error and init/error (the same protocol as local/lambda_emulator.py, which drives one
instance synchronously; this one drives hundreds).

What a caller gets from `invoke`: the HTTP status of the function's answer (API Gateway's 502 for a
function error, 0 when the instance died holding the request) and the decoded response.
"""

import asyncio
import json
import time
import uuid
from collections import deque

from .http import BadRequest, read_request, reply

PREFIX = "/2018-06-01/runtime"
DEADLINE_SECONDS = 30
ARN = "arn:aws:lambda:eu-west-1:123456789012:function:libris"

LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "libris",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_FORMAT": "JSON",
    "AWS_REGION": "eu-west-1",
}


class Invocation:
    __slots__ = ("id", "payload", "future")

    def __init__(self, payload, loop):
        self.id = str(uuid.uuid4())
        self.payload = payload
        self.future = loop.create_future()

    def finish(self, result):
        if not self.future.done():
            self.future.set_result(result)


class Instance:
    def __init__(self, port):
        self.port = port
        self.process = None
        self.server = None
        self.ready = False  # asked for its first event: the cold start is over
        self.stopping = False
        self.waiter = None  # the future a held invocation/next waits on
        self.current = None  # the invocation it is serving
        self.idle_since = 0.0


class FrontDoor:
    def __init__(self, bootstrap, env, limit, idle_stop, ports, log_file):
        self.bootstrap, self.env, self.limit, self.idle_stop = str(bootstrap), env, limit, idle_stop
        self.free_ports = deque(ports)
        self.log_file = log_file
        self.instances = set()
        self.idle = []  # instances held in invocation/next, most recently idle last
        self.pending = deque()  # invocations waiting for an instance
        self.starting = 0
        self.cold_starts = 0
        self.init_errors = 0
        self.crashes = 0
        self.tasks = set()
        self.loop = asyncio.get_running_loop()

    # What the sampler reads.
    def gauges(self):
        busy = sum(1 for i in self.instances if i.current is not None)
        return {"instances": len(self.instances), "busy": busy, "queued": len(self.pending),
                "cold_starts": self.cold_starts}

    async def invoke(self, event):
        invocation = Invocation(json.dumps(event).encode(), self.loop)
        self._dispatch(invocation)
        kind, body = await invocation.future
        if kind == "crash":
            return 0, None
        if kind == "error":
            return 502, None
        try:
            answer = json.loads(body or b"null")
            return int(answer.get("statusCode", 0)), answer
        except (ValueError, AttributeError):
            return 502, None

    def _dispatch(self, invocation):
        while self.idle:
            instance = self.idle.pop()
            if instance.waiter is not None and not instance.waiter.done():
                instance.waiter.set_result(invocation)
                return
        self.pending.append(invocation)
        self._scale()

    def _scale(self):
        """A cold start for each queued invocation no starting instance will take, within the limit."""
        while len(self.pending) > self.starting and len(self.instances) < self.limit and self.free_ports:
            instance = Instance(self.free_ports.popleft())
            self.instances.add(instance)
            self.starting += 1
            self.cold_starts += 1
            task = self.loop.create_task(self._run(instance))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _run(self, instance):
        try:
            instance.server = await asyncio.start_server(
                lambda r, w: self._serve(instance, r, w), "127.0.0.1", instance.port)
            env = {**self.env, **LAMBDA_ENV, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{instance.port}"}
            instance.process = await asyncio.create_subprocess_exec(
                self.bootstrap, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=self.log_file,
                stderr=asyncio.subprocess.STDOUT)
            if instance.stopping:  # closed while it was starting
                instance.process.kill()
            await instance.process.wait()
        finally:
            await self._forget(instance)

    async def _forget(self, instance):
        self.instances.discard(instance)
        if instance in self.idle:
            self.idle.remove(instance)
        if not instance.ready:
            self.starting -= 1
        if not instance.stopping:
            self.crashes += 1
        if instance.current is not None:
            instance.current.finish(("crash", None))
        if instance.waiter is not None and not instance.waiter.done():
            instance.waiter.cancel()
        if instance.server is not None:
            instance.server.close()
        self.free_ports.append(instance.port)
        self._scale()

    async def _serve(self, instance, reader, writer):
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                await self._answer(instance, writer, *request)
        except (BadRequest, ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, instance, writer, method, path, headers, body):
        if method == "GET" and path == f"{PREFIX}/invocation/next":
            invocation = await self._next_for(instance)
            deadline = int((time.time() + DEADLINE_SECONDS) * 1000)
            writer.write(reply(200, invocation.payload, {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.id,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn": ARN,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            }))
        elif method == "POST" and path.startswith(f"{PREFIX}/invocation/"):
            request_id, _, kind = path[len(PREFIX) + len("/invocation/"):].partition("/")
            current = instance.current
            if current is not None and current.id == request_id and kind in ("response", "error"):
                instance.current = None
                current.finish((kind, body))
            writer.write(reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"}))
        elif method == "POST" and path == f"{PREFIX}/init/error":
            self.init_errors += 1
            writer.write(reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"}))
        else:
            writer.write(reply(404))
        await writer.drain()

    async def _next_for(self, instance):
        if not instance.ready:
            instance.ready = True
            self.starting -= 1
        instance.current = None
        if self.pending:
            invocation = self.pending.popleft()
        else:
            instance.waiter = self.loop.create_future()
            instance.idle_since = time.monotonic()
            self.idle.append(instance)
            try:
                invocation = await instance.waiter
            finally:
                instance.waiter = None
        instance.current = invocation
        return invocation

    async def reap(self):
        """Stops instances idle past `idle_stop`, twice a second, until cancelled."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for instance in [i for i in self.idle if now - i.idle_since > self.idle_stop]:
                self._stop(instance)

    def _stop(self, instance):
        instance.stopping = True
        if instance in self.idle:
            self.idle.remove(instance)
        if instance.waiter is not None and not instance.waiter.done():
            instance.waiter.cancel()
        if instance.process is not None and instance.process.returncode is None:
            instance.process.kill()

    async def close(self):
        """Stops every instance and fails what still waits."""
        for invocation in self.pending:
            invocation.finish(("crash", None))
        self.pending.clear()
        for instance in list(self.instances):
            self._stop(instance)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=15)
