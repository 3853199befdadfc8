"""OpenAPI Generator's `python` and `java` clients from openapi/openapi.json must keep every schema: the
generator logs a warning and carries on when it cannot read a schema (an `allOf` it does not understand, a
reference it cannot resolve), and the client then types that schema as a bare object or leaves it out.

For each target this generates into a scratch folder (nothing generated is checked in) and fails on
  - any WARN or ERROR line in the generator's log that is not listed in BENIGN_WARNINGS with its evidence;
  - a schema of components/schemas with no model of its own in the generated code;
  - for python: the generated package failing to turn a problem+json body into its typed `Problem` (the
    runtime, pydantic and urllib3, is in the tools venv); for java: a `Problem` model without its typed
    `ConflictCode code`. The Java sources are not compiled: the default library needs OkHttp 4 and gson-fire,
    the `native` one jackson-datatype-jsr310, none of them packaged by Debian, and Maven Central is out of
    reach here and in CI.

  tools/run openapi-generator-check
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import installs, paths, venv
from ..log import Failure, log

# Log lines OpenAPI Generator 7.26.0 prints that lose nothing, each with the reason it is known to be so.
BENIGN_WARNINGS = {
    # Printed once by the python target for any spec with a model, even a one-object one-string-property
    # spec; it names no schema. Every schema having its model is checked separately.
    "Failed to get the schema name: null": ("python",),
}

# A log line at WARN or ERROR level (`[main] WARN  o.o.codegen…`), or a Java exception and its trace.
LEVEL = re.compile(r"^\[[^\]]*\]\s+(WARN|ERROR)\b|^Exception\b|^[\w.$]+(Exception|Error)\b|^\s+at [\w.$]+\(")

JAVA = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"  # what Debian's openjdk-17-jre-headless installs
JAVA_MODELS = Path("src/main/java/org/openapitools/client/model")
PYTHON_PACKAGE = "openapi_client"

# A problem+json body as the server sends it for a conflict.
SAMPLE_PROBLEM = ('{"type": "/problems/conflict", "title": "Conflict", "status": 409, '
                  '"detail": "book 1 is on loan", "code": "book_on_loan"}')


def unexplained_warnings(log_text, target):
    """The log's warning and error lines that BENIGN_WARNINGS does not explain for `target`."""
    return [line for line in log_text.splitlines()
            if LEVEL.search(line) and not any(message in line and target in targets
                                              for message, targets in BENIGN_WARNINGS.items())]


def snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def model_path(out, target, schema):
    if target == "python":
        return out / PYTHON_PACKAGE / "models" / f"{snake_case(schema)}.py"
    return out / JAVA_MODELS / f"{schema}.java"


def missing_models(schemas, out, target):
    """The schema names with no generated model file."""
    return [name for name in schemas if not model_path(out, target, name).exists()]


def generate(spec, target, out):
    """Runs the generator; returns its log (stdout and stderr)."""
    result = subprocess.run([venv.bin_path("openapi-generator-cli"), "generate", "--generator-name", target,
                             "--input-spec", spec, "--output", out,
                             "--global-property", "apiTests=false,modelTests=false,apiDocs=false,modelDocs=false"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise Failure(f"OpenAPI Generator's {target} target failed (exit {result.returncode})")
    return result.stdout + result.stderr


def python_problem_is_typed(out):
    """The generated python package deserializes a problem+json body into `Problem` with a typed code."""
    probe = ("import sys\n"
             "from openapi_client import ApiClient, ConflictCode, Problem\n"
             "problem = ApiClient().deserialize(sys.argv[1], 'Problem', 'application/problem+json')\n"
             "assert isinstance(problem, Problem), type(problem)\n"
             "assert problem.code is ConflictCode.BOOK_ON_LOAN, repr(problem.code)\n"
             "assert (problem.status, problem.type) == (409, '/problems/conflict'), problem\n")
    env = {**os.environ, "PYTHONPATH": str(out)}
    result = subprocess.run([venv.python(), "-c", probe, SAMPLE_PROBLEM], env=env, capture_output=True, text=True)
    sys.stderr.write(result.stderr)
    return result.returncode == 0


def java_problem_is_typed(out):
    source = (out / JAVA_MODELS / "Problem.java").read_text()
    return re.search(r"\bprivate\s+ConflictCode\s+code\b", source) is not None


def check_target(spec, schemas, target, work):
    log(f"OpenAPI Generator: the {target} client")
    out = work / target
    log_text = generate(spec, target, out)
    problems = [f"unexplained log line: {line}" for line in unexplained_warnings(log_text, target)]
    problems += [f"no model for the schema {name}" for name in missing_models(schemas, out, target)]
    typed = python_problem_is_typed(out) if target == "python" else java_problem_is_typed(out)
    if not typed:
        problems.append("the Problem model does not carry a typed ConflictCode")
    for line in problems:
        print(f"    {target}: {line}", file=sys.stderr)
    if not problems:
        print(f"    {target}: {len(schemas)} schemas, each with its model; no unexplained warning", file=sys.stderr)
    return problems


def ensure_java():
    """Java runs the generator's jar: Debian's JRE 17 unless a `java` is on PATH already."""
    if not shutil.which("java"):
        installs.ensure_debian_package(JAVA, "openjdk-17-jre-headless")
    if not shutil.which("java"):
        raise Failure("java is not on PATH after installing openjdk-17-jre-headless")


def main(argv):
    started = time.monotonic()
    spec = Path(os.environ.get("LIBRIS_CLIENT_SPEC") or paths.ROOT / "openapi/openapi.json").resolve()
    schemas = list(json.loads(spec.read_text())["components"]["schemas"])
    ensure_java()
    with tempfile.TemporaryDirectory(prefix="libris-openapi-generator.") as work:
        failed = [target for target in ("python", "java") if check_target(spec, schemas, target, Path(work))]
    print(f"took {time.monotonic() - started:.0f}s", file=sys.stderr)
    if failed:
        raise Failure(f"OpenAPI Generator's {' and '.join(failed)} client(s) lost part of the spec (see above)")
    return 0
