"""pytest 9.2 compatibility for schemathesis' lazy (fixture-loaded) schemas.

schemathesis 4.32 renames the running test to ``test[METHOD /path]`` through ``Node._nodeid``,
which pytest 9.2 replaced by ``Node._id`` (a ``NodeId``). This maps the old attribute onto it.
"""

import pytest
from _pytest.nodeid import coerce_node_id

if not hasattr(pytest.Item, "_nodeid"):
    pytest.Item._nodeid = property(
        lambda node: node.nodeid,
        lambda node, value: setattr(node, "_id", coerce_node_id(value)),
    )
