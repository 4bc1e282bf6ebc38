"""Edits of an in-memory ONNX model for the export tests that tamper with a written file (one home for both suites)."""

from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper


def node(m, name):
    """The graph node called `name`."""
    return next(n for n in m.graph.node if n.name == name)


def set_attr(n, name, value):
    """Replace (or add) attribute `name` of node `n`."""
    for a in list(n.attribute):
        if a.name == name:
            n.attribute.remove(a)
    n.attribute.append(helper.make_attribute(name, value))


def set_init(m, name, value, dtype=np.float32):
    """Replace initializer `name`; KeyError if the graph has none."""
    for i, t in enumerate(m.graph.initializer):
        if t.name == name:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
            return
    raise KeyError(name)


def set_prop(m, key, value):
    """Replace the value of metadata property `key`; KeyError if the model has none."""
    props = [p for p in m.metadata_props if p.key == key]
    if not props:
        raise KeyError(key)
    for p in props:
        p.value = value
