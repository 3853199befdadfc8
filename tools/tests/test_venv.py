from libris_tools import venv


def test_the_venv_takes_every_requirements_file_but_the_constraints():
    names = [f.name for f in venv.requirement_files()]
    assert "test.txt" in names and "schemathesis.txt" in names
    assert "constraints.txt" not in names


def test_the_stamp_changes_with_a_file_or_the_python_version(tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("pytest==9.2.0\n")
    first = venv.stamp_for([a], "3.11.7")
    assert venv.stamp_for([a], "3.11.7") == first
    assert venv.stamp_for([a], "3.12.0") != first
    a.write_text("pytest==9.2.1\n")
    assert venv.stamp_for([a], "3.11.7") != first


def test_a_venv_is_current_only_with_its_python_and_the_same_stamp(tmp_path):
    assert not venv.is_current(tmp_path, "abc")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    (tmp_path / ".libris-requirements").write_text("abc\n")
    assert venv.is_current(tmp_path, "abc")
    assert not venv.is_current(tmp_path, "abd")
