"""sdpa_explicit: causal attention over whole sequences written out as ttnn ops, for scores ttnn's flash SDPA cannot
transform (attention-logit soft-capping: Gemma 2's attn_logit_softcapping).

ttnn 0.81.1's `scaled_dot_product_attention` and `scaled_dot_product_attention_decode` take no soft-capping argument
(their signatures in tttgen/data/ttnn_api/0.81.1.json), and transformers' Gemma 2 attention caps the scaled scores
before the mask and the softmax (`modeling_gemma2.eager_attention_forward`: `scores = scores / cap; scores =
tanh(scores); scores = scores * cap`, then `+ causal_mask`, then softmax in float32). So the capped case is the
attention a TT engineer writes by hand:

1. GQA: each KV head repeated for its group of query heads (`ttnn.repeat_interleave(k, group, dim=1)`);
2. scores = `ttnn.matmul(q, k, transpose_b=True)` ([b, heads, rows, kv_rows]), times `scale` when it is not 1.0;
3. the cap: `ttnn.softcap(scores, cap)` where the device has it (ttnn 0.81.1 asserts "SOFTCAP is implemented for
   Blackhole only" in unary_device_operation.cpp), else cap * tanh(scores / cap) as two multiplies and a tanh
   (the softcap kind's decision, tttgen/passes/op_programs.py);
4. the mask, built on the device in float32 (positions exact past bfloat16's 256): d = query position - key
   position from two `ttnn.arange`s; a key is hidden when d < 0 (causal) or d >= window (sliding window: the query
   attends the keys at p - window < k <= p, ttnn's own `_window_mask` rule, transformer_golden.py), as
   `(lt(d, 0) + ge(d, window)) * NEG` added to the scores in bfloat16;
5. `ttnn.softmax(scores, dim=-1, numeric_stable=True)` with the precision pass's compute kernel (fp32 accumulation
   when the preset says);
6. out = `ttnn.matmul(probs, v)`.

Priced as what it runs (the cost of flash SDPA does not apply): the two batched matmuls with the program config ttnn
derives for them (op_programs pass), the elementwise passes over the score tensor, the float32 passes that build the
mask, a softmax over the score rows and (prefill, GQA) the repeated K and V, priced as the eltwise, LayerNorm and
data-movement kinds (no measured numbers of its own). It is slower than flash SDPA: every
score is written to DRAM and read back by each step, and the causal half is computed and then masked.
"""

from __future__ import annotations

from math import prod

from tttgen.ops.kinds.base import ACTIVATION, Attr, Inferred, ShapeError, ports, sum_costs
from tttgen.ops.kinds.sdpa import Attention, heads

# What a hidden key adds to its score: far below any capped score (|score| <= cap), finite so 0 * NEG stays 0.
MASK_NEG = -1.0e9


