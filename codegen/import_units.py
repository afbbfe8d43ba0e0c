"""Submodules on import: a user's ``nn.Module`` class becomes a unit.

Algorithm:

1. The model runs once on a random input of the given shapes (in evaluation
   mode, so batch-norm statistics are untouched) with a hook on every
   submodule of a user class (not torch's own, not a catalogue block), which
   records the shapes and dtypes each one is called with.
2. Each such submodule called exactly once with tensors alone is imported on
   its own (the same importer, recursively, so its own submodules become
   units too, and it is verified against the original like any import).  It
   is kept as a unit instance only when that import succeeds, has one
   output, and the state-dict keys of the code generated for it equal the
   submodule's; otherwise the fx tracer steps into it as before (its layers
   land on the canvas).
3. The instances of one class with the same structure (node types, names,
   edges) share one unit named after the class; the parameter values that
   differ between them become unit parameters (``"$out_channels"``), one per
   distinct pattern of values, named after the parameter (or
   ``<layer>_<parameter>`` where two patterns share a name).  A class whose
   instances differ in structure gives ``BasicBlock``, ``BasicBlock_2``, ...
4. ``nn.Sequential`` children that are all instances of one unit with the
   same parameters become one instance with ``repeat`` (generated as an
   ``nn.Sequential`` of copies, so the state-dict keys stay
   ``layer1.0.conv1.weight``).

The tracer asks :meth:`Plan.is_leaf`; the builder hands each call of a leaf
to :meth:`Plan.instance`.
"""

from __future__ import annotations

import json

from graph import blocks
from graph.units import unit_name_problem

from .errors import CodegenError


def _user_class(m, is_block) -> bool:
    """A module of a class the user wrote (neither torch's nor a block)."""
    mod = type(m).__module__ or ""
    return not (mod == "torch" or mod.startswith("torch.")) and not is_block(m)


#: The length a variable size (``"T"``) gets in the example run: unlikely to be
#: any layer's own size, so a submodule's input of that length is read back as
#: the variable size.
VARIABLE = 13


def _example(shapes, dtypes) -> list:
    import torch

    out = []
    for shape, dtype in zip(shapes, dtypes):
        full = [2] + [d if isinstance(d, int) else VARIABLE for d in shape]
        out.append(torch.randint(0, 2, full) if dtype == "int64" else torch.randn(full))
    return out


def _record(root, shapes, dtypes, is_block) -> dict:
    """Submodule path → the ``(shapes, dtypes)`` of each call on an example input."""
    import torch

    calls: dict = {}
    hooks = []
    for path, m in root.named_modules():
        if path and _user_class(m, is_block):
            def pre(mod, args, kwargs, path=path):
                ok = not kwargs and args and all(isinstance(a, torch.Tensor) for a in args)
                calls.setdefault(path, []).append(
                    ([tuple(a.shape[1:]) for a in args],
                     ["int64" if not a.is_floating_point() else "float32" for a in args])
                    if ok else None)
            hooks.append(m.register_forward_pre_hook(pre, with_kwargs=True))
    modes = [(m, m.training) for m in root.modules()]  # may differ per layer
    try:
        root.eval()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0)
            root(*_example(shapes, dtypes))
    except Exception:  # the verification after import reports a failing model
        return {}
    finally:
        for m, mode in modes:
            m.training = mode
        for h in hooks:
            h.remove()
    return calls


def _flat_key(key: str) -> str:
    # the importer names a layer after its path, "downsample.0" → "downsample_0"
    return key.replace(".", "_")


def matching_state(target, source) -> dict:
    """``source``'s state dict under ``target``'s keys: equal keys, or keys that
    differ only where the importer named a nested layer ``a_0`` for ``a.0``.

    Raises:
        KeyError: the keys do not correspond one to one.
    """
    have = source.state_dict()
    if set(have) == set(target.state_dict()):
        return have
    by_flat = {_flat_key(k): k for k in have}
    out = {}
    for k in target.state_dict():
        out[k] = have[by_flat.pop(_flat_key(k))]
    if by_flat:
        raise KeyError(", ".join(sorted(by_flat)))
    return out


def _wholly_frozen(module) -> bool:
    """Whether a module has weights and none of them is trained."""
    params = list(module.parameters())
    return bool(params) and not any(p.requires_grad for p in params)


def _one_training_form(graph) -> bool:
    """Whether a submodule's import is one block that only acts while training
    (``BlockSpec.training_forms``: a hand-written Gaussian noise layer): such a
    class does what the block does, so it becomes the block, not a unit of one."""
    inner = [n for n in graph.nodes.values() if n.type not in ("Input", "Output")]
    return len(inner) == 1 and bool(inner[0].spec.training_forms)


def _keys_match(graph, sub) -> bool:
    from .compile import instantiate
    from .source import generate

    try:
        model = instantiate(generate(graph, type(sub).__name__))
    except Exception:  # a graph that does not compile is no unit
        return False
    try:
        matching_state(model, sub)
    except KeyError:
        return False
    return True


