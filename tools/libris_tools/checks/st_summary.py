"""Distinct failures of the run, from Schemathesis's NDJSON events and the server log."""
import base64
import collections
import json
import re
import shlex
from pathlib import Path
from xml.etree import ElementTree


def text(payload):
    if not payload:
        return None
    if "$base64" in payload:
        return base64.b64decode(payload["$base64"]).decode("utf-8", "replace")
    return payload.get("string")

def curl(request):
    parts = ["curl", "-i", "-X", request.get("method", "GET")]
    body = text(request.get("body"))
    for name, values in (request.get("headers") or {}).items():
        if name.lower() == "content-type":
            parts += ["-H", f"{name}: {values[0]}"]
    if body is not None:
        parts += ["--data-binary", body]
    parts.append(request.get("uri", "?"))
    return " ".join(shlex.quote(p) for p in parts)

def shape(message):
    """The part of a failure message that names its kind, with the data left out."""
    lines = [l.strip() for l in (message or "").splitlines() if l.strip()]
    keep = [l for l in lines if not l.startswith(("Expected:", "Valid data", "Invalid data"))][:2]
    joined = " / ".join(keep)
    joined = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", joined)
    return re.sub(r"\d+", "N", joined)[:200]


def summarize(reports, out):
    """Writes each distinct failure of the run in `reports` (NDJSON events, JUnit files, the server log) to
    `out` once, with a curl to reproduce it and the server's ERROR lines; returns the counts."""
    reports, out = Path(reports), Path(out)
    server_log = reports / "server.log"
    # The server's ERROR lines (and panics), by request id where the request span is logged.
    cause_by_request = {}
    log_errors = collections.Counter()
    if server_log.exists():
        for line in server_log.read_text(errors="replace").splitlines():
            line = re.sub(r"\x1b\[[0-9;]*m", "", line)
            if " ERROR " not in line and "panicked" not in line:
                continue
            match = re.search(r"request\{request_id=([^}\s]+)\}: (.*)", line)
            message = match.group(2) if match else re.sub(r"^\S+\s+", "", line)
            message = re.sub(r" at line \d+", "", message)[:300]
            log_errors[message] += 1
            if match:
                cause_by_request[match.group(1)] = message

    distinct = collections.OrderedDict()
    cases = 0
    errors = []
    for events in sorted(reports.glob("events-*.ndjson")):
        for line in events.read_text().splitlines():
            event = json.loads(line)
            for kind in ("NonFatalError", "FatalError"):
                if kind in event:
                    errors.append(f"{kind}: {json.dumps(event[kind])[:600]}")
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            cases += len(recorder.get("cases", {}))
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check["status"] == "success":
                        continue
                    failure = (check.get("failure_info") or {}).get("failure", {})
                    case = recorder["cases"].get(case_id, {}).get("value", {})
                    interaction = recorder.get("interactions", {}).get(case_id) or {}
                    response = interaction.get("response") or {}
                    operation = f"{case.get('method', '?')} {case.get('path', '?')}"
                    request_id = ((response.get("headers") or {}).get("x-request-id") or [None])[0]
                    cause = cause_by_request.get(request_id)
                    key = (check["name"], operation, failure.get("code", ""), response.get("status_code"),
                           cause or shape(failure.get("message")))
                    if key in distinct:
                        distinct[key]["count"] += 1
                        continue
                    distinct[key] = {
                        "count": 1,
                        "title": failure.get("title", ""),
                        "message": failure.get("message", ""),
                        "phase": finished.get("phase"),
                        "mode": case.get("meta", {}).get("generation", {}).get("mode"),
                        "curl": curl(interaction.get("request") or {}),
                        "status": response.get("status_code"),
                        "content_type": ", ".join((response.get("headers") or {}).get("content-type", [])),
                        "body": (text(response.get("content")) or "")[:500],
                        "cause": cause,
                    }

    # An operation is clean when no pass found anything wrong with it.
    tested, dirty = set(), set()
    for junit in sorted(reports.glob("junit-*.xml")):
        for testcase in ElementTree.parse(junit).getroot().iter("testcase"):
            tested.add(testcase.get("name"))
            if testcase.find("failure") is not None or testcase.find("error") is not None:
                dirty.add(testcase.get("name"))
    tests, failed = len(tested), len(dirty)

    by_code = collections.Counter(f"{k[2] or k[0]} {v['title']}".strip() for k, v in distinct.items())
    with out.open("w") as report:
        report.write(f"{len(distinct)} distinct failures in {cases} test cases\n")
        for (check, operation, code, status, _), info in distinct.items():
            report.write(f"\n== {operation}: {check} ({code} {info['title']}), seen {info['count']}x"
                         f" [{info['phase']}, {info['mode']}]\n")
            report.write("   " + "\n   ".join(info["message"].strip().splitlines()) + "\n" if info["message"] else "")
            report.write(f"   reproduce: {info['curl']}\n")
            report.write(f"   answered:  {status} {info['content_type']} {info['body']}\n")
            if info["cause"]:
                report.write(f"   server log: {info['cause']}\n")
        if errors:
            report.write(f"\n{len(errors)} Schemathesis errors (parts of the run that could not be tested):\n")
            for error in errors:
                report.write(f"   {error}\n")
        if log_errors:
            report.write("\nserver log, ERROR lines and panics (count, message):\n")
            for message, count in log_errors.most_common():
                report.write(f"   {count:5d}  {message}\n")

    summary = {
        "distinct": len(distinct), "cases": cases, "tests": tests, "failed": failed, "errors": len(errors),
        "by_code": ", ".join(f"{name} x{count}" for name, count in sorted(by_code.items())),
        "log_errors": sum(log_errors.values()),
    }
    return summary
