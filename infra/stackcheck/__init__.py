"""Offline static checks for the Libris Pulumi YAML stack (infra/Pulumi.yaml and its parts).

Run through `infra/check`, which provides a virtualenv with the pinned
`pulumi-aws` Python SDK, PyYAML and pytest. No AWS credentials, no Pulumi
CLI and no network are needed: the provider schema is read from the SDK.

Layout
  schema.py       pulumi-aws types, inputs, outputs and functions, from the SDK
  shapes.py       shapes (what an input takes), kinds (what a value is), fitting
  expressions.py  Pulumi YAML builtins and `${...}` parsing
  report.py       Problem and Report
  context.py      the stack under check and the lookups rules share
  rules/          one module per rule family, each with RULES and the
                  MUTATIONS (seeded mistakes) that prove them; rules/__init__.py
                  lists the families in the order problems are reported
  mutation.py     the Mutation type and helpers to edit a copy of the stack
  program.py      the program Pulumi deploys: Pulumi.yaml, assembled from its
                  parts by the `compiler` command (infra/assemble.py)
  checker.py      loading the files, running the rules
  selftest.py     --self-test: every mutation must be reported with its code
  cli.py          the command line behind infra/check_stack.py
"""
