"""`tttgen verify`: run a generated package on the ttnn CPU emulator next to Hugging Face transformers.

The generated code is rendered exactly as `build` would write it, written to a temporary directory,
imported with `ttnn` bound to tttgen.checking.emulator, and fed a real safetensors checkpoint through its own
weights.py. The reference is transformers' model class of the spec's family (LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM) with the same weights.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tttgen.generate import Plan, render_plan
from tttgen.render.emit import package_name
from tttgen.inputs.device import DeviceProfile
from tttgen.inputs.model import ModelSpec
from tttgen.inputs.module import read_module_lines

PCC_ACCURACY = 0.99
PCC_PERFORMANCE = 0.97
PLANTED_HEAD_SCALE = 2.0  # logit of the planted successor ~ 2 * sqrt(hidden): a confident model
BIAS_STD = 0.5  # random projection biases, half the spread of the projections' outputs
PER_HEAD_GAMMA_STD = 0.5  # spread of the per-head q/k norms' random gammas around 1
OFFSET_NORM_FAMILIES = ("gemma2", "gemma3")  # RMSNorm scales by 1 + weight (Gemma2RMSNorm, Gemma3RMSNorm)


def pcc(a, b) -> float:
    """Pearson correlation of two tensors (1.0 for identical, also when both are constant)."""
    import torch

    x = a.detach().double().flatten()
    y = b.detach().double().flatten()
    x = x - x.mean()
    y = y - y.mean()
    denom = torch.sqrt((x * x).sum() * (y * y).sum())
    if denom == 0:
        return 1.0 if torch.equal(a.double(), b.double()) else 0.0
    return float((x * y).sum() / denom)


def hf_config(spec: ModelSpec):
    """The transformers config of the spec's family, as a config.json of that family would build it."""
    import transformers

    kwargs = dict(
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        head_dim=spec.head_dim,
        num_hidden_layers=spec.num_hidden_layers,
        rms_norm_eps=spec.rms_norm_eps,
        vocab_size=spec.vocab_size,
        tie_word_embeddings=spec.tie_word_embeddings,
        max_position_embeddings=spec.max_position_embeddings,
        hidden_act=spec.hidden_act,
    )
    rope: dict[str, Any] = {"rope_type": "default", "rope_theta": spec.rope_theta}
    if spec.rope_scaling is not None:
        rope = {**spec.rope_scaling.model_dump(), "rope_theta": spec.rope_theta}
        kwargs["max_position_embeddings"] = max(
            spec.max_position_embeddings, spec.rope_scaling.original_max_position_embeddings + 1
        )
    kwargs["rope_parameters"] = rope
    window = spec.sliding_window
    if spec.family in ("gemma2", "gemma3"):
        return gemma_config(spec, kwargs)
    if spec.family == "mistral":
        return transformers.MistralConfig(**kwargs, sliding_window=window)
    if spec.family in ("qwen2", "qwen3"):
        # the window (when there is one) in every layer: the spec keeps the span, not which layers slide
        cls = transformers.Qwen2Config if spec.family == "qwen2" else transformers.Qwen3Config
        sliding = dict(use_sliding_window=window is not None, sliding_window=window, max_window_layers=0)
        return cls(**kwargs, **sliding, **({"attention_bias": False} if spec.family == "qwen3" else {}))
    if spec.family == "phi3":
        # Phi3Config's default token ids (32000) lie outside a small test vocabulary; the forward reads none
        tokens = dict(bos_token_id=None, eos_token_id=None, pad_token_id=None)
        return transformers.Phi3Config(**kwargs, sliding_window=window, **tokens)
    return transformers.LlamaConfig(**kwargs, attention_bias=spec.family == "llama_bias", mlp_bias=False)


def gemma_config(spec: ModelSpec, kwargs: dict[str, Any]):
    """Gemma2Config / Gemma3TextConfig: the layer pattern as layer_types (layer i global when (i + 1) is a multiple
    of sliding_window_pattern), Gemma 3's two rotary bases as per-layer-type rope_parameters, no score capping."""
    import transformers

    kwargs = {k: v for k, v in kwargs.items() if k != "hidden_act"}
    period = spec.sliding_window_pattern
    types = ["full_attention" if (i + 1) % period == 0 else "sliding_attention" for i in range(spec.num_hidden_layers)]
    common = dict(
        hidden_activation=spec.hidden_act,
        query_pre_attn_scalar=spec.query_pre_attn_scalar,
        sliding_window=spec.sliding_window,
        layer_types=types,
        final_logit_softcapping=spec.final_logit_softcapping,
        attn_logit_softcapping=spec.attn_logit_softcapping,
    )
    if spec.family == "gemma2":
        return transformers.Gemma2Config(**kwargs, **common)
    kwargs["rope_parameters"] = {
        "full_attention": {"rope_type": "default", "rope_theta": spec.rope_theta},
        "sliding_attention": {"rope_type": "default", "rope_theta": spec.rope_local_base_freq},
    }
    return transformers.Gemma3TextConfig(**kwargs, **common)


