"""User-facing errors: one clear message, a field path and the allowed values."""

from __future__ import annotations


class TttgenError(Exception):
    """Base of every error the CLI reports without a traceback.

    ``exit_code`` follows the CLI contract: 2 for bad input, 1 for drift found.
    """

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def __reduce__(self):
        # Keep where/hint when an error crosses a process boundary (parallel `tttgen check`).
        return (_rebuild, (type(self), self.message, self.where, self.hint))

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(TttgenError):
    """A model description, device profile, hint or override is wrong."""


class UnsupportedTarget(TttgenError):
    """The inputs are valid, but tttgen cannot emit runnable code for them."""


class DoesNotFit(TttgenError):
    """Weights, KV cache or a config do not fit the device."""


class OutputConflict(TttgenError):
    """Writing would overwrite hand-edited generated files."""


class PipelineError(TttgenError):
    """A pass produced an IR that fails verification: a bug in tttgen, not in the input."""

    exit_code = 3


def _rebuild(cls, message, where, hint):
    return cls(message, where=where, hint=hint)
