"""Loopback ports: a free one for a server to listen on, and waiting for one to open."""

import socket
import time

from .log import Failure


def free_port():
    """A port the kernel just handed out on 127.0.0.1 (free now; a server started right away gets it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(port, name, timeout=30.0, alive=None, host="127.0.0.1"):
    """Waits until something listens on `host`:`port`; fails early when `alive()` says the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if alive is not None and not alive():
            raise Failure(f"{name} exited before it listened on {host}:{port}")
        time.sleep(0.2)
    raise Failure(f"{name} is not listening on {host}:{port}")
