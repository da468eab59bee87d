"""Exceptions raised by the emulator.

Every rejection names the op, the rule and the values involved. Where ttnn 0.81.1 has a TT_FATAL
message for the same rule, the message quotes its wording (read from the strings of
``ttnn/build/lib/_ttnncpp.so`` in the 0.81.1 wheel) after the emulator's own prefix.
"""

from __future__ import annotations


class EmulatorError(RuntimeError):
    """Base class of every error the emulator raises on purpose."""


class EmulatorValidationError(EmulatorError):
    """An op's inputs are not something the emulator can compute or place (shapes, layouts, dtypes, shard specs it
    reads). ttnn's legality rules are not checked here: the real ttnn judges them.

    Attributes:
        op: the ttnn op name, e.g. ``"ttnn.linear"``.
        rule: a short identifier of the rule, e.g. ``"matmul.dst_limit"``.
    """

    def __init__(self, op: str, rule: str, message: str):
        self.op = op
        self.rule = rule
        self.detail = message
        super().__init__(f"{op}: [{rule}] {message}")


class EmulatorUnsupported(EmulatorError):
    """The call is legal ttnn but outside what the emulator models (see docs/emulator.md)."""


def fail(op: str, rule: str, message: str) -> None:
    raise EmulatorValidationError(op, rule, message)


def check(cond: bool, op: str, rule: str, message: str) -> None:
    if not cond:
        raise EmulatorValidationError(op, rule, message)
