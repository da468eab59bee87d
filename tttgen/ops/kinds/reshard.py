"""reshard: a placement move the builder adds between decode ops (tttgen/builder/moves.py), never written in a
description; the reshard pass places or elides it and the renderer prints it before its consumer (move_view)."""

from __future__ import annotations

from tttgen.ops.kinds.base import BYTES_BF16, OpKind, passthrough


class Reshard(OpKind):
    name = "reshard"
    doc = "move a value to the placement its consumer reads it in"
    described = False
    promises = {"reshard": ("in0", "out", "elide")}

    def config_entries(self, op, ident, tools):
        d = op.decisions
        if d.get("elide"):
            return  # named only where a call passes it: an elided reshard's placement must not become an unread config
        dst = tools.by_key.get(f"{op.mode_key}.{op.facts['dst']}")
        dst_pin = (dst.decisions.get("pinned") or {}) if dst else {}
        note = f"pinned by {dst_pin['by']}" if "memory_config.in0" in dst_pin.get("fields", ()) else ""
        tools.add(f"{ident}_memory", tools.memory(d["out"]), pinned=note)

    def mesh_splits(self, op):
        """A move of whatever its consumer reads, in the state the consumer reads it."""
        return passthrough("S-1", "S-3")

    def cost_facts(self, op, tools):
        if op.decisions.get("elide"):
            return None
        size = op.facts["rows"] * op.facts["dim"] * BYTES_BF16
        return "reshard", {"bytes_in": size, "bytes_out": size, "src": tools.src, "dst": tools.dst}


KIND = Reshard()
