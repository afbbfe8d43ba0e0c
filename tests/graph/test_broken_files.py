"""Broken project files (quality.md R2): one typed error with a message, always.

One test per kind of damage, each showing its message, then a mutant
generator: over a thousand mutants of the example projects must each either
load or raise :class:`ProjectLoadError` — never another exception, never a
hang, and never execute anything.
"""

import json
import pickle
import random
import signal
from pathlib import Path

import pytest

from graph import project_load as project_mod  # where load_project reads MAX_BYTES
from graph.project import MAX_BYTES, ProjectLoadError, load_project, loads_project

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.json"))
GOOD = json.dumps({"format": "netcanvas", "version": 1, "name": "ok", "nodes": [
    {"id": "x", "type": "Input", "params": {"shape": [4]}},
    {"id": "fc", "type": "Linear", "params": {"out_features": 2}},
    {"id": "y", "type": "Output", "params": {}}],
    "edges": [{"source": "x", "target": "fc"}, {"source": "fc", "target": "y"}]})


def message(data) -> str:
    with pytest.raises(ProjectLoadError) as info:
        loads_project(data)
    return str(info.value)


def test_empty_file():
    assert message(b"") == "the file is empty"
    assert message(b"  \n ") == "the file is empty"


def test_truncated_json_says_it_ends_too_early():
    assert message(GOOD[: len(GOOD) // 2].encode()).startswith("the file ends too early")


def test_invalid_json_names_line_and_column():
    assert "is not valid JSON at line 2, column" in message(b'{"format": "netcanvas",\n  oops}')


def test_non_utf8():
    assert "not UTF-8 text (byte 13)" in message(b'{"format": "n\xe9tcanvas"}')


def test_pickle_renamed_json_is_refused_without_unpickling(tmp_path, monkeypatch):
    class Boom:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "model.json"
    path.write_bytes(pickle.dumps(Boom()))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(ProjectLoadError, match="is a Python pickle"):
        load_project(path)
    # protocol 0 pickles are ASCII text: refused as not JSON
    assert "not valid JSON" in message(pickle.dumps({"a": 1}, protocol=0))


def test_zip_archive_such_as_a_torch_checkpoint():
    assert "zip archive" in message(b"PK\x03\x04rest")


def test_deep_nesting_is_refused_not_a_recursion_error():
    assert "nests lists or objects too deeply" in message("[" * 100_000 + "]" * 100_000)
    deep = GOOD.replace('"shape": [4]', '"shape": ' + "[" * 200 + "4" + "]" * 200)
    assert "deeper than 64 levels" in message(deep)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals(literal):
    assert f"{literal} is not a valid JSON number" in message(
        GOOD.replace('"out_features": 2', f'"out_features": {literal}'))


def test_overflowing_number():
    assert "too large" in message(GOOD.replace('"out_features": 2', '"out_features": 1e999'))


def test_huge_integer_literal():
    text = message(GOOD.replace('"out_features": 2', '"out_features": ' + "9" * 5000))
    assert "holds a number of 5,000 digits at line " in text, text
    assert "no setting takes a number that long" in text
    assert "set_int_max_str_digits" not in text  # Python's advice is not ours to give


def test_duplicate_keys():
    assert "the key 'id' appears twice in one object" in message(GOOD.replace('"id": "fc"', '"id": "fc", "id": "zz"'))


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(project_mod, "MAX_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2000 + GOOD.encode())
    with pytest.raises(ProjectLoadError, match="larger than"):
        load_project(path)
    assert MAX_BYTES == 50 * 1024 * 1024


def test_top_level_not_an_object():
    assert "it holds a list, not an object" in message(b"[1, 2]")


def test_future_version_names_both_versions():
    msg = message(GOOD.replace('"version": 1', '"version": 7'))
    assert "version 7" in msg and "up to version 2" in msg


def test_a_directory_is_a_load_error(tmp_path):
    with pytest.raises(ProjectLoadError):
        load_project(tmp_path)


# ---------------------------------------------------------------------- mutants
def _sources() -> list[str]:
    texts = [p.read_text("utf-8") for p in EXAMPLES]
    return [GOOD] + texts


def _walk(doc, path=()):
    yield path, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _walk(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _walk(v, path + (i,))


def _set(doc, path, value):
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


def _del(doc, path):
    for k in path[:-1]:
        doc = doc[k]
    del doc[path[-1]]


ODD_VALUES = [None, True, 0, -1, 3.5, "", "x", [], {}, [1, 2, 3], {"a": 1}, "Conv9d", 10**30, "T"]


def _structural(rng: random.Random, text: str) -> bytes:
    doc = json.loads(text)
    spots = list(_walk(doc))[1:]
    kind = rng.randrange(8)
    path, value = rng.choice(spots)
    if kind == 0:
        _set(doc, path, rng.choice(ODD_VALUES))
    elif kind == 1:
        _del(doc, path)
    elif kind == 2 and doc.get("nodes"):
        doc["nodes"].append(dict(rng.choice(doc["nodes"])))  # duplicate id
    elif kind == 3 and doc.get("edges"):
        rng.choice(doc["edges"])[rng.choice(["source", "target"])] = "nowhere"
    elif kind == 4 and doc.get("nodes"):
        node = rng.choice(doc["nodes"])
        node.setdefault("params", {})[rng.choice(["kernal_size", "in_features", "zzz"])] = 1
    elif kind == 5 and doc.get("nodes"):
        rng.choice(doc["nodes"])["type"] = rng.choice(["Conv9d", "linear", "", "Input "])
    elif kind == 6:
        deep: object = 1
        for _ in range(rng.choice([70, 3000])):
            deep = [deep]
        _set(doc, path, deep)
    else:
        doc["version"] = rng.choice([2, 99, -1, 1.0, "1"])
    try:
        return json.dumps(doc).encode()
    except RecursionError:
        return b"[" * 5000


def _byte_level(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return data[: rng.randrange(len(data))]
    if kind == 1:
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 2:
        i = rng.randrange(len(data))
        return data[:i] + rng.choice([b"\xff", b"\xc3", b"\x00", b"NaN", b"}", b'"', b","]) + data[i:]
    if kind == 3:
        return rng.choice([b"", b"\x80\x04K\x01.", pickle.dumps({"format": "netcanvas"}),
                           "[".encode() * 50_000, data.decode().encode("utf-16")])
    if kind == 4:
        i, j = sorted(rng.sample(range(len(data)), 2))
        return data[:i] + data[j:]
    i = rng.randrange(len(data))
    return data[:i] + data[i:i + 40] + data[i:]


@pytest.fixture
def no_hang():
    """Fail (instead of hanging the run) if loading takes absurdly long."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hung(*_):
        raise TimeoutError("loading mutants hung for 60 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _mutants(n: int = 1500, seed: int = 1234):
    """``n`` damaged versions of the example projects (bytes), reproducibly."""
    rng = random.Random(seed)
    sources = _sources()
    for k in range(n):
        text = sources[k % len(sources)]
        data = _structural(rng, text) if k % 3 == 0 else _byte_level(rng, text.encode())
        if k % 7 == 0:  # many truncation offsets, spread over the whole file
            data = text.encode()[: (k * 7919) % len(text)]
        yield data


def test_a_thousand_mutants_load_or_raise_project_load_error(no_hang):
    outcomes = {"loaded": 0, "refused": 0}
    messages = set()
    for data in _mutants():
        try:
            loads_project(data)
            outcomes["loaded"] += 1
        except ProjectLoadError as exc:
            assert str(exc), "a load error must say what is wrong"
            messages.add(str(exc).split(":")[0])
            outcomes["refused"] += 1
    assert outcomes["refused"] > 1000
    assert outcomes["loaded"] > 10  # harmless mutants (e.g. a changed position) still open
    assert len(messages) > 20  # the messages are specific, not one catch-all


# ------------------------------------------------------------- check --json
#: every damaged file the tests above show (the mutants come on top)
BROKEN = [
    b"", b"  \n ", GOOD[: len(GOOD) // 2].encode(), b'{"format": "netcanvas",\n  oops}',
    b'{"format": "n\xe9tcanvas"}', pickle.dumps({"a": 1}), pickle.dumps({"a": 1}, protocol=0),
    b"PK\x03\x04rest", ("[" * 100_000 + "]" * 100_000).encode(),
    GOOD.replace('"shape": [4]', '"shape": ' + "[" * 200 + "4" + "]" * 200).encode(),
    GOOD.replace('"out_features": 2', '"out_features": NaN').encode(),
    GOOD.replace('"out_features": 2', '"out_features": 1e999').encode(),
    GOOD.replace('"out_features": 2', '"out_features": ' + "9" * 5000).encode(),
    GOOD.replace('"id": "fc"', '"id": "fc", "id": "zz"').encode(),
    b"[1, 2]", GOOD.replace('"version": 1', '"version": 7').encode(),
]


def _check_json(path, capsys) -> tuple[int, dict]:
    """``main.py check PATH --json`` in this process: exit code and the parsed stdout."""
    from main import main

    code = main(["check", str(path), "--json"])
    out, err = capsys.readouterr()
    assert err == "", "with --json everything is on stdout"
    return code, json.loads(out)


def _node_ids(data: bytes) -> set:
    try:
        return {n.get("id") for n in json.loads(data.decode("utf-8-sig"))["nodes"]
                if isinstance(n, dict)}
    except (ValueError, RecursionError, LookupError, TypeError, AttributeError):
        return set()


def test_check_json_answers_in_json_for_every_broken_file(tmp_path, capsys, no_hang):
    """Each file that cannot be loaded gives check --json's one object with a
    single unreadable_file problem (exit 2); each that loads, the usual answer."""
    path = tmp_path / "p.json"
    refused = located = 0
    for data in [*BROKEN, *_mutants(1000, seed=99)]:
        path.write_bytes(data)
        code, report = _check_json(path, capsys)
        assert set(report) == {"valid", "problems", "shapes"}
        for p in report["problems"]:  # as for a file that loads (location: where it has one)
            assert set(p) - {"location"} == {"severity", "node", "port", "code", "message"}
        try:
            loads_project(data)
        except ProjectLoadError as exc:
            refused += 1
            assert code == 2 and report["valid"] is False and report["shapes"] == {}
            (p,) = report["problems"]
            assert (p["severity"], p["code"], p["port"]) == ("error", "unreadable_file", None)
            assert p["message"] == str(exc)
            assert p.get("location") == exc.location
            assert p["node"] is None or p["node"] in _node_ids(data)
            located += p["node"] is not None
        else:
            assert code in (0, 1) and report["valid"] is (code == 0)
    assert refused > 600
    assert located > 50  # a node's damage names the node


def test_check_json_of_a_missing_file_and_a_directory(tmp_path, capsys):
    for path, text in [(tmp_path / "nope.json", "No such file or directory"),
                       (tmp_path, "Is a directory")]:
        code, report = _check_json(path, capsys)
        assert code == 2
        assert report == {"valid": False, "shapes": {}, "problems": [{
            "severity": "error", "node": None, "port": None, "code": "unreadable_file",
            "message": text}]}
