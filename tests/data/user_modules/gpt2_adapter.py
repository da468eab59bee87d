"""How verify calls transformers' GPT-2 modules for the descriptions beside this file.

transformers 5's GPT2Block built standalone runs eager attention, which is causal only through the mask it is
given: without one every token attends to every other. So the adapter passes GPT-2's causal mask explicitly.
"""

import torch


def causal_mask(rows: int) -> torch.Tensor:
    """The additive [1, 1, rows, rows] mask: 0 on and below the diagonal, the dtype's minimum above it."""
    return torch.full((rows, rows), torch.finfo(torch.float32).min).triu(1)[None, None]


def block(layer, x):
    """y for x [1, rows, hidden]."""
    return {"y": layer(x, attention_mask=causal_mask(x.shape[-2]))}


def block_without_mask(layer, x):
    """The obvious call, without a mask: not causal in transformers 5 (verify reports the mismatch)."""
    return {"y": layer(x)}


def trunk(model, tokens, positions):
    """last_hidden_state for token and position ids [1, rows], and each block's output (`blocks.<i>`, the
    description's looped call), which verify compares too."""
    outputs = {}
    hooks = [
        block.register_forward_hook(lambda _m, _args, out, i=i: outputs.__setitem__(f"blocks.{i}", out))
        for i, block in enumerate(model.h)
    ]
    try:
        rows = tokens.shape[-1]
        mask = torch.ones(1, rows, dtype=torch.long)  # GPT2Model builds its causal mask from this padding mask
        outputs["y"] = model(
            input_ids=tokens.long(), position_ids=positions.long(), attention_mask=mask
        ).last_hidden_state
    finally:
        for hook in hooks:
            hook.remove()
    return outputs