class Plan:
    """Which submodules of a model become unit instances, and their units.

    Args:
        root: the model being imported.
        shapes, dtypes: its input sample shapes and dtypes.
        importer: ``(module, shapes, dtypes) → Graph``, the importer itself
            (raising :class:`~codegen.errors.CodegenError` when it cannot);
            passed in, as the importer uses this module.
        is_block: whether a module is a catalogue block.
    """

    def __init__(self, root, shapes, dtypes, importer, is_block):
        self.root = root
        self.graphs: dict[str, object] = {}  # path → imported graph of the submodule
        calls = _record(root, shapes, dtypes, is_block) if any(
            _user_class(m, is_block) for p, m in root.named_modules() if p) else {}
        names = {d for shape in shapes for d in shape if not isinstance(d, int)}
        for path in sorted(calls, key=lambda p: p.count(".")):
            if any(path.startswith(k + ".") for k in self.graphs):
                continue  # inside a unit: that unit's own import handled it
            got = calls[path]
            if len(got) != 1 or got[0] is None:
                continue
            sub = root.get_submodule(path)
            sub_shapes = got[0][0]
            if len(names) == 1:  # one variable size: the same name inside
                name = next(iter(names))
                sub_shapes = [tuple(name if d == VARIABLE else d for d in shape)
                              for shape in sub_shapes]
            try:
                g = importer(sub, sub_shapes, got[0][1])
            except CodegenError:
                continue
            if _one_training_form(g):
                continue  # a noise layer of the user's: traced into, it is the block
            if len(g.ends("output")) == 1 and _keys_match(g, sub):
                self.graphs[path] = g
        self.ids = {id(root.get_submodule(p)): p for p in self.graphs}
        #: submodules whose weights are all frozen: a frozen instance (it freezes
        #: the whole unit), so the unit itself holds no frozen flag of theirs
        self.frozen = {p for p in self.graphs if _wholly_frozen(root.get_submodule(p))}
        self.unit_of: dict[str, str] = {}  # path → unit name
        self.args: dict[str, dict] = {}  # path → instance parameters
        self.defs: dict[str, dict] = {}  # unit name → definition in file form
        self.nested: dict[str, dict] = {}  # units used inside units, in file form
        self._make_units()
        self.defined = False
        self.chains: dict[str, tuple] = {}  # Sequential path → (last fx node, node id)

    def is_leaf(self, m) -> bool:
        return id(m) in self.ids

    # ------------------------------------------------------------ the units
    def _make_units(self) -> None:
        from graph.project import Project, project_to_dict

        by_class: dict[type, dict[str, list[str]]] = {}
        docs = {}
        for path, g in self.graphs.items():
            doc = project_to_dict(Project(name="unit", graph=g))
            docs[path] = doc
            for name, unit in doc.get("units", {}).items():
                self.nested.setdefault(name, unit)
            if path in self.frozen:
                for node in doc["nodes"]:
                    node.pop("frozen", None)
            # which layers are frozen is part of the structure: a unit shared by
            # a frozen and a trained instance would freeze both or neither
            shape = json.dumps([[(n["id"], n["type"], n["name"], n.get("repeat", 1),
                                  n.get("frozen", False))
                                 for n in doc["nodes"]], doc["edges"]], sort_keys=True)
            groups = by_class.setdefault(type(self.root.get_submodule(path)), {})
            groups.setdefault(shape, []).append(path)
        taken = set(self.nested)
        for cls, groups in by_class.items():
            for k, paths in enumerate(groups.values()):
                name = self._free_name(cls.__name__, k, taken)
                taken.add(name)
                self._define(name, [docs[p] for p in paths], paths)

    @staticmethod
    def _free_name(base: str, k: int, taken: set) -> str:
        if unit_name_problem(base) is not None:
            base = f"{base}Unit" if unit_name_problem(f"{base}Unit") is None else "Unit"
        i = k + 1
        while True:
            name = base if i == 1 else f"{base}_{i}"
            if name not in taken:
                return name
            i += 1

    def _define(self, name: str, docs: list[dict], paths: list[str]) -> None:
        first = docs[0]
        varying: dict[str, list[tuple[int, str]]] = {}  # value pattern → positions
        for i, node in enumerate(first["nodes"]):
            if node["type"] in ("Input", "Output"):
                continue
            keys = set().union(*(d["nodes"][i]["params"] for d in docs))
            for k in sorted(keys):
                values = [_value(d, i, k, self.nested) for d in docs]
                if any(v != values[0] for v in values[1:]):
                    varying.setdefault(json.dumps(values, sort_keys=True), []).append((i, k))
        names: dict[str, str] = {}
        counts: dict[str, int] = {}
        for positions in varying.values():
            k = positions[0][1]
            counts[k] = counts.get(k, 0) + 1
        params = {}
        for pattern, positions in varying.items():
            i, k = positions[0]
            pname = k if counts[k] == 1 else f"{first['nodes'][i]['name']}_{k}"
            names[pattern] = pname
            params[pname] = json.loads(pattern)[0]
        nodes = json.loads(json.dumps(first["nodes"]))
        for pattern, positions in varying.items():
            for i, k in positions:
                nodes[i]["params"][k] = f"${names[pattern]}"
        edges = json.loads(json.dumps(first["edges"]))
        _name_ports(nodes, edges)
        self.defs[name] = {"params": params, "nodes": nodes, "edges": edges}
        for path, doc in zip(paths, docs):
            self.unit_of[path] = name
            args = {}
            for pattern, positions in varying.items():
                i, k = positions[0]
                v = _value(doc, i, k, self.nested)
                if v != params[names[pattern]]:
                    args[names[pattern]] = v
            self.args[path] = args

    def _define_all(self, g) -> None:
        """Add every unit to the graph being built (once, before the first instance)."""
        from graph.project import project_from_dict

        self.defined = True
        doc = {"format": "netcanvas", "version": 2, "name": "import",
               "units": {**self.nested, **self.defs}, "nodes": [], "edges": []}
        units = project_from_dict(doc, "<imported units>").graph.units
        done: set = set()

        def define(name):
            if name in done:
                return
            done.add(name)
            for inner in units[name].uses():
                define(inner)
            g.define_unit(units[name].copy())

        for name in units:
            define(name)

    # ------------------------------------------------------------ instances
    def instance(self, b, n) -> bool:
        """Add the instance a traced call of a leaf makes; False if not a leaf."""
        path = n.target
        if path not in self.unit_of:
            return False
        if not self.defined:
            self._define_all(b.g)
        parent, _, index = path.rpartition(".")
        seq = self._repeat(parent)
        if seq and index != "0":
            last_node, nid = self.chains.get(parent, (None, None))
            if last_node is not None and n.args and n.args[0] is last_node:
                self.chains[parent] = (n, nid)
                b.val[n] = ("T", nid)
                return True
        unit = self.unit_of[path]
        ports = b.g.units[unit].input_ids()
        edges = []
        for port, a in zip(ports, [a for a in n.args if not b.is_meta(a)]):
            t = b.tensor(a)
            if t is None:
                b.bad.append(f"input {a} of {path}")
                return True
            edges.append((t, port))
        name = parent.replace(".", "_") if seq else path.replace(".", "_")
        nid = b.add(unit, dict(self.args[path]), edges, name=name)
        if path in self.frozen:
            b.g.set_frozen(nid, True)
        if seq:
            b.g.set_repeat(nid, seq)
            self.chains[parent] = (n, nid)
        b.origin[nid] = parent if seq else path
        b.val[n] = ("T", nid)
        return True

    def _repeat(self, parent: str) -> int:
        """How many copies a Sequential at ``parent`` is, when it is one repeated
        instance (all children one unit with the same parameters), else 0."""
        import torch

        if not parent:
            return 0
        seq = self.root.get_submodule(parent)
        if type(seq) is not torch.nn.Sequential or len(seq) < 2:
            return 0
        paths = [f"{parent}.{k}" for k, _ in seq.named_children()]
        if [k for k, _ in seq.named_children()] != [str(i) for i in range(len(seq))]:
            return 0
        units = {self.unit_of.get(p) for p in paths}
        if None in units or len(units) != 1 or any(self.args[p] != self.args[paths[0]]
                                                   for p in paths):
            return 0
        if len({p in self.frozen for p in paths}) != 1:
            return 0  # copies frozen and not: one instance cannot say it
        return len(seq)


