"""tttgen's matmul rules and L1 estimate against the real ttnn 0.81.1 (mock device), on a seeded sweep.

Per device: a deterministic spread of linear problems (decode and prefill rows, K/N from real models and random
tile multiples, weight and activation dtypes, fidelities, fp32 accumulation on/off, DRAM-interleaved and
DRAM-sharded weights, with and without a bias and a fused activation). For each problem the generator's own
candidate list (`enumerate_candidates`, plus ttnn's auto-config that the search also seeds in prefill) is taken
*before* any rule prunes it; every candidate gets tttgen's verdict (all violated rules) and L1 figure (the bias CB
included), and goes to ttnn as the package would call it (`bias=`, the activation fused in the program config).
Sent: the search's choice and runners-up, and a stratified sample of the rest (per family: some legal ones, one per
first-violated rule), in one batch per device (`judge_matmuls`, verdicts cached on disk).

The report: confusion matrix, false-legal cases grouped by ttnn's message, false-illegal cases grouped by the
rule that rejected them, and tttgen's L1 figure (`matmul_l1_bytes`, the MANIFEST's l1_bytes_per_core) against
ttnn's `l1_total` where both accept. Candidates are judged without the L1 reserve decode ops carry for other
live tensors (the probe runs one op alone).

    python benchmarks/ttnn_sweep.py [--devices n150 p150] [--per-device 2000] [--seed SEED] [--out FILE]

Exit 1 when any config tttgen calls legal is rejected by ttnn, or any L1 figure is below ttnn's (`make bench`).
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tttgen.cli_cost import _config_text, _placement_text, weight_placement  # noqa: E402
from tttgen.cost.ttnn_auto import ttnn_auto_config  # noqa: E402
from tttgen.ir.configs import (  # noqa: E402
    DRAM_INTERLEAVED,
    MATMUL_1D,
    MATMUL_2D,
    MATMUL_DRAM_SHARDED,
    MATMUL_REUSE,
    ComputeKernelConfig,
    MatmulConfig,
    MatmulShape,
    MemoryPlacement,
)
from tttgen.passes.matmul_program import L1Reserve, enumerate_candidates, search  # noqa: E402
from tttgen.rules.l1 import matmul_l1_bytes, sharded_bytes_per_core  # noqa: E402
from tttgen.rules.matmul import HAZARD_RULES, RULES, MatmulCase, matmul_violations  # noqa: E402
from tttgen.inputs.device import DeviceProfile  # noqa: E402

DEVICES = ("n150", "p150")
PER_DEVICE = 2000
SEED = "tttgen-ttnn-sweep-v1"
FAMILY = {MATMUL_2D: "2D", MATMUL_1D: "1D", MATMUL_DRAM_SHARDED: "DRAM-sharded", MATMUL_REUSE: "Reuse"}
SEARCHED_FAMILIES = (MATMUL_2D, MATMUL_1D, MATMUL_DRAM_SHARDED)

# (K, N) of every matmul of a decoder layer and the LM head; 70B as one of 8 tensor-parallel chips sees it.
LLAMA_KN = {
    "llama-3.2-1b": ((2048, 3072), (2048, 2048), (2048, 8192), (8192, 2048), (2048, 128256)),
    "llama-3.2-3b": ((3072, 5120), (3072, 3072), (3072, 8192), (8192, 3072), (3072, 128256)),
    "llama-3.1-8b": ((4096, 6144), (4096, 4096), (4096, 14336), (14336, 4096), (4096, 128256)),
    "llama-3.1-70b-tp8": ((8192, 1280), (1024, 8192), (8192, 3584), (3584, 8192), (8192, 16032)),
}
# Other models' dims: K and N drawn from the same set.
MODEL_DIMS = {"boltz": (384, 768, 128), "gemma": (2048, 16384, 1024, 4096), "siglip": (1152, 4304)}
PREFILL_ROWS = (128, 256, 512, 1024, 2048, 4096)
FIDELITIES = ("LoFi", "HiFi2", "HiFi3", "HiFi4")
BIAS_DTYPES = ("bfloat16", "bfloat16", "bfloat8_b")
ACTIVATIONS = ("GELU", "SILU", "RELU")  # the UnaryOpTypes a linear's activation fuses as (rules r19)
LEGAL_PER_FAMILY = 3  # per problem: legal candidates kept per family
ILLEGAL_PER_RULE = 1  # per problem: rejected candidates kept per (family, first violated rule)
GOAL_FALSE_ILLEGAL = 0.05


# --------------------------------------------------------------------------- sampling


@dataclass(frozen=True)
class Problem:
    shape: MatmulShape
    dtypes: tuple[str, str, str]  # in0, in1, out
    kernel: ComputeKernelConfig
    storage: str  # weight: dram (interleaved) | sharded (width-sharded over the DRAM banks)
    decode: bool
    source: str  # model the K/N came from, or "random"
    bias: str | None = None  # a linear with a bias of this dtype
    activation: str | None = None  # fused into the program config, as the matmul_program pass does


@dataclass(frozen=True)
class Sample:
    """One candidate with tttgen's verdict: the rules it breaks (empty: legal) and its L1 figure."""

    problem: Problem
    config: MatmulConfig
    in0: MemoryPlacement
    in1: MemoryPlacement
    out: MemoryPlacement
    violations: tuple[str, ...]  # "rule_name: message"
    l1_claim: int
    l1_budget: int  # the device's L1 per core that tttgen's L1 rule allows
    in0_shard: int  # bytes per core of an L1-sharded in0: in tttgen's figure, not in ttnn's l1_total
    role: str = "candidate"  # "chosen" / "runner-up" by the search, else one of the enumerated candidates

    @property
    def legal(self) -> bool:
        return not self.violations

    @property
    def first_rule(self) -> str:
        return self.violations[0].split(":", 1)[0] if self.violations else "legal"

    @property
    def family(self) -> str:
        return FAMILY.get(self.config.type, self.config.type)


