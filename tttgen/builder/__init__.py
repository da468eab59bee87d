"""The generic graph builder: module descriptions (modules/*.yaml) -> the frozen op-graph IR (tttgen/ir)."""
