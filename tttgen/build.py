"""A Llama-family ModelSpec -> op graph, through its module description (modules/llama.yaml, mistral.yaml).

The op sequence is tt_transformers' and lives in the descriptions; the generic builder (tttgen/builder/expand.py)
expands it. This module only binds the spec to the description's params.
"""

from __future__ import annotations

from tttgen.builder.bind import description_for, spec_params
from tttgen.builder.expand import expand
from tttgen.ir.graph import Graph
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.hints import Hints
from tttgen.inputs.model import ModelSpec
from tttgen.tiling import TILE, round_up


def padded_vocab(vocab_size: int) -> int:
    """Embedding rows and LM-head columns as stored: the vocabulary rounded up to whole tiles, since ttnn
    TILE tensors need tile-aligned widths (the descriptions' `pad_to_tile`); model.py slices the logits back."""
    return round_up(vocab_size, TILE)


def build_graph(model: ModelSpec, device: DeviceProfile, hints: Hints) -> Graph:
    desc = description_for(model, hints.features)
    return expand(desc, spec_params(desc, model), device, hints, reference=model)