@dataclass(frozen=True)
class Judged:
    sample: Sample
    accepted: bool
    message: str | None
    l1_total: int


def sample_problem(rng: random.Random) -> Problem:
    """One matmul problem: rows, K/N, dtypes, kernel, weight placement and mode."""
    decode = rng.random() < 0.4
    storage = rng.choices(("dram", "sharded"), weights=(3, 7) if decode else (6, 4))[0]
    pick = rng.random()
    if pick < 0.45:
        source = rng.choice(sorted(LLAMA_KN))
        k, n = rng.choice(LLAMA_KN[source])
    elif pick < 0.7:
        source = rng.choice(sorted(MODEL_DIMS))
        k, n = rng.choice(MODEL_DIMS[source]), rng.choice(MODEL_DIMS[source])
    else:
        source = "random"
        k, n = 32 * rng.randint(1, 256), 32 * rng.randint(1, 512)
    batch = 1
    if decode:
        m = 32
    elif rng.random() < 0.2:
        m = 32 * rng.randint(4, 128)
    else:
        m = rng.choice((32,) + PREFILL_ROWS)  # 32: the prefill LM head on the last token
        batch = rng.choice((1, 1, 1, 2))  # 2: rows per call halved by chunking
    a = rng.choice(("bfloat16", "bfloat16", "bfloat8_b"))
    w = rng.choice(("bfloat16", "bfloat8_b", "bfloat4_b"))
    kernel = ComputeKernelConfig(
        rng.choice(FIDELITIES),
        math_approx_mode=rng.random() < 0.5,
        fp32_dest_acc_en=rng.random() < 0.5,
        packer_l1_acc=True,
    )
    bias = rng.choice(BIAS_DTYPES) if rng.random() < 0.5 else None
    activation = rng.choice(ACTIVATIONS) if rng.random() < 0.5 else None
    return Problem(MatmulShape(m, k, n, batch), (a, w, a), kernel, storage, decode, source, bias, activation)


def rules_case(device: DeviceProfile, p: Problem, cfg: MatmulConfig, in0, in1, out) -> MatmulCase:
    return MatmulCase(
        device=device,
        shape=p.shape,
        config=cfg,
        kernel=p.kernel,
        in0=in0,
        in1=in1,
        out=out,
        in0_dtype=p.dtypes[0],
        in1_dtype=p.dtypes[1],
        out_dtype=p.dtypes[2],
        bias_dtype=p.bias,
    )


