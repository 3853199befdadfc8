"""The previous-release check's parts that need no build: the pin file and the migrations a tree defines."""

import pytest

from libris_tools.checks import previous_release
from libris_tools.log import Failure

COMMIT = "3e68b717b133cba6d92acf708ba1d91753c57edf"


def test_the_pin_is_the_one_full_commit_id_among_comments():
    assert previous_release.pinned_commit(f"# why\n# how to move it\n{COMMIT}\n") == COMMIT
    for bad in ("# nothing\n", "3e68b71\n", f"{COMMIT}\n{COMMIT}\n", f"{COMMIT.upper()}\n"):
        with pytest.raises(Failure, match="one full commit id"):
            previous_release.pinned_commit(bad)


def test_the_checked_in_pin_is_a_commit_of_this_history():
    commit = previous_release.pinned_commit()
    assert previous_release.subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"],
                                           cwd=previous_release.paths.ROOT).returncode == 0


def test_a_trees_migrations_are_its_migration_files(tmp_path):
    src = tmp_path / "migration" / "src"
    src.mkdir(parents=True)
    for name in ("lib.rs", "main.rs", "testkit.rs", "m20261126_000001_create_library.rs", "m20261202_000001_x.rs"):
        (src / name).write_text("")
    assert previous_release.migrations_in(tmp_path) == ["m20261126_000001_create_library", "m20261202_000001_x"]