def _name_ports(nodes: list, edges: list) -> None:
    """Ports named as a person would: inputs after the forward arguments
    (``x``), the one output ``out`` (what an instance's result is read as);
    an Input's shape is the instance's business, not the unit's."""
    taken = {n["id"] for n in nodes}
    new = {}
    for node in nodes:
        if node["type"] == "Input":
            node["params"] = {}
            want = node["name"]
        elif node["type"] == "Output":
            want = "out"
        else:
            continue
        if want not in taken and want.isidentifier():
            new[node["id"]] = want
            taken.add(want)
    for node in nodes:
        node["id"] = new.get(node["id"], node["id"])
    for e in edges:
        e["source"] = new.get(e["source"], e["source"])
        e["target"] = new.get(e["target"], e["target"])


def _value(doc: dict, i: int, k: str, nested: dict):
    """A node's parameter in a definition in file form, its default if left out."""
    node = doc["nodes"][i]
    if k in node["params"]:
        return node["params"][k]
    spec = blocks.get(node["type"])
    if spec is not None:
        p = spec.param_index.get(k)
        default = p.default if p is not None else None
        return list(default) if isinstance(default, tuple) else default
    unit = doc.get("units", {}).get(node["type"]) or nested.get(node["type"]) or {}
    return unit.get("params", {}).get(k)


__all__ = ["Plan", "matching_state"]
