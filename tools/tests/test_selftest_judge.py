from libris_tools.pinning import selftest


def test_a_reason_counts_only_as_an_item_of_the_pinning_list():
    out = "pinning-check: PINNING [SET LOCAL, advisory lock function]: …"
    assert selftest.names_reason(out, "SET LOCAL")
    assert selftest.names_reason(out, "advisory lock function")
    assert not selftest.names_reason(out, "SET")


def test_a_case_passes_on_the_expected_exit_status_and_reason():
    assert selftest.judge("pass", 0, "")
    assert not selftest.judge("pass", 1, "")
    assert selftest.judge("SET", 1, "PINNING [SET]: x")
    assert not selftest.judge("SET", 0, "PINNING [SET]: x")
    assert selftest.judge("no statement from", 1, "FAIL: no statement from libris_proxy")