class ExplicitAttention(Attention):
    name = "sdpa_explicit"
    doc = (
        "causal attention as ttnn ops: q k^T matmul, scale, optional soft-capping of the scores (cap * tanh(s / "
        "cap)), causal and sliding-window mask built on device, softmax, scores v matmul"
    )
    inputs = ports("q", "k", "v", "window?")
    attrs = (
        Attr("scale", "float"),
        Attr("softcap", "float", doc="cap of cap * tanh(scores / cap) before the mask (none: no capping)"),
    )
    macro = "sdpa_explicit"
    kernel_group = "SDPA_PREFILL"
    chunk_planner = None
    program_planner = "explicit_attention"
    promises = {"op_programs": ("qk", "qk_program", "pv", "pv_program", "softcap_fused")}
    decode = False

    def infer(self, ins, attrs):
        q, k, v = ins["q"], self._k(ins), self._v(ins)
        if len(q) != 4 or len(k) != 4 or len(v) != 4:
            raise ShapeError(f"q, k and v must be 4-D [batch, heads, rows, head_dim], got {list(q)}, {list(k)}, {list(v)}")
        nq, nkv = self._heads(q, k)
        if nq % nkv:
            raise ShapeError(f"{nq} query heads are not a whole number of groups of {nkv} KV heads")
        if q[-1] != k[-1] or k != v:
            raise ShapeError(f"q {list(q)}, k {list(k)} and v {list(v)} must share head_dim, and k and v their shape")
        if not self.decode and q[-2] != k[-2]:
            raise ShapeError(f"q's {q[-2]} rows must be k's {k[-2]}: query i sits at position i of the keys")
        if "softcap" in attrs and not float(attrs["softcap"]) > 0:
            raise ShapeError(f"softcap must be positive, got {attrs['softcap']}")
        return Inferred((self._out(q),), heads(nq, nkv, q[-1]) | {"kv_rows": k[-2]})

    # prefill: q [b, nq, s, d], k and v [b, nkv, s_k, d]
    def _k(self, ins):
        return ins["k"]

    def _v(self, ins):
        return ins["v"]

    def _heads(self, q, k):
        return q[1], k[1]

    def _out(self, q):
        return q

    def render_args(self, op, ins, attrs, tools):
        f = op.facts
        group = f["num_heads"] // f["num_kv_heads"]
        scale = float(attrs.get("scale", f["head_dim"] ** -0.5))
        cap = attrs.get("softcap")
        q = op.dataflow["shapes"]["in"]["q"]
        return dict(
            q=ins["q"],
            k=ins.get("k", ins.get("k_cache")),
            v=ins.get("v", ins.get("v_cache")),
            positions=ins.get("positions"),
            window=ins.get("window"),
            group=group,
            scale=None if scale == 1.0 else repr(scale),
            cap=None if cap is None else repr(float(cap)),
            inv_cap=None if cap is None else repr(1.0 / float(cap)),
            cap_fused=bool(op.decisions.get("softcap_fused")),
            rows=q[-2],
            kv_rows=f["kv_rows"],
            users=q[-2] if self.decode else None,
            grouped=[q[-2], f["num_kv_heads"], group, f["head_dim"]] if self.decode else None,
            out_shape=[1, q[-2], f["num_heads"], f["head_dim"]],  # decode: as ttnn's heads hold it
            neg=repr(MASK_NEG),
        )

    def config_entries(self, op, ident, tools):
        tools.add(f"{ident}_compute", tools.kernel(op.decisions["kernel"]), pinned=tools.pin("compute_kernel_config"))
        tools.add(f"{ident}_memory", tools.out())

    def precision(self, op, tools):
        return tools.kernel(op, self.kernel_group), tools.kv_dtype if self.decode else ACTIVATION

    def score_elements(self, op) -> int:
        """Elements of the score tensor as ttnn holds it (rows padded to whole tiles)."""
        qk = op.decisions["qk"]
        return qk.batch * (-(-qk.m // 32) * 32) * qk.n

    def cost(self, op, tools):
        d, f = op.decisions, op.facts
        kernel = d["kernel"]

        def matmul(which, in1_dtype):
            return tools.estimate_matmul(
                d[which], d[f"{which}_program"],
                in0_dtype=ACTIVATION, in1_dtype=in1_dtype, out_dtype=ACTIVATION, fidelity=kernel.math_fidelity,
                in0_storage="dram", in1_storage="dram", out_storage="dram", traced=tools.traced,
                fp32_dest_acc_en=kernel.fp32_dest_acc_en,
            )

        kv_dtype = d["dtypes"]["in1"]
        elements = self.score_elements(op)
        # elementwise passes over the scores: the scale (when not 1.0), the cap (one fused SFPU pass, or a
        # multiply, a tanh and a multiply), the mask add (a second operand broadcast over the heads)
        passes = int("scale" in op.dataflow["attrs"] and float(op.dataflow["attrs"]["scale"]) != 1.0)
        if "softcap" in op.dataflow["attrs"]:
            passes += 1 if d["softcap_fused"] else 3
        eltwise = [
            tools.op_time("eltwise", traced=tools.traced, elements=elements, inputs=1, storage="dram", op="unary", fidelity=tools.fidelity)
            for _ in range(passes)
        ]
        eltwise.append(
            tools.op_time("eltwise", traced=tools.traced, elements=elements, inputs=2, storage="dram", op="add", fidelity=tools.fidelity)
        )
        qk = d["qk"]
        softmax = tools.op_time(
            "layer_norm", traced=tools.traced, rows=qk.batch * (-(-qk.m // 32) * 32), dim=qk.n, storage="dram",
            fidelity=tools.fidelity, cores=tools.device_cores,
        )
        # the mask, built once per call in float32 over [query rows (decode: users), kv rows]: the positions
        # repeated and transposed, subtract, lt (ge and add with a window), multiply, typecast; each priced as a
        # unary pass over twice the elements (float32 is twice bfloat16's bytes)
        q = op.dataflow["shapes"]["in"]["q"]
        mask_rows = -(-q[-2] // 32) * 32
        mask_elements = 2 * mask_rows * f["kv_rows"]
        mask_passes = 6 + 2 * int("window" in op.dataflow["in"])
        eltwise += [
            tools.op_time("eltwise", traced=tools.traced, elements=mask_elements, inputs=1, storage="dram", op="unary", fidelity=tools.fidelity)
        ] * mask_passes
        parts = [matmul("qk", kv_dtype), *eltwise, softmax, matmul("pv", kv_dtype)]
        if not self.decode and f["num_heads"] != f["num_kv_heads"]:
            kv = op.dataflow["shapes"]["in"]["k"]
            size = prod(kv) // f["num_kv_heads"] * f["num_heads"] * 2  # bfloat16 K and V, repeated per query head
            parts += [tools.op_time("reshard", traced=tools.traced, bytes_in=size, bytes_out=size, src="dram", dst="dram")] * 2
        return sum_costs(parts)

    def rule_problem(self, op, graph):
        return None  # ttnn derives both matmuls' programs itself; the real ttnn judges the calls

    def flops(self, op, graph):
        qk = op.decisions["qk"] if "qk" in op.decisions else None
        if qk is None:
            return 0
        return 2 * 2 * qk.batch * qk.m * qk.k * qk.n  # q k^T and p v, every score computed (masked ones too)

    def chunks_note(self, op):
        why = "explicit attention (no flash SDPA: ttnn's has no score soft-capping)"
        return f" | {why}" if "softcap" in op.dataflow.get("attrs", {}) else " | explicit attention"


KIND = ExplicitAttention()