def searched(device: DeviceProfile, p: Problem, in1: MemoryPlacement, seeds: tuple) -> dict[tuple, str]:
    """(config, in0, out) -> "chosen" / "runner-up": what the generator's search keeps for the problem (the bias CB
    budgeted, as the matmul_program pass searches a linear with a bias)."""
    best, runners_up, _ = search(device, p.shape, p.kernel, p.dtypes, in1, p.decode, seeds, L1Reserve(bias_dtype=p.bias))
    kept = ([("chosen", best)] if best else []) + [("runner-up", c) for c in runners_up]
    return {(c.config, c.extra["in0"], c.extra["out"]): role for role, c in kept}


def candidate_samples(device: DeviceProfile, p: Problem) -> list[Sample]:
    """Every candidate the generator's search would consider for the problem, each with tttgen's verdict; the
    problem's activation is fused into each config as the package would emit it."""
    in1 = weight_placement(p.storage, p.shape.k, p.shape.n, device)
    triples = list(enumerate_candidates(device, p.shape, p.kernel, in1, p.decode))
    seeds: tuple = ()
    if not p.decode:  # the search also seeds ttnn's auto-config (prefill: all DRAM-interleaved)
        auto = ttnn_auto_config(
            device,
            p.shape,
            in0_dtype=p.dtypes[0],
            in1_dtype=p.dtypes[1],
            out_dtype=p.dtypes[2],
            fp32_dest_acc_en=p.kernel.fp32_dest_acc_en,
        )
        if auto.type in SEARCHED_FAMILIES:
            seeds = ((auto, DRAM_INTERLEAVED, DRAM_INTERLEAVED),)
            triples += seeds
    roles = searched(device, p, in1, seeds)
    out = []
    for cfg, in0, o in dict.fromkeys(triples):
        role = roles.get((cfg, in0, o), "candidate")
        cfg = replace(cfg, fused_activation=p.activation)
        case = rules_case(device, p, cfg, in0, in1, o)
        in0_shard = sharded_bytes_per_core(in0, device.tile_bytes[p.dtypes[0]])
        violations = tuple(matmul_violations(case))
        out.append(Sample(p, cfg, in0, in1, o, violations, matmul_l1_bytes(case), device.l1_budget, in0_shard, role))
    return out


def stratified(rng: random.Random, samples: list[Sample]) -> list[Sample]:
    """The search's choice and runners-up, then per family up to LEGAL_PER_FAMILY other legal candidates and
    ILLEGAL_PER_RULE per first violated rule."""
    picked = [s for s in samples if s.role != "candidate"]
    strata: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in samples:
        if s.role == "candidate":
            strata[(s.family, s.first_rule)].append(s)
    for key in sorted(strata):
        quota = LEGAL_PER_FAMILY if key[1] == "legal" else ILLEGAL_PER_RULE
        group = strata[key]
        picked += rng.sample(group, min(quota, len(group)))
    return picked


def sample_device(device: DeviceProfile, count: int, seed: str = SEED) -> list[Sample]:
    """At least `count` candidates from seeded problems, deterministic per (seed, device)."""
    rng = random.Random(f"{seed}/{device.name}")
    out: list[Sample] = []
    seen: set = set()
    while len(out) < count:
        for s in stratified(rng, candidate_samples(device, sample_problem(rng))):
            key = (s.problem, s.config, s.in0, s.out)
            if key not in seen:
                seen.add(key)
                out.append(s)
    return out


def judge(device: DeviceProfile, samples: list[Sample]) -> list[Judged]:
    """ttnn's verdicts, all cases of the device in one call (cached on disk by the oracle)."""
    from tttgen.checking.realttnn.oracle import MatmulCase as OracleCase
    from tttgen.checking.realttnn.oracle import judge_matmuls

    cases = [
        OracleCase(s.problem.shape, s.config, s.problem.kernel, s.problem.dtypes, s.in0, s.in1, s.out, s.problem.bias)
        for s in samples
    ]
    verdicts = judge_matmuls(device, cases, device.l1_small_size)
    return [Judged(s, v.accepted, v.message, v.l1_total) for s, v in zip(samples, verdicts)]


