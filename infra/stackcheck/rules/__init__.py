"""The registry of rule families, in the order their problems are reported.

A family is a module with two tuples:
  RULES      functions `rule(ctx: Context) -> None` that report through ctx.err
  MUTATIONS  the seeded mistakes (mutation.Mutation) proving those rules fire
To add a rule, write it and its seeded mistake in the family it belongs to;
to add a family, write the module and list it in FAMILIES."""

from __future__ import annotations

from . import (
    aws_limits,
    contract,
    database,
    iam,
    lambda_env,
    monitoring,
    network,
    project,
    references,
    resources,
    roles,
    stack_files,
    wiring,
)

FAMILIES = (
    project,  # structure of Pulumi.yaml, config declarations
    resources,  # types, properties and values against the provider schema
    references,  # builtins, ${...}, fn::invoke, cycles, unused names
    stack_files,  # Pulumi.<stack>.yaml
    database,  # security: proxy TLS, encrypted private cluster, managed password
    network,  # security: no world ingress, group-to-group rules on one port
    lambda_env,  # security: no secrets in the functions' environment
    iam,  # security: least-privilege policies and Lambda permission
    roles,  # security: a role per function granting what it uses, the API's own database user
    contract,  # what the Rust app and the README rely on
    aws_limits,  # values AWS refuses at deploy time (retention, payload format, timeouts, engine mode, quota)
    monitoring,  # every alarm notifies a topic; functions, proxy, cluster and API each have their alarms
    wiring,  # meaning: DB_HOST is the proxy, the authorizer's audience and issuer, required settings, routes
)

RULES = tuple(rule for family in FAMILIES for rule in family.RULES)
MUTATIONS = tuple(mutation for family in FAMILIES for mutation in family.MUTATIONS)
