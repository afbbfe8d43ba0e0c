"""codegen.bundle copies definitions with all they use, across modules, by the
public names asked for: private helpers follow by themselves (so renaming one
never breaks export), and code that cannot be copied as it is is refused at
export with the reason."""

from __future__ import annotations

import sys
import textwrap

import pytest

from codegen import CodegenError
from codegen.bundle import bundle


@pytest.fixture
def pkg(tmp_path, monkeypatch):
    """Write modules of a scratch package ``scratch`` (name → source)."""
    root = tmp_path / "scratch"
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(**modules):
        for name, src in modules.items():
            (root / f"{name}.py").write_text(textwrap.dedent(src))
        for name in [m for m in sys.modules if m == "scratch" or m.startswith("scratch.")]:
            monkeypatch.delitem(sys.modules, name)
    return write


def run(src: str, call: str):
    ns = {"__name__": "bundled"}
    exec(compile("from __future__ import annotations\n" + src + "\n_result = " + call,
                 "bundled", "exec"), ns)
    return ns["_result"]


def test_private_helpers_and_other_modules_follow_the_public_name(pkg):
    pkg(base='''
        import math

        SCALE = 3


        def _helper_with_any_name(x):
            return math.floor(x) * SCALE
        ''', api='''
        from __future__ import annotations

        import json
        from collections import OrderedDict

        from .base import _helper_with_any_name

        TABLE = {"a": 1}
        UNUSED = 5


        def public(x: OrderedDict) -> str:
            return json.dumps([_helper_with_any_name(x), TABLE["a"]])
        ''')
    src = bundle([("scratch.api", "public")], project=("scratch",))
    assert run(src, "public(2.5)") == "[6, 1]"
    assert "UNUSED" not in src and "from collections" not in src  # annotations are not run
    assert src.index("# scratch/base.py") < src.index("# scratch/api.py")
    assert src.splitlines()[:2] == ["import json", "import math"]


@pytest.mark.parametrize("api, message", [
    ("def public():\n    return missing_name\n", "scratch.api.public uses missing_name, "
                                                    "defined nowhere"),
    ("def public():\n    from .base import SCALE\n    return SCALE\n",
     "a function imports .base inside itself; import it at the top of its module"),
    ("from .base import SCALE as S\n\n\ndef public():\n    return S\n",
     "scratch.api imports SCALE from scratch.base as S; import each name it uses under its "
     "own name"),
    ("import scratch.base\n\n\ndef public():\n    return scratch.base.SCALE\n",
     "scratch.api imports the module scratch.base as a whole; import the names it uses"),
    ("from .base import base\nfrom .other import other\n\n\ndef public():\n"
     "    return base() + other()\n", "SCALE is defined in both scratch.base and scratch.other"),
])
def test_code_that_cannot_be_copied_is_refused_with_the_reason(pkg, api, message):
    pkg(base="SCALE = 3\n\n\ndef base():\n    return SCALE\n",
        other="SCALE = 4\n\n\ndef other():\n    return SCALE\n", api=api)
    with pytest.raises(CodegenError) as exc:
        bundle([("scratch.api", "public")], project=("scratch",))
    assert message in str(exc.value)
    assert str(exc.value).startswith("internal error while copying the dataset code: ")


def test_provided_names_are_left_to_the_generated_file(pkg):
    pkg(api="class Error(Exception):\n    pass\n\n\ndef public():\n    raise Error('x')\n")
    src = bundle([("scratch.api", "public")], provided=("Error",), project=("scratch",))
    assert "class Error" not in src and "def public" in src