# --------------------------------------------------------------------------- analysis


def message_key(message: str | None) -> str:
    """ttnn's message, first line, as `file:line: text` with numbers as '#' so one cause is one group."""
    first = (message or "(no message)").splitlines()[0]
    m = re.match(r"(?:construct: )?TT_\w+ @ (\S+?):(\d+): .*?\| info: \|? ?(.*)", first)
    if m:
        first = f"{Path(m.group(1)).name}:{m.group(2)}: {m.group(3)}"
    return re.sub(r"\b\d+\b", "#", first).strip()  # whole numbers only: in0/in1 stay


def confusion(judged: list[Judged]) -> dict[tuple[bool, bool], int]:
    """(tttgen legal, ttnn accepted) -> count, all four cells present."""
    cells = Counter((j.sample.legal, j.accepted) for j in judged)
    return {(legal, acc): cells.get((legal, acc), 0) for legal in (True, False) for acc in (True, False)}


def grouped(items: list[Judged], key) -> list[tuple[str, int, Judged]]:
    """(group, count, first example), largest groups first, then by name."""
    groups: dict[str, list[Judged]] = defaultdict(list)
    for j in items:
        groups[key(j)].append(j)
    return sorted(((k, len(v), v[0]) for k, v in groups.items()), key=lambda g: (-g[1], g[0]))


def false_legal(judged: list[Judged]) -> list[tuple[str, int, Judged]]:
    return grouped([j for j in judged if j.sample.legal and not j.accepted], lambda j: message_key(j.message))


def false_illegal(judged: list[Judged]) -> list[tuple[str, int, Judged]]:
    return grouped([j for j in judged if not j.sample.legal and j.accepted], lambda j: j.sample.first_rule)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@dataclass(frozen=True)
class L1Stats:
    both: int  # cases both accept
    below: int  # tttgen's figure below ttnn's l1_total
    exact: int  # tttgen's figure less the in0 shard equals ttnn's l1_total
    max_ratio: float  # ttnn / tttgen, the worst under-estimate when > 1
    median_ratio: float
    p90_ratio: float
    p10_ratio: float
    min_ratio: float  # the largest over-estimate
    worst: Judged | None


def l1_ratio(j: Judged) -> float:
    """ttnn's l1_total over tttgen's figure: above 1 means tttgen under-estimates."""
    return j.l1_total / j.sample.l1_claim if j.sample.l1_claim else math.inf


def l1_stats(judged: list[Judged]) -> L1Stats:
    both = [j for j in judged if j.sample.legal and j.accepted]
    if not both:
        return L1Stats(0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, None)
    ratios = [l1_ratio(j) for j in both]
    worst = max(both, key=lambda j: (l1_ratio(j), j.l1_total - j.sample.l1_claim))
    below = sum(j.sample.l1_claim < j.l1_total for j in both)
    exact = sum(j.sample.l1_claim - j.sample.in0_shard == j.l1_total for j in both)
    return L1Stats(
        len(both),
        below,
        exact,
        max(ratios),
        statistics.median(ratios),
        percentile(ratios, 0.9),
        percentile(ratios, 0.1),
        min(ratios),
        worst,
    )


def l1_under_groups(judged: list[Judged]) -> list[tuple[str, int, Judged]]:
    """Cases whose L1 figure is below ttnn's, grouped by family, operand placements and accumulation format;
    the example is the group's worst ratio."""

    def where(p: MemoryPlacement) -> str:
        return f"{p.buffer} {p.layout}".replace("INTERLEAVED", "interleaved")

    def key(j: Judged) -> str:
        s = j.sample
        acc = "on" if s.problem.kernel.fp32_dest_acc_en else "off"
        return f"{s.family}, in0 {where(s.in0)}, in1 {where(s.in1)}, out {where(s.out)}, fp32 acc {acc}"

    under = [j for j in judged if j.sample.legal and j.accepted and j.sample.l1_claim < j.l1_total]
    groups = grouped(under, key)
    return [(k, n, max((j for j in under if key(j) == k), key=l1_ratio)) for k, n, _ in groups]