def reference_model(spec: ModelSpec, checkpoint: Path | None, workdir: Path, seed: int):
    """The HF model; without a checkpoint, a seeded random init saved as safetensors."""
    import torch
    from transformers import AutoModelForCausalLM

    if checkpoint is not None:
        model = AutoModelForCausalLM.from_pretrained(str(checkpoint), torch_dtype=torch.float32)
        return model.eval(), checkpoint
    torch.manual_seed(seed)
    config = hf_config(spec)
    # Weights of std 1/sqrt(hidden): each layer's update is as large as the unit-variance residual it
    # adds to, so the layer-output PCCs measure the layers, not the residual passing through.
    config.initializer_range = spec.hidden_size**-0.5
    model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    # Gemma's norms scale by 1 + weight: their weights are drawn 1 lower, so every family's gains spread alike
    # around 1 (and a dropped 1 leaves gains near 0)
    gain_offset = 1.0 if spec.family in OFFSET_NORM_FAMILIES else 0.0
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("q_norm.weight", "k_norm.weight")):
                # a per-head norm of q or k (Qwen3) acts on heads already near unit scale: only a gamma that
                # varies shows whether the norm (and its gamma's order) is applied
                param.copy_(1.0 - gain_offset + PER_HEAD_GAMMA_STD * torch.randn_like(param))
            elif name.endswith("norm.weight"):
                # random gammas exercise the norm weights
                param.copy_(1.0 - gain_offset + 0.1 * torch.randn_like(param))
            elif name.endswith(".bias"):
                # HF initialises biases to zero, which would leave a dropped or misplaced bias unseen: draw
                # them as large as the projections' outputs (about unit variance) to make them count.
                param.copy_(BIAS_STD * torch.randn_like(param))
        # HF's init (std 0.02) gives near-uniform logits: greedy agreement would be a coin toss between
        # near-ties. A trained LM is confident, so plant that: unit-variance embeddings and an LM head whose
        # row j points along the embedding of token j - 1 (the model leans towards "successor" tokens).
        # The decoder layers stay random; the PCC checks measure their fidelity.
        embed = model.get_input_embeddings().weight
        # Gemma multiplies the looked-up rows by sqrt(hidden_size) (its embedding's scalar_embed_scale): rows of
        # std 1 / sqrt(hidden_size) keep the residual stream at unit variance as in the other families, else it
        # would be sqrt(hidden_size) times each layer's update and hide the layers' bugs from the layer PCCs.
        embed_scale = float(getattr(model.get_input_embeddings(), "scalar_embed_scale", 1.0))
        embed.copy_(torch.randn_like(embed) / embed_scale)
        if embed_scale != 1.0 and spec.family in OFFSET_NORM_FAMILIES and spec.tie_word_embeddings:
            # ... and the tied head's rows are as small: the final norm's gain (1 + w) of about sqrt(hidden_size)
            # gives logits as confident as the other families' (greedy agreement is not a toss between near-ties)
            final = model.model.norm.weight
            final.copy_(embed_scale * (1.0 + 0.1 * torch.randn_like(final)) - 1.0)
        head = model.get_output_embeddings().weight
        if head.data_ptr() != embed.data_ptr():
            head.copy_(torch.roll(embed, shifts=1, dims=0) * PLANTED_HEAD_SCALE / spec.hidden_size**0.5)
    target = workdir / "checkpoint"
    model.save_pretrained(str(target), safe_serialization=True)
    return model.eval(), target


@contextmanager
def imported_package(directory: Path, name: str):
    """Import a generated package under `name`; remove it and its submodules afterwards so the next
    package (another device, same model) is never served from sys.modules."""
    spec = importlib.util.spec_from_file_location(
        name, directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]


def emulated(device: DeviceProfile):
    """tttgen's ttnn emulator installed as `ttnn`, shaped like `device` (arch, grid, DRAM banks)."""
    import tttgen.checking.emulator as emulator

    return emulator.installed(arch=device.arch, grid=(device.grid.x, device.grid.y), dram_banks=device.dram.banks)


def rendered_files(p: Plan, edit_files: Callable[[dict[str, str]], dict[str, str]] | None) -> dict[str, str]:
    """The package as `build` would write it, after a test's planted edit (if any)."""
    files = render_plan(p)
    return edit_files(dict(files)) if edit_files is not None else files


def api_findings(files: dict[str, str]) -> list[str]:
    """Every ttnn name or keyword of the package's Python files that the ttnn API does not have."""
    from tttgen.apicheck import check_source, load_api

    api = load_api()
    return [str(f) for name in sorted(files) if name.endswith(".py") for f in check_source(files[name], name, api)]


@dataclass
class VerifyReport:
    model: str
    device: str
    precision: str
    prompt_len: int
    steps: int
    layer_pcc: list[float] = field(default_factory=list)
    prefill_logits_pcc: float = 0.0
    decode_logits_pcc: list[float] = field(default_factory=list)
    token_agreement: int = 0
    api_findings: list[str] = field(default_factory=list)
    threshold: float = PCC_ACCURACY
    min_agreement: int = 0
    # decode_forward(sampling=...) drawn next to every greedy step (sampled_params): what the draws broke
    sampling_failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        values = [self.prefill_logits_pcc] + self.decode_logits_pcc + self.layer_pcc
        return (
            min(values) >= self.threshold
            and self.token_agreement >= self.min_agreement
            and not self.api_findings
            and not self.sampling_failures
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "device": self.device,
            "precision": self.precision,
            "prompt_len": self.prompt_len,
            "steps": self.steps,
            "layer_pcc": [round(x, 5) for x in self.layer_pcc],
            "prefill_logits_pcc": round(self.prefill_logits_pcc, 5),
            "decode_logits_pcc": [round(x, 5) for x in self.decode_logits_pcc],
            "token_agreement": self.token_agreement,
            "api_findings": list(self.api_findings),
            "threshold": self.threshold,
            "min_agreement": self.min_agreement,
            "sampling_failures": list(self.sampling_failures),
            "passed": self.passed,
        }


