import json
import re

from libris_tools import paths
from libris_tools.checks import st_hooks


def declared_key_pattern():
    spec = json.loads((paths.ROOT / "openapi" / "openapi.json").read_text())
    parameters = spec["paths"]["/loans"]["post"]["parameters"]
    key = next(p for p in parameters if p["name"] == st_hooks.KEY)
    return re.compile(key["schema"]["pattern"])


def test_a_fresh_key_is_still_one_the_spec_calls_valid():
    pattern = declared_key_pattern()
    for key in ["0", "!", '"quoted key"', '" "', "k" * 255, " padded\t", '"' + "q" * 253 + '"']:
        assert pattern.search(key), key
        fresh = st_hooks.fresh(key, 123)
        assert pattern.search(fresh), (key, fresh)
        assert len(fresh) <= st_hooks.MAX_KEY_CHARS


def test_the_same_drawn_key_becomes_a_different_key_per_request():
    assert st_hooks.fresh("0", 1) != st_hooks.fresh("0", 2)
    assert st_hooks.fresh("k" * 255, 1) != st_hooks.fresh("k" * 255, 2)


def test_keys_the_spec_calls_invalid_are_not_ones_the_hook_would_touch():
    pattern = declared_key_pattern()
    for key in ["", " ", '""', "caf\u00e9", "k" * 256]:
        assert not pattern.search(key), key