def by_legality_rule(j: Judged) -> bool:
    """Rejected by at least one legality rule (not only by the hazard rules ttnn does not check)."""
    return any(v.split(":", 1)[0] not in HAZARD_RULES for v in j.sample.violations)


def goals(judged: list[Judged]) -> list[tuple[str, bool]]:
    cells = confusion(judged)
    stats = l1_stats(judged)
    accepted = cells[(True, True)] + cells[(False, True)]
    legality = sum(1 for j in judged if not j.sample.legal and j.accepted and by_legality_rule(j))
    hazard_only = cells[(False, True)] - legality
    share = legality / accepted if accepted else 0.0
    rejected = f"{legality} of {accepted} ({share:.1%}; hazard rules {', '.join(sorted(HAZARD_RULES))} reject {hazard_only} more, by design)"
    return [
        (f"0 configs tttgen calls legal that ttnn rejects: {cells[(True, False)]}", cells[(True, False)] == 0),
        (f"tttgen's L1 figure never below ttnn's l1_total: {stats.below} of {stats.both} below", stats.below == 0),
        (
            f"legality rules reject <= {GOAL_FALSE_ILLEGAL:.0%} of what ttnn accepts: {rejected}",
            share <= GOAL_FALSE_ILLEGAL,
        ),
    ]


# --------------------------------------------------------------------------- report


def describe(s: Sample) -> str:
    """One candidate as text: problem, operands and the program config as tttgen would emit it."""
    p, k = s.problem, s.problem.kernel
    sh = p.shape
    batch = f"[{sh.batch}x]" if sh.batch > 1 else ""
    acc = ", fp32 acc" if k.fp32_dest_acc_en else ""
    bias = f", {p.bias} bias" if p.bias else ""
    role = f" [{s.role}]" if s.role != "candidate" else ""
    return (
        f"{'decode' if p.decode else 'prefill'} {batch}{sh.m}x{sh.k}x{sh.n} ({p.source}){role}, "
        f"{p.dtypes[0]} x {p.dtypes[1]} -> {p.dtypes[2]}{bias}, {k.math_fidelity}{acc}; in0 {_placement_text(s.in0)}; "
        f"in1 {_placement_text(s.in1)}; out {_placement_text(s.out)}; {_config_text(s.config)}"
    )


def rule_doc(name: str) -> str:
    """First paragraph of the rule's docstring: what it checks and why (some are workarounds ttnn does not check)."""
    rule = next((r for r in RULES if r.__name__ == name), None)
    return " ".join((rule.__doc__ or "").strip().split("\n\n")[0].split()) if rule else ""


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def confusion_table(judged: list[Judged]) -> list[str]:
    c = confusion(judged)
    return [
        "| tttgen \\ ttnn | accepted | rejected |",
        "|---|---|---|",
        f"| legal | {c[(True, True)]} | {c[(True, False)]} (false legal) |",
        f"| illegal | {c[(False, True)]} (false illegal) | {c[(False, False)]} |",
    ]


