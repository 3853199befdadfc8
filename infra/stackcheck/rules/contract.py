"""The contract with the Rust app (lambda/ and openapi/) and with the README.

The functions are what `cargo lambda build --arm64` produces and what
`lambda/src` reads: provided.al2023, arm64, `bootstrap` from a zip, inside
the VPC, JSON logs, the values this stack pins on purpose (TLS verify-full,
one connection per environment), one function in migrate mode; endpoints
have private DNS; the API uses the `$default` stage; the outputs the README
promises exist. Which settings the app cannot start without is not listed
here: see the wiring family (infra/required-settings.json)."""

from __future__ import annotations

from ..context import Context
from ..expressions import builtin_of
from ..mutation import Mutation, env, props

# Choices of this stack, written out so a reader sees them (the app's defaults
# may differ or change): certificate checks, and one connection per execution
# environment (reserved concurrency x 1 bounds the proxy's clients).
PINNED_ENV = {
    "DB_TLS": "verify-full",
    "DB_MAX_CONNECTIONS": "1",
}
REQUIRED_OUTPUTS = ("apiUrl", "swaggerUiUrl", "proxyEndpoint", "secretArn", "migrateFunctionName")


def check_functions(ctx: Context) -> None:
    modes = []
    for name, _ in ctx.of_type("aws:lambda:Function"):
        function = ctx.props(name)
        where = f"resources.{name}"
        for key, expected in (("runtime", "provided.al2023"), ("handler", "bootstrap")):
            if function.get(key) != expected:
                ctx.err("contract", f"{where}.{key}", f"must be {expected!r}")
        if function.get("architectures") != ["arm64"]:
            ctx.err("contract", f"{where}.architectures", "must be [arm64] (cargo lambda build --arm64)")
        code = builtin_of(function.get("code"))
        if code is None or code[0] != "fn::fileArchive":
            ctx.err("contract", f"{where}.code", "must be fn::fileArchive of the cargo-lambda zip")
        vpc = function.get("vpcConfig") or {}
        if not vpc.get("subnetIds") or not vpc.get("securityGroupIds"):
            ctx.err("contract", f"{where}.vpcConfig", "functions run inside the VPC (subnetIds + securityGroupIds)")
        logging_config = function.get("loggingConfig") or {}
        if logging_config.get("logFormat") != "JSON":
            ctx.err("contract", f"{where}.loggingConfig.logFormat", "must be JSON")
        variables = ((function.get("environment") or {}).get("variables")) or {}
        for key, expected in PINNED_ENV.items():
            if variables.get(key) != expected:
                ctx.err("contract", f"{where}.environment.variables.{key}", f"must be {expected!r}")
        modes.append(variables.get("LIBRIS_LAMBDA_MODE"))
    if "migrate" not in modes:
        ctx.err("contract", "resources", "no function with LIBRIS_LAMBDA_MODE=migrate")


def check_endpoints_and_outputs(ctx: Context) -> None:
    for name, _ in ctx.of_type("aws:ec2:VpcEndpoint"):
        if ctx.props(name).get("privateDnsEnabled") is not True:
            ctx.err(
                "contract", f"resources.{name}.privateDnsEnabled", "must be true (the SDK uses the public DNS name)"
            )
    for name, _ in ctx.of_type("aws:apigatewayv2:Stage"):
        stage = ctx.props(name)
        if stage.get("name") != "$default" or stage.get("autoDeploy") is not True:
            ctx.err("contract", f"resources.{name}", "use the $default stage with autoDeploy: true")
    outputs = ctx.doc.get("outputs") or {}
    for key in REQUIRED_OUTPUTS:
        if key not in outputs:
            ctx.err("contract", "outputs", f"missing output {key}")


RULES = (check_functions, check_endpoints_and_outputs)

MUTATIONS = (
    Mutation("wrong DB_TLS", "contract", lambda d, s: env(d).update(DB_TLS="require")),
    Mutation("x86_64 architecture", "contract", lambda d, s: props(d, "apiFunction").update(architectures=["x86_64"])),
    Mutation("missing required output", "contract", lambda d, s: d["outputs"].pop("swaggerUiUrl")),
)
