import os

from libris_tools import installs


def fake_binary(tmp_path, output):
    path = tmp_path / "sea-orm-cli"
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    os.chmod(path, 0o755)
    return path


def test_sea_orm_cli_counts_as_installed_only_in_the_pinned_version(tmp_path):
    assert installs.sea_orm_cli_installed(fake_binary(tmp_path, f"sea-orm-cli {installs.SEA_ORM_CLI}"))
    assert not installs.sea_orm_cli_installed(fake_binary(tmp_path, "sea-orm-cli 1.1.0"))
    assert not installs.sea_orm_cli_installed(tmp_path / "missing")


def test_the_rotation_rule_names_the_group_of_the_per_run_roles():
    assert installs.ROTATION_HBA == "host all +libris_rotation_roles 127.0.0.1/32 scram-sha-256"