def family_table(judged: list[Judged]) -> list[str]:
    rows = [
        "| family | mode | weight | cases | legal/accepted | legal/rejected | illegal/accepted | illegal/rejected |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by: dict[tuple, list[Judged]] = defaultdict(list)
    for j in judged:
        s = j.sample
        by[(s.family, "decode" if s.problem.decode else "prefill", s.problem.storage)].append(j)
    for key in sorted(by):
        c = confusion(by[key])
        cells = " | ".join(str(c[cell]) for cell in ((True, True), (True, False), (False, True), (False, False)))
        rows.append(f"| {' | '.join(key)} | {len(by[key])} | {cells} |")
    return rows


def variant_table(judged: list[Judged]) -> list[str]:
    """Per mode, what the search made of the candidate (chosen, runner-up, other), bias and fused activation: the
    two failures the sweep exists to catch, among the candidates tttgen calls legal."""
    rows = [
        "| mode | search | bias | activation | legal | ttnn accepts | false legal | L1 below ttnn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by: dict[tuple, list[Judged]] = defaultdict(list)
    for j in judged:
        s = j.sample
        if s.legal:
            mode = "decode" if s.problem.decode else "prefill"
            by[(mode, s.role, s.problem.bias or "none", s.problem.activation or "none")].append(j)
    for key in sorted(by):
        group = by[key]
        accepted = [j for j in group if j.accepted]
        below = sum(j.sample.l1_claim < j.l1_total for j in accepted)
        rows.append(f"| {' | '.join(key)} | {len(group)} | {len(accepted)} | {len(group) - len(accepted)} | {below} |")
    return rows


def failed(judged: list[Judged]) -> bool:
    """A config tttgen calls legal that ttnn rejects, or an L1 figure below ttnn's: what fails the benchmark."""
    return confusion(judged)[(True, False)] > 0 or l1_stats(judged).below > 0


def device_section(name: str, judged: list[Judged]) -> list[str]:
    problems = len({j.sample.problem for j in judged})
    lines = [f"## {name}", "", f"{len(judged)} candidates from {problems} problems.", ""]
    lines += confusion_table(judged) + [""]
    lines += [f"- {text}: goal {'met' if met else 'NOT met'}" for text, met in goals(judged)] + [""]
    lines += ["### By family, mode and weight placement", ""] + family_table(judged) + [""]
    lines += ["### Legal candidates by the search's verdict, bias and fused activation", ""]
    lines += variant_table(judged) + [""]

    fl = false_legal(judged)
    lines += [f"### False legal (tttgen legal, ttnn rejects): {sum(n for _, n, _ in fl)}", ""]
    if fl:
        lines += ["| count | ttnn's message (numbers as #) | example | ttnn's message for it |", "|---|---|---|---|"]
        lines += [f"| {n} | {cell(k)} | {cell(describe(j.sample))} | {cell(j.message or '')} |" for k, n, j in fl]
    lines.append("")

    fi = false_illegal(judged)
    lines += [f"### False illegal (tttgen rejects, ttnn accepts): {sum(n for _, n, _ in fi)}", ""]
    if fi:
        over = Counter(
            j.sample.first_rule for j in judged if not j.sample.legal and j.accepted and j.l1_total > j.sample.l1_budget
        )
        lines += [
            "`over budget`: cases where ttnn's own l1_total already exceeds tttgen's L1 budget (the L1 above the "
            "circular-buffer base), i.e. ttnn accepted more than that L1 holds.",
            "",
            "| count | share of ttnn-accepted | over budget | rule | what it checks | example | tttgen's message "
            "| ttnn l1_total |",
            "|---|---|---|---|---|---|---|---|",
        ]
        accepted = sum(j.accepted for j in judged)
        lines += [
            f"| {n} | {n / accepted:.1%} | {over[k]} | {k} | {cell(rule_doc(k))} | {cell(describe(j.sample))} | "
            f"{cell(j.sample.violations[0].split(': ', 1)[-1])} | {j.l1_total} |"
            for k, n, j in fi
        ]
    lines.append("")

    st = l1_stats(judged)
    lines += [
        "### L1: tttgen's figure against ttnn's l1_total (both accept)",
        "",
        "ratio = ttnn l1_total / tttgen's figure (above 1: tttgen under-estimates). `exact`: tttgen's figure less "
        "the L1-sharded in0 (allocated before the op, so not in ttnn's l1_total) equals ttnn's l1_total.",
        "",
        "| cases | below ttnn | exact | max ratio | p90 ratio | median ratio | p10 ratio | min ratio |",
        "|---|---|---|---|---|---|---|---|",
        f"| {st.both} | {st.below} | {st.exact} | {st.max_ratio:.3f} | {st.p90_ratio:.3f} | {st.median_ratio:.3f} | "
        f"{st.p10_ratio:.3f} | {st.min_ratio:.3f} |",
        "",
    ]
    under = l1_under_groups(judged)
    if under:
        lines += [
            "| count | where tttgen is below | worst example | tttgen B | ttnn B | ratio |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {n} | {cell(k)} | {cell(describe(j.sample))} | {j.sample.l1_claim} | {j.l1_total} | {l1_ratio(j):.3f} |"
            for k, n, j in under
        ]
        lines.append("")
    return lines


def report(date: str, results: dict[str, list[Judged]], seed: str = SEED, command: str | None = None) -> str:
    lines = [
        f"# tttgen rules and L1 estimate against the real ttnn, {date}",
        "",
        "Output of `benchmarks/ttnn_sweep.py` (run by `make bench`): ttnn 0.81.1 on a mock device judges candidate "
        "linear configs sampled from the generator's own enumeration before its rules prune them (seed "
        f"`{seed}`; per problem the search's choice and runners-up, and per family up to {LEGAL_PER_FAMILY} other "
        f"legal candidates and {ILLEGAL_PER_RULE} per first violated rule), so shares are of this sample, not of "
        "the search space. Problems are decode and prefill linears with and without a bias and a fused activation. "
        "tttgen's L1 figure is `matmul_l1_bytes` (the MANIFEST's l1_bytes_per_core: circular buffers, the bias CB "
        "included, plus the L1-sharded in0 and output shards), without the reserve decode ops hold for other live "
        "tensors; ttnn's `l1_total` is its per-core peak of circular buffers plus the L1 buffers the op allocates "
        "(its output), not the inputs allocated before it.",
        "",
        *([f"Command: `{command}`", ""] if command else []),
        "| device | cases | false legal | false illegal | L1 below ttnn | goals met |",
        "|---|---|---|---|---|---|",
    ]
    for name, judged in results.items():
        c = confusion(judged)
        met = sum(ok for _, ok in goals(judged))
        below = l1_stats(judged).below
        lines.append(f"| {name} | {len(judged)} | {c[(True, False)]} | {c[(False, True)]} | {below} | {met} of 3 |")
    lines.append("")
    for name, judged in results.items():
        lines += device_section(name, judged)
    return "\n".join(lines).rstrip() + "\n"


def summary(results: dict[str, list[Judged]]) -> str:
    lines = []
    for name, judged in results.items():
        lines += [f"## {name}: {len(judged)} candidates", ""] + confusion_table(judged) + [""]
        lines += [f"- {text}: goal {'met' if met else 'NOT met'}" for text, met in goals(judged)]
        st = l1_stats(judged)
        lines += [
            f"- L1: {st.exact} of {st.both} exact (tttgen less the in0 shard == ttnn); ratio ttnn/tttgen: "
            f"max {st.max_ratio:.3f}, p90 {st.p90_ratio:.3f}, median {st.median_ratio:.3f}, "
            f"p10 {st.p10_ratio:.3f}, min {st.min_ratio:.3f}",
            "",
        ]
        for title, groups in (("false legal", false_legal(judged)), ("false illegal", false_illegal(judged))):
            for k, n, _ in groups[:5]:
                lines.append(f"- {title} {n}: {k}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tttgen.errors import TttgenError
    from tttgen.inputs.load import load_device

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", nargs="+", default=list(DEVICES))
    ap.add_argument("--per-device", type=int, default=PER_DEVICE)
    ap.add_argument("--seed", default=SEED, help="sampling seed (a fresh one draws fresh problems)")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/<date>-ttnn-sweep.md")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "results" / f"{args.date}-ttnn-sweep.md"
    results = {}
    try:
        for name in args.devices:
            device, _ = load_device(name)
            results[device.name] = judge(device, sample_device(device, args.per_device, args.seed))
    except TttgenError as err:
        print(f"ttnn_sweep: {err.render()}", file=sys.stderr)
        return 2
    command = " ".join(["python benchmarks/ttnn_sweep.py", *(argv if argv is not None else sys.argv[1:])])
    out.write_text(report(args.date, results, args.seed, command))
    print(summary(results))
    print(f"report: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    bad = [name for name, judged in results.items() if failed(judged)]
    if bad:
        print(f"ttnn_sweep: false legal configs or L1 figures below ttnn's on {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
