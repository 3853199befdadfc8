"""Running commands and the servers a check starts: one place that starts, waits for and stops them."""

import os
import signal
import subprocess
import time
from pathlib import Path

from . import paths
from .log import Failure, log


def run(cmd, *, env=None, cwd=None, capture=False, check=True, stdin=None, quiet_failure=False):
    """Runs `cmd` from the checkout (or `cwd`) with the tools' environment; raises Failure if it fails."""
    result = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd or paths.ROOT,
        env=env or paths.tool_env(),
        text=True,
        input=stdin,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture == "both" else None,
    )
    if check and result.returncode != 0:
        detail = f"\n{result.stderr}" if capture == "both" and result.stderr and not quiet_failure else ""
        raise Failure(f"`{' '.join(str(c) for c in cmd)}` exited with {result.returncode}{detail}")
    return result


def output(cmd, **kwargs):
    """The stripped standard output of `cmd`."""
    return run(cmd, capture=True, **kwargs).stdout.strip()


def cargo(*args, env=None, nice=False):
    """`cargo SUBCOMMAND --locked ARGS`, optionally at a lower priority (the machine's cores are shared)."""
    cmd = (["nice", "-n", "10"] if nice else []) + ["cargo", args[0], "--locked", *args[1:]]
    return run(cmd, env=env)


class Service:
    """A server process a check starts: output to a log file, waited for, always stopped."""

    def __init__(self, name, cmd, log_path, env=None, cwd=None):
        self.name, self.cmd, self.log_path = name, [str(c) for c in cmd], Path(log_path)
        self.env, self.cwd = env, cwd
        self.process = None

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.cmd, env=self.env or paths.tool_env(), cwd=self.cwd or paths.ROOT,
                                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return self

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_line(self, text, timeout=60.0):
        """Waits until the log shows `text`; fails with the log when the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text():
                return
            if not self.alive():
                raise Failure(f"{self.name} exited before it was ready:\n{self.log_text()[-4000:]}")
            time.sleep(0.2)
        raise Failure(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_text()[-4000:]}")

    def stop(self, timeout=10.0):
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def stop_pid(pid, first=signal.SIGINT, then=signal.SIGQUIT, name="process"):
    """Stops a daemon by pid: `first` and up to 10 s, then `then` and up to 5 s more."""
    for sig, seconds in ((first, 10.0), (then, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.2)
        if sig == first:
            log(f"{name} (pid {pid}) still running after {seconds:.0f} s; immediate shutdown")
    raise Failure(f"{name} (pid {pid}) did not stop")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