def run_verify(
    p: Plan,
    checkpoint: Path | None = None,
    steps: int = 8,
    prompt_len: int = 128,
    seed: int = 0,
    edit_files: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> VerifyReport:
    """Prefill `prompt_len` random tokens, then `steps` greedy decode steps, on both implementations.

    `edit_files` lets tests plant a bug in the rendered package to prove the comparison can fail.
    """
    import torch

    graph = p.graph
    device = graph.device
    threshold = PCC_ACCURACY if graph.hints.precision == "accuracy" else PCC_PERFORMANCE
    report = VerifyReport(
        graph.name,
        device.name,
        graph.hints.precision,
        prompt_len,
        steps,
        threshold=threshold,
        min_agreement=steps - 1,
    )
    files = rendered_files(p, edit_files)
    report.api_findings = api_findings(files)
    with tempfile.TemporaryDirectory(prefix="tttgen-verify-") as tmp:
        work = Path(tmp)
        pkg_dir = work / "pkg"
        pkg_dir.mkdir()
        for name, text in files.items():
            (pkg_dir / name).write_text(text)
        hf, ckpt = reference_model(graph.entry.reference, checkpoint, work, seed)
        gen = torch.Generator().manual_seed(seed + 1)
        prompt = torch.randint(0, graph.entry.reference.vocab_size, (prompt_len,), generator=gen)
        ref_layers: list[Any] = []
        hooks = [
            layer.register_forward_hook(
                lambda _m, _i, out: ref_layers.append((out[0] if isinstance(out, tuple) else out)[0])
            )
            for layer in hf.model.layers
        ]
        with torch.no_grad():
            ref = hf(prompt[None, :])
        for hook in hooks:
            hook.remove()
        with (
            emulated(device) as ttnn,
            imported_package(pkg_dir, f"tttgen_verify_{package_name(graph.name)}") as package,
        ):
            # the device as Model.open opens it: decode_forward captures its trace there (a mesh package opens its
            # mesh with its own open_mesh)
            if hasattr(package.model, "open_mesh"):
                device = package.model.open_mesh(package.configs.TRACE_REGION_SIZE)
            else:
                device = ttnn.open_device(device_id=0, trace_region_size=package.configs.TRACE_REGION_SIZE)
            model = package.Model(device, str(ckpt))
            layer_out: list[Any] = []
            # Each decoder layer's output: wrap the prefill methods of every layer instance (model.layers). A paged
            # package runs a prompt longer than its largest prefill length as chunks: each layer's outputs are
            # the chunks' outputs in order, each cut to the chunk's real rows.
            lens = package.configs.PREFILL_LENS
            paged = graph.hints.paged is not None
            chunk = max(lens) if paged else prompt_len
            chunks = [min(chunk, prompt_len - start) for start in range(0, prompt_len, chunk)]
            methods = sorted({f"prefill_{min(n for n in lens if n >= rows)}" for rows in chunks})

            def capture(original):
                def run(*args, **kwargs):
                    out = original(*args, **kwargs)
                    rows = chunks[len(layer_out) // len(model.layers)]
                    # a mesh package joins its chips' slices
                    host = model.to_host(out, "residual") if hasattr(model, "to_host") else ttnn.to_torch(out)
                    layer_out.append(host.float().reshape(-1, graph.entry.reference.hidden_size)[:rows])
                    return out

                return run

            for layer in model.layers:
                for method in methods:
                    setattr(layer, method, capture(getattr(layer, method)))
            # paged: the blocks in a shuffled order, so that every read and write goes through the page table
            paging = {"page_table": page_table(package.configs, seed)} if paged else {}
            logits = model.prefill_forward(prompt, user_id=0, **paging)
            for layer in model.layers:
                for method in methods:
                    delattr(layer, method)
            per_layer = [torch.cat(layer_out[i :: len(model.layers)]) for i in range(len(model.layers))]
            for out, expected in zip(per_layer, ref_layers):
                report.layer_pcc.append(pcc(out, expected))
            report.prefill_logits_pcc = pcc(logits, ref.logits[0, -1])
            users = package.configs.DECODE_USERS
            tokens = torch.zeros(users, dtype=torch.int64)
            positions = torch.zeros(users, dtype=torch.int64)
            sequence = prompt.clone()
            ref_next = int(ref.logits[0, -1].argmax())
            model.seed_sampling(seed)
            drawn_first = []
            for step in range(steps):
                tokens[0] = ref_next
                positions[0] = prompt_len + step
                sequence = torch.cat([sequence, torch.tensor([ref_next])])
                out = model.decode_forward(tokens, positions, **paging)
                # the same (traced) step again with the argmax on device: the token the package itself picks
                device_next = int(model.decode_forward(tokens, positions, greedy=True, **paging)[0])
                # and drawn on device: each draw must respect its user's top-k, top-p and p = 0 (argmax) limits
                drawn = model.decode_forward(tokens, positions, sampling=sampled_params(users), **paging)
                report.sampling_failures += sampling_failures(out, drawn, step)
                drawn_first.append((int(drawn[0]), int(out[0].argmax())))
                with torch.no_grad():
                    ref_logits = hf(sequence[None, :]).logits[0, -1]
                report.decode_logits_pcc.append(pcc(out[0], ref_logits))
                ref_next = int(ref_logits.argmax())
                report.token_agreement += int(device_next == ref_next)
            if steps >= MIN_STEPS_FOR_SPREAD and all(d == a for d, a in drawn_first):
                report.sampling_failures.append(
                    f"user 0 drew its argmax at all {steps} steps (top_k {SAMPLED_TOP_K}, temperature "
                    f"{SAMPLED_TEMPERATURE}): the draw is not sampling"
                )
    return report


# The draws verify asks for beside each greedy step. verify's reference model is confident (its planted LM head), so
# the limits are set at a temperature that spreads the top candidates: user 0 under a top-k limit, user 1 under a
# top-p one, every other user at top_p = 0, which ttnn.sampling turns into the argmax (ttnn's own test_sampling edge
# case). ttnn.sampling's probabilities are the softmax of the 32 candidates at the temperature (its docstring).
SAMPLED_TEMPERATURE = 16.0
SAMPLED_TOP_K = 4  # user 0 (top_p 1)
SAMPLED_TOP_P = 0.5  # user 1 (top_k 32)


def sampled_params(users: int) -> dict[str, list[float]]:
    """decode_forward's sampling= for `users` slots: user 0 top-k, user 1 top-p, the rest top_p 0."""
    rest = max(users - 2, 0)
    return {
        "top_k": ([SAMPLED_TOP_K, 32] + [32] * rest)[:users],
        "top_p": ([1.0, SAMPLED_TOP_P] + [0.0] * rest)[:users],
        "temperature": ([SAMPLED_TEMPERATURE, SAMPLED_TEMPERATURE] + [1.0] * rest)[:users],
    }


MIN_STEPS_FOR_SPREAD = 8  # with fewer steps, user 0 drawing its argmax every time is not unlikely enough to flag
NUCLEUS_SLACK = 0.02  # ttnn.sampling's probabilities are bfloat16


def sampling_failures(logits: Any, drawn: Any, step: int) -> list[str]:
    """What one step's draws break, judged against the same step's logits ([users, vocab]): user 0's id must be
    among its SAMPLED_TOP_K largest logits; user 1's inside the top-p nucleus of its 32 candidates' softmax at the
    temperature (the mass of the more likely candidates at most top_p, plus bfloat16 slack); every other user's id
    must be an argmax."""
    import torch

    failures = []
    picks = [int(drawn[user]) for user in range(logits.shape[0])]
    for user, pick in enumerate(picks):
        if not 0 <= pick < logits.shape[1]:
            failures.append(f"step {step}: user {user} drew {pick}, outside the vocab")
    if failures:
        return failures
    for user in range(2, logits.shape[0]):
        if logits[user, picks[user]] < logits[user].max():
            failures.append(f"step {step}: user {user} (top_p 0) drew {picks[user]}, not an argmax of its logits")
    rank = int((logits[0] > logits[0, picks[0]]).sum())
    if rank >= SAMPLED_TOP_K:
        failures.append(f"step {step}: user 0 drew {picks[0]}, rank {rank} of its logits (top_k {SAMPLED_TOP_K})")
    if logits.shape[0] < 2:
        return failures
    top = torch.topk(logits[1].float(), 32).values
    probs = torch.softmax(top / SAMPLED_TEMPERATURE, dim=-1)
    before = float(probs[top > logits[1, picks[1]]].sum())
    if before > SAMPLED_TOP_P + NUCLEUS_SLACK:
        failures.append(
            f"step {step}: user 1 drew {picks[1]} after {before:.3f} of the probability mass (top_p {SAMPLED_TOP_P})"
        )
    return failures


def page_table(configs: Any, seed: int) -> Any:
    """A page table for every user slot that allocates the cache's blocks in a seeded random order: paged
    verification then passes only if every cache read and write goes through the table."""
    import torch

    users, pages = configs.DECODE_USERS, configs.PAGES_PER_USER
    if configs.PAGE_BLOCKS < users * pages:
        from tttgen.errors import InputError

        raise InputError(
            f"verify gives every user slot its own blocks: it needs {users * pages} cache blocks, the package has "
            f"{configs.PAGE_BLOCKS}",
            where="--page-blocks",
            hint=f"verify with --page-blocks {users * pages} or more (or without it)",
        )
    order = torch.randperm(configs.PAGE_BLOCKS, generator=torch.Generator().manual_seed(seed + 2))
    return order[: users * pages].reshape(users, pages).to(torch.int32)


# ---------------------------------------------------------------- modules built from descriptions


@dataclass
class ModuleVerifyReport:
    module: str
    device: str
    pcc: dict[str, list[float]] = field(default_factory=dict)  # mode key -> PCC per output
    api_findings: list[str] = field(default_factory=list)
    threshold: float = PCC_ACCURACY
    # mode key -> {called module (`attention`, `blocks.1`) -> PCC of its output}: the parts the adapter exposes
    parts: dict[str, dict[str, float]] = field(default_factory=dict)
    # output -> the input it is compared as an update of (`reference.residual`)
    residual: dict[str, str] = field(default_factory=dict)
    weights_drawn: str = ""
    # whether each side's earlier rows change when only the last row of its input does (None: not probed)
    package_sees_later_rows: bool | None = None
    reference_sees_later_rows: bool | None = None
    # a data-parallel mesh package: designs per call (one per chip, each its own random inputs), mode key -> per
    # design the PCC per output (`pcc` holds them all), and outputs that came back in another shape than one design
    # per chip concatenated on dim 0
    designs: int = 1
    design_pcc: dict[str, list[list[float]]] = field(default_factory=dict)
    shape_errors: list[str] = field(default_factory=list)

    @property
    def causality_mismatch(self) -> str | None:
        """The attention direction of package and reference, when they differ."""
        if self.package_sees_later_rows is None or self.package_sees_later_rows == self.reference_sees_later_rows:
            return None
        side = {True: "attends to later rows (not causal)", False: "is causal"}
        return f"the package {side[self.package_sees_later_rows]}, the reference {side[self.reference_sees_later_rows]}"

    @property
    def passed(self) -> bool:
        values = [v for vs in self.pcc.values() for v in vs] + [v for ps in self.parts.values() for v in ps.values()]
        return (
            bool(values)
            and min(values) >= self.threshold
            and not self.api_findings
            and self.causality_mismatch is None
            and not self.shape_errors
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "device": self.device,
            "pcc": {k: [round(v, 5) for v in vs] for k, vs in self.pcc.items()},
            "parts": {k: {n: round(v, 5) for n, v in ps.items()} for k, ps in self.parts.items()},
            "residual": dict(self.residual),
            "weights_drawn": self.weights_drawn,
            "package_sees_later_rows": self.package_sees_later_rows,
            "reference_sees_later_rows": self.reference_sees_later_rows,
            "causality_mismatch": self.causality_mismatch,
            "api_findings": list(self.api_findings),
            "designs": self.designs,
            "design_pcc": {k: [[round(v, 5) for v in vs] for vs in ds] for k, ds in self.design_pcc.items()},
            "shape_errors": list(self.shape_errors),
            "threshold": self.threshold,
            "passed": self.passed,
        }

    def lines(self) -> list[str]:
        """The report as `tttgen verify` prints it."""
        out = [f"{self.module} on {self.device}, threshold PCC >= {self.threshold}"]
        if self.weights_drawn:
            out.append(f"  weights: {self.weights_drawn}")
        updates = ", ".join(f"{o} as its update {o} - {i}" for o, i in self.residual.items())
        if updates:
            out.append(f"  compared: {updates}")
        if self.designs > 1:
            out.append(f"  {self.designs} designs per call, one per chip, each compared with the reference on its own inputs")
        for key, values in self.pcc.items():
            for d, per in enumerate(self.design_pcc.get(key, [values])):
                chip = f" (design {d})" if self.designs > 1 else ""
                out.append(f"  {key:14s} output PCC{chip} " + ", ".join(f"{v:.5f}" for v in per))
            for part, value in self.parts.get(key, {}).items():
                out.append(f"  {key:14s}   {part} PCC {value:.5f}")
        if self.package_sees_later_rows is not None:
            see = {True: "yes", False: "no"}
            out.append(
                f"  earlier rows change with the last row: package {see[self.package_sees_later_rows]}, "
                f"reference {see[self.reference_sees_later_rows]}"
            )
        if self.causality_mismatch:
            out.append(f"  attention mismatch: {self.causality_mismatch}")
        out += [f"  api: {finding}" for finding in self.api_findings]
        out += [f"  shape: {error}" for error in self.shape_errors]
        out.append("PASS" if self.passed else "FAIL")
        return out


def reference_module(p: Plan, seed: int):
    """The torch reference a module description names (`reference.torch`, a dotted path or `file.py:Class` beside
    the description, built with `reference.init` evaluated with the build's params), with seeded weights drawn
    by spread_weights."""
    import torch

    from tttgen.errors import InputError

    graph = p.graph
    desc = _description(p)
    if desc.reference is None:
        raise InputError(
            f"module '{desc.name}' names no torch reference",
            where=desc.name,
            hint="add `reference: {torch: package.Class, init: {...}}`",
        )
    ref = desc.reference
    problems: list = []
    cls = reference_object(p, ref.torch, ("reference", "torch"), problems)
    config = reference_object(p, ref.config, ("reference", "config"), problems) if ref.config else None
    if problems:
        raise description_error(p, problems)
    # the size param (a pair module's n, an image's pixels) at the first mode: a reference whose weights depend on it
    # (SigLIP's position table) is built for that size
    first = next(iter(graph.facts["io"]))
    rows = {op.mode_key: op.seq for op in reversed(graph.ops)}  # each mode's rows
    size = {graph.facts["size_param"]: rows[first]} if graph.facts.get("size_param") else {}
    params = {**size, **graph.params()}

    def value(v):
        return params[v] if isinstance(v, str) and v in params else v

    init = {k: value(v) for k, v in ref.init.items()}
    kwargs = {k: value(v) for k, v in ref.kwargs.items()}
    torch.manual_seed(seed)
    if config is not None:  # e.g. transformers' SiglipVisionModel(SiglipVisionConfig(**init))
        return spread_weights(cls(config(**init), **kwargs).eval())
    return spread_weights(cls(**init, **kwargs).eval())


def description_path(p: Plan) -> Path:
    """The module description file the plan was built from."""
    from tttgen.generate import module_source

    return module_source(p.request.resolve_path(p.request.model))


def description_error(p: Plan, problems: list):
    """Problems with the description's fields (Problem: a field path and a message) as one InputError naming
    `file:line:` of each field."""
    from tttgen.inputs.load import _display, problems_error

    path = description_path(p)
    _, lines = read_module_lines(path)
    return problems_error(problems, lines, _display(path))


def reference_object(p: Plan, name: str, loc: tuple, problems: list):
    """What a reference field names: `package.module.Class`, or `file.py:name` with the file relative to the
    description (imported from its location: no PYTHONPATH needed). A name that does not resolve is a Problem."""
    from tttgen.inputs.load import Problem

    if ":" not in name:
        try:
            return _dotted(name)
        except (ImportError, AttributeError) as err:
            problems.append(Problem(loc, f"'{name}' cannot be imported: {type(err).__name__}: {err}"))
            return None
    file_part, _, attr = name.rpartition(":")
    path = description_path(p).parent / file_part
    if not path.is_file():
        problems.append(Problem(loc, f"no file '{file_part}' beside the description (looked for {path})"))
        return None
    try:
        module = python_file(path.resolve())
    except Exception as err:  # the user's file: whatever it raises is reported as its problem
        problems.append(Problem(loc, f"'{file_part}' does not import: {type(err).__name__}: {err}"))
        return None
    if not hasattr(module, attr):
        defined = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        problems.append(Problem(loc, f"'{file_part}' defines no '{attr}' (defined: {', '.join(defined) or 'none'})"))
        return None
    return getattr(module, attr)


def python_file(path: Path):
    """A Python file imported from its location under a name of its own (once per file version)."""
    import hashlib

    stat = path.stat()
    digest = hashlib.sha256(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:16]
    name = f"tttgen_user_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def reference_input(x):
    """A module input as the torch reference takes it: token rows [1, 1, rows, width] as [1, rows, width]; a pair
    tensor [1, n, n, width] as it is."""
    return x[0] if 1 < x.dim() <= 4 and x.shape[1] == 1 else x  # a per-layer list [layers, 1, ...] stays whole


def _dotted(name: str):
    """The object a dotted path names (`package.module.Class`)."""
    import importlib

    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def _description(p: Plan):
    """The module description the plan was built from."""
    from tttgen.generate import module_source
    from tttgen.inputs.module import load_module

    return load_module(module_source(p.request.resolve_path(p.request.model)))


def _reference_spec(p: Plan):
    return _description(p).reference


def reference_inputs(ref, inputs: dict) -> dict:
    """The module's inputs as the reference takes them: token rows without the leading 1 (reference_input),
    permuted where `reference.permute` says, or their first elements where `reference.first` says. `ref`: the
    description's `reference` (None: inputs as they are)."""
    perms, first = (ref.permute, ref.first) if ref else ({}, {})
    out = {}
    for n, x in inputs.items():
        if ref and n in ref.channels:  # channels the host padded for the device are not the reference's
            x = x[..., : ref.channels[n]]
        if n in first:
            out[n] = x.flatten()[: math.prod(first[n])].reshape(first[n])
        else:
            out[n] = reference_input(x.permute(perms[n]) if n in perms else x)
    return out


# Residual inputs (`reference.residual`) are drawn at this scale. The layers normalise them before reading them, so
# the update hardly depends on it; at unit scale the bf16 output would round the update away (Boltz-2's diffusion
# layer: update std 0.011 against 1.0, where bf16 rounding of the sum alone bounds the update's PCC at 0.978).
RESIDUAL_INPUT_SCALE = 1.0 / 16


def residual_base(ref, output: str, inputs: dict):
    """The input a residual output adds its update to (`reference.residual`), or None."""
    name = ref.residual.get(output) if ref else None
    return inputs[name] if name else None


def token_axes(shape, n: int) -> list[int]:
    """The dims of a tensor that run over the n tokens: every dim after the first of size n (the last too for a
    mask, which has no channel dim). Verification picks MSA rows != n so they never pass for tokens."""
    return [axis for axis in range(1, len(shape)) if shape[axis] == n]


def reference_keywords(ref, inputs: dict, tokens=None) -> dict:
    """The reference's extra keywords: `reference.masks`, shaped like the named input without its channel dim, all
    ones, or with `tokens` (the [n] token mask) its product along every token dim (a pair mask is the outer
    product); `reference.repeat`, an input passed again."""
    import torch

    if ref is None:
        return {}
    keywords = {}
    for kw, name in ref.masks.items():
        mask = torch.ones(inputs[name].shape[:-1])
        if tokens is not None:
            for axis in token_axes(mask.shape, len(tokens)):
                mask = mask * tokens.reshape([-1 if d == axis else 1 for d in range(mask.dim())])
        keywords[kw] = mask
    return keywords | {kw: inputs[name] for kw, name in ref.repeat.items()}


def real_tokens(t, n: int, real: int):
    """`t` cut to its first `real` tokens along its token dims (padded tokens' outputs are not compared)."""
    index = [slice(None)] * t.dim()
    for axis in token_axes(t.shape[:-1], n):
        index[axis] = slice(0, real)
    return t[tuple(index)]


def informative_weights(module):
    """Parameters a comparison can see: inits that are all zeros (final-layer and gate inits, which would make the
    output constant) are redrawn from N(0, 1 / fan_in), and 1-D parameters (norm affines, biases) are perturbed
    by N(0, 0.1) around their init. Seeded by the caller."""
    import torch

    with torch.no_grad():
        for p in module.parameters():
            if p.dim() > 1 and not p.any():
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)
            elif p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return module


# How spread_weights draws a reference's parameters (verify prints it). At the references' own inits (GPT-2's std 0.02,
# LayerScale and norm gammas at 1) attention is near-uniform and a scale of 1 is the identity, so a missing causal
# mask or LayerScale moves the output by less than bf16 noise; these draws make each such part change the output.
SPREAD_DRAW = (
    "matrices N(0, 1/fan_in) (each sublayer changes the residual by O(1)), embedding tables N(0, 1), biases "
    f"N(0, {BIAS_STD}), other vectors (norm gammas, LayerScale) +-U(0.5, 1.5): away from 1"
)


def spread_weights(module):
    """Draw every parameter so masks, scales, biases and norms show in the output (SPREAD_DRAW): a matrix
    N(0, 1/fan_in), fan_in read from the owning layer (nn.Linear's in_features, transformers' Conv1D nx, else the
    product of the dims after the first); an embedding table N(0, 1); a bias N(0, BIAS_STD); any other vector a random
    sign times U(0.5, 1.5). Buffers (rotary frequencies, masks) keep their values. Seeded by the caller."""
    import torch

    with torch.no_grad():
        for owner in module.modules():
            for name, p in owner.named_parameters(recurse=False):
                if p.dim() == 0:
                    continue
                if p.dim() == 1:
                    if name.endswith("bias"):
                        p.copy_(BIAS_STD * torch.randn_like(p))
                    else:
                        sign = torch.where(torch.rand_like(p) < 0.5, -1.0, 1.0)
                        p.copy_(sign * (0.5 + torch.rand_like(p)))
                elif isinstance(owner, torch.nn.Embedding):
                    p.copy_(torch.randn_like(p))
                else:
                    fan_in = getattr(owner, "in_features", None) or getattr(owner, "nx", None)
                    fan_in = fan_in if isinstance(fan_in, int) else math.prod(p.shape[1:])
                    p.copy_(torch.randn_like(p) / fan_in**0.5)
    return module


def example_input(kind: str, shape, gen):
    """An input as its description's `example` says (tttgen/render/module.py's example_expression prints the same):
    random normal, ones, zeros, counts (positions), an additive causal mask or a one-hot assignment of rows to
    columns in order (row i to column i * cols // rows: atoms to their tokens)."""
    import torch

    if kind == "randn":
        return torch.randn(shape, generator=gen)
    if kind == "arange":
        return torch.arange(math.prod(shape)).reshape(shape)
    if kind == "causal":
        return torch.full(shape, -1e9).triu(1)
    if kind == "assign":
        rows, cols = shape[-2], shape[-1]
        return torch.nn.functional.one_hot(torch.arange(rows) * cols // rows, cols).float().reshape(shape)
    return getattr(torch, kind)(shape)


def id_range(graph, name: str) -> int | None:
    """How many rows the smallest embedding table an integer input indexes has (None: no embedding reads it)."""
    rows = [
        op.dataflow["shapes"]["in"]["weight"][0]
        for op in graph.ops
        if op.kind == "embedding" and op.dataflow.get("in", {}).get("input") == name
    ]
    return min(rows) if rows else None


def module_input(graph, io: dict, name: str, shape, gen):
    """One random input of a mode: integer ids drawn from their embedding table's rows (or counted, as
    `example: arange` says), anything else as its `example` says (default random normal)."""
    import torch

    kind = io.get("examples", {}).get(name, "randn")
    if io.get("dtypes", {}).get(name) in ("uint32", "int32") and shape and kind == "randn":
        high = id_range(graph, name)
        return torch.randint(0, high, tuple(shape), generator=gen) if high else example_input("arange", shape, gen)
    return example_input(kind, shape, gen)


def checkpoint_problems(p: Plan, reference) -> list:
    """The description's checkpoint keys and shapes against the reference's state_dict, every mismatch at once:
    a key the reference lacks, a weight whose transforms fail on the reference's tensors or give another shape than
    the description declares, a reference parameter no weight reads. Each transform list runs as the package's
    weights.py runs it (tttgen/render/weight_code.py's statements). Problems name the weight (or `reference.torch`)."""
    from tttgen.inputs.load import Problem

    problems, read = state_problems(p, reference.state_dict())
    seen = set()
    for key, param in reference.named_parameters():
        if key not in read and id(param) not in seen:
            problems.append(
                Problem(("reference", "torch"), f"the reference's '{key}' {list(param.shape)} is read by no weight")
            )
        seen.add(id(param))
    return problems


def state_problems(p: Plan, state) -> tuple[list, set[str]]:
    """The package's checkpoint keys against a state dict (key -> tensor; meta tensors do: only shapes are read),
    every per-layer key for each loop index: the keys `state` lacks and the weights whose transforms fail on its
    tensors or give another shape than the description declares, as Problems naming the weight; and every key read."""
    import torch

    from tttgen.render.weight_code import weight_source
    from tttgen.inputs.load import Problem

    declared = set(_description(p).weights)
    problems, read = [], set()
    for w in p.graph.weights:
        if not w.hf_names:  # generated at load time (rotary tables)
            continue
        loc = ("weights", w.name) if w.name in declared else ("weights",)
        code = compile("\n".join(weight_source("w", w)), f"<weight {w.name}>", "exec")  # once for every layer
        for i in range(w.loop_count) if w.per_layer else [0]:
            keys = [k.replace("{i}", str(i)) for k in w.hf_names]
            read.update(keys)
            missing = [k for k in keys if k not in state]
            if missing:
                problems += [Problem(loc, f"weight '{w.name}' reads '{k}', which the reference lacks") for k in missing]
                continue
            given = ", ".join(f"'{k}' {list(state[k].shape)}" for k in keys)
            scope = {"torch": torch, "math": math, "state": state, "i": i}
            try:
                exec(code, scope)  # tttgen's own statements over the reference's tensors
            except Exception as err:  # a reshape or concat that the reference's shapes do not fit
                problems.append(
                    Problem(loc, f"weight '{w.name}': its transforms fail on the reference's {given}: {err}")
                )
                continue
            got = list(scope["w"].shape)
            if got != list(w.shape):
                problems.append(
                    Problem(
                        loc, f"weight '{w.name}' is {got} from the reference's {given}, not {list(w.shape)} as declared"
                    )
                )
    return problems, read


def reference_outputs(p: Plan, spec, reference, adapter, named: dict, keywords: dict, outputs: list[str]):
    """The reference's outputs in the description's output order, and the parts (called modules' outputs) the
    adapter exposes. Without an adapter the reference is called with the inputs in order."""
    from tttgen.inputs.load import Problem

    field = "adapter" if adapter is not None else "torch"
    try:
        got = adapter(reference, **named, **keywords) if adapter is not None else reference(*named.values(), **keywords)
    except Exception as err:  # the user's code: its error is reported against the field that names it
        shapes = ", ".join(f"{n} {list(t.shape)} {str(t.dtype).removeprefix('torch.')}" for n, t in named.items())
        raise description_error(
            p, [Problem(("reference", field), f"calling it on ({shapes}) raised {type(err).__name__}: {err}")]
        ) from None
    if adapter is None:
        want = getattr(got, spec.output) if spec and spec.output else got
        return list(want) if isinstance(want, (tuple, list)) else [want], {}
    if not isinstance(got, dict):
        return list(got) if isinstance(got, (tuple, list)) else [got], {}
    missing = [o for o in outputs if o not in got]
    if missing:
        raise description_error(
            p,
            [
                Problem(
                    ("reference", "adapter"), f"returned no {', '.join(missing)} (returned: {', '.join(map(str, got))})"
                )
            ],
        )
    return [got[o] for o in outputs], {k: v for k, v in got.items() if k not in outputs}


def called_module(model, part: str, key: str):
    """The package's instance of a called module (`attention`, or layer i of a looped call: `layers.1`), or None."""
    attr, _, index = part.partition(".")
    obj = getattr(model, attr, None)
    if isinstance(obj, list):
        obj = obj[int(index)] if index.isdigit() and int(index) < len(obj) else None
    elif index:
        obj = None
    return obj if obj is not None and hasattr(obj, key) else None


def called_parts(model) -> list[str]:
    """The called modules a package's top class holds (what an adapter may name)."""
    parts = []
    for attr, value in sorted(vars(model).items()):
        if isinstance(value, list) and value and hasattr(value[0], "rt"):
            parts += [f"{attr}.{i}" for i in range(len(value))]
        elif hasattr(value, "rt") and value is not model and attr != "rt":
            parts.append(attr)
    return parts


def verify_module(
    p: Plan,
    reference=None,
    seed: int = 0,
    edit_files: Callable[[dict[str, str]], dict[str, str]] | None = None,
    padded_tokens: int = 0,
) -> ModuleVerifyReport:
    """Run a module package on the emulator next to its torch reference, once per mode, on random inputs.

    The reference's state_dict is the checkpoint: the description's keys and shapes are checked against it first
    (checkpoint_problems: every mismatch in one InputError). Without an adapter, the reference takes each input as
    [1, rows, width], the description's [1, 1, rows, width] without its leading 1, and returns its output(s) the same
    way (a pair input [1, n, n, width] is passed as it is; `reference.masks` adds all-ones masks); with
    `reference.adapter` the adapter calls it (keyword inputs, named outputs, and called modules' outputs, each
    compared too). `reference` defaults to the one the description names, its weights drawn by spread_weights.
    `padded_tokens`: the last that many tokens are padding, masked in the module's `reference.token_mask` input and
    the reference's masks, and left out of the comparison. In the first mode of a module with attention over token
    rows, both sides are run again with only the last row changed: whether the earlier rows change tells causal
    from not, and a difference is reported (and fails)."""
    import torch

    graph = p.graph
    report = ModuleVerifyReport(graph.name, graph.device.name)
    spec = _reference_spec(p)
    problems: list = []
    adapter = reference_object(p, spec.adapter, ("reference", "adapter"), problems) if spec and spec.adapter else None
    if problems:
        raise description_error(p, problems)
    if reference is None:
        reference = reference_module(p, seed)
        report.weights_drawn = SPREAD_DRAW
    report.residual = dict(spec.residual) if spec else {}
    problems = checkpoint_problems(p, reference)
    if problems:
        raise description_error(p, problems)
    state = {k: v.detach().clone() for k, v in reference.state_dict().items()}
    files = rendered_files(p, edit_files)
    report.api_findings = api_findings(files)
    gen = torch.Generator().manual_seed(seed + 1)
    with tempfile.TemporaryDirectory(prefix="tttgen-verify-") as tmp:
        pkg_dir = Path(tmp) / "pkg"
        pkg_dir.mkdir()
        for name, text in files.items():
            (pkg_dir / name).write_text(text)
        with (
            emulated(graph.device) as ttnn,
            imported_package(pkg_dir, f"tttgen_verify_{package_name(graph.name)}") as package,
        ):
            # a data-parallel mesh package runs one design per chip: each gets its own random inputs and is compared
            # with the reference on them
            placed = (graph.facts.get("mesh") or {}).get("designs")
            designs = placed["per_call"] if placed else 1
            report.designs = designs
            device = package.model.open_mesh() if placed else ttnn.open_device(device_id=0)
            model = package.Model(device, package.weights.load_weights(device, state))
            mask_input = spec.token_mask if spec else None
            if padded_tokens and not mask_input:
                from tttgen.errors import InputError

                raise InputError(
                    f"padded tokens need a token mask input; {graph.name} names none",
                    where=f"{graph.name}: reference.token_mask",
                    hint="name the module's mask input in `reference.token_mask`",
                )

            def to_host(tensor):
                return (model.to_host(tensor)[0] if placed else ttnn.to_torch(tensor)).float()

            def per_design(key: str, name: str, value, shape=None) -> list:
                """A package output split into its designs (on one chip: itself); None for each when it came back in
                another shape than one design per chip concatenated on dim 0 (recorded as a shape error)."""
                if not placed:
                    return [value]
                want = None if shape is None else [shape[0] * designs, *shape[1:]]
                if (want is not None and list(value.shape) != want) or value.shape[0] % designs:
                    report.shape_errors.append(
                        f"{key} {name}: to_host gave {list(value.shape)}, not {designs} designs concatenated on dim 0 "
                        f"({want or 'dim 0 a multiple of the designs'})"
                    )
                    return [None] * designs
                return list(value.chunk(designs, dim=0))

            def run_both(key: str, io: dict, design_inputs: list, tokens):
                """Per design: (the package's outputs, the reference's, {part: (package's, reference's)}) on its
                inputs; the package runs every design in one call (one per chip on a mesh)."""
                wants, ref_parts = [], []
                for inputs in design_inputs:
                    with torch.no_grad():
                        named = reference_inputs(spec, dict(zip(io["inputs"], inputs)))
                        named.pop(mask_input, None)  # the reference takes its masks as keywords
                        keywords = reference_keywords(spec, named, tokens if mask_input else None)
                        want, parts = reference_outputs(p, spec, reference, adapter, named, keywords, list(io["outputs"]))
                    wants.append(want)
                    ref_parts.append(parts)
                parts = ref_parts[0]
                captured: dict[str, Any] = {}
                instances = {part: called_module(model, part, key) for part in parts}
                unknown = [part for part, obj in instances.items() if obj is None]
                if unknown:
                    from tttgen.inputs.load import Problem

                    raise description_error(
                        p,
                        [
                            Problem(
                                ("reference", "adapter"),
                                (
                                    f"returned {', '.join(unknown)}, neither an output nor a called module of the package "
                                    f"(outputs: {', '.join(io['outputs'])}; called modules: {', '.join(called_parts(model)) or 'none'})"
                                ),
                            )
                        ],
                    )
                for part, obj in instances.items():
                    original = getattr(obj, key)

                    def run(*args, _original=original, _part=part, **kwargs):
                        out = _original(*args, **kwargs)
                        first = out[0] if isinstance(out, tuple) else out
                        captured[_part] = to_host(first)
                        return out

                    setattr(obj, key, run)
                try:
                    if placed:  # the designs concatenated on their host dim (a per-layer list's: 1): design i on chip i
                        dims = [placed["inputs"][key].get(name, 0) for name in io["inputs"]]
                        host = [torch.cat([d[i] for d in design_inputs], dim=dim) for i, dim in enumerate(dims)]
                    else:
                        host = design_inputs[0]
                    outs = model.forward(*model.to_device(*host))
                finally:
                    for obj in instances.values():
                        vars(obj).pop(key, None)
                outs = outs if isinstance(outs, tuple) else (outs,)
                got = [per_design(key, name, to_host(o), io["outputs"][name]) for name, o in zip(io["outputs"], outs)]
                got_parts = {part: per_design(key, part, captured[part]) for part in parts}
                return [
                    (
                        [g[d] for g in got],
                        wants[d],
                        {part: (got_parts[part][d], ref_parts[d][part]) for part in parts},
                    )
                    for d in range(len(design_inputs))
                ]

            probed = False
            mode_rows = {op.mode_key: op.seq for op in reversed(graph.ops)}
            for key, io in graph.facts["io"].items():
                n = mode_rows[key]
                real = n - padded_tokens
                tokens = (torch.arange(n) < real).float()
                residuals = set(spec.residual.values()) | set(spec.small) if spec else set()

                def draw():
                    return [
                        (
                            tokens.reshape(shape)
                            if name == mask_input
                            else (
                                module_input(graph, io, name, shape, gen) * RESIDUAL_INPUT_SCALE
                                if name in residuals
                                else module_input(graph, io, name, shape, gen)
                            )
                        )
                        for name, shape in io["inputs"].items()
                    ]

                design_inputs = [draw() for _ in range(designs)]
                results = run_both(key, io, design_inputs, tokens)
                report.pcc[key] = []
                for d, (inputs, (got, want, parts)) in enumerate(zip(design_inputs, results)):
                    # a residual output is compared as its update (out - input): the input would dominate the PCC
                    base = [residual_base(spec, name, dict(zip(io["inputs"], inputs))) for name in io["outputs"]]
                    row = []
                    for g, w, b in zip(got, want, base):
                        if g is None:  # came back in the wrong shape (a shape error)
                            continue
                        w = w.reshape(g.shape)
                        if b is not None:
                            g, w = g - b.reshape(g.shape), w - b.reshape(g.shape)
                        if padded_tokens:  # padded tokens' outputs are not compared
                            g, w = real_tokens(g, n, real), real_tokens(w, n, real)
                        row.append(pcc(g, w))
                    report.pcc[key] += row
                    if placed:
                        report.design_pcc.setdefault(key, []).append(row)
                    if parts:
                        named = {part: pcc(g, w.reshape(g.shape)) for part, (g, w) in parts.items() if g is not None}
                        report.parts.setdefault(key, {}).update(
                            {(f"{part} (design {d})" if placed else part): v for part, v in named.items()}
                        )
                changed = (
                    [last_row_changed(graph, io, inputs, gen) for inputs in design_inputs]
                    if not probed and not padded_tokens
                    else [None]
                )
                if all(c is not None for c in changed):
                    probed = True
                    again = run_both(key, io, changed, tokens)
                    got = [g for r in results for g in r[0] if g is not None]
                    got2 = [g for r in again for g in r[0] if g is not None]
                    want = [w.reshape(g.shape) for r in results for g, w in zip(r[0], r[1]) if g is not None]
                    want2 = [w.reshape(g.shape) for r in again for g, w in zip(r[0], r[1]) if g is not None]
                    report.package_sees_later_rows = earlier_rows_moved(got, got2, n)
                    report.reference_sees_later_rows = earlier_rows_moved(want, want2, n)
    return report


ATTENTION_KINDS = ("sdpa", "sdpa_chunked", "sdpa_explicit")


def last_row_changed(graph, io: dict, inputs: list, gen):
    """The inputs with only the last row of the mode's rows input redrawn (another id for token ids), for a module
    whose graph attends over token rows ([1, 1, rows, w] or ids [1, rows]); None for any other module."""
    import torch

    if not any(op.kind in ATTENTION_KINDS for op in graph.ops):
        return None
    names, axes = list(io["inputs"]), io.get("rows_axes", {})

    def token_rows(shape: list, axis: int | None) -> bool:
        """[1, 1, rows, w] with rows at -2, or ids [1, rows] with rows at -1; at least two rows."""
        layout = (len(shape) == 4 and shape[:2] == [1, 1] and axis == -2) or (len(shape) == 2 and axis == -1)
        return layout and shape[0] == 1 and shape[axis] >= 2

    name = next((n for n in names if token_rows(list(io["inputs"][n]), axes.get(n))), None)
    if name is None:
        return None
    x = inputs[names.index(name)].clone()
    if x.is_floating_point():
        x[..., -1, :] = torch.randn(x[..., -1, :].shape, generator=gen) * x.std()
    else:
        high = id_range(graph, name) or int(x.max()) + 1
        x[..., -1] = (x[..., -1] + 1 + high // 2) % high
    return [x if i == names.index(name) else t for i, t in enumerate(inputs)]


def earlier_rows_moved(before: list, after: list, n: int) -> bool:
    """Whether any output's rows before the last (dim -2 of an output with n rows) moved beyond rounding noise."""
    for a, b in zip(before, after):
        if a.dim() < 2 or a.shape[-2] != n:
            continue
        a, b = a[..., :-1, :].double(), b[..., :-1, :].double()
        if float((a - b).abs().max()) > 1e-2 * max(float(a.abs().max()), 1e-6):
            return True
    return False
