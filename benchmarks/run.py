"""`make bench`: every benchmark in turn, each printing markdown. Modeled numbers are deterministic;
wall times are medians of repeated whole-process runs (the machines are shared and noisy)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    ("Cost-model calibration against measured GEMMs", ["calibrate.py", "--check"]),
    ("tttgen against tt_transformers and ttnn's auto-config", ["optimizer.py"]),
    ("Decode tokens/s/user against tt_transformers and its published figures", ["decode.py"]),
    ("Serving: host I/O per token, both presets, traced module packages, the 8B roofline", ["serving.py"]),
    ("Build and check wall time", ["spine.py"]),
    ("70B p150 build time (issue 26's goal), black's cache off and on", ["build_time.py"]),
    ("tttgen's rules and L1 estimate against the real ttnn", ["ttnn_sweep.py"]),
    ("Boltz-2 modules against TT-Boltz's configuration", ["boltz.py"]),
    ("Boltz-2 trunk and diffusion step against TT-Boltz's configuration", ["boltz_trunk.py"]),
    ("Boltz-2 diffusion step whole (score model, 704 tokens, 5632 atoms) against TT-Boltz's configuration", ["boltz_diffusion_step.py"]),
    ("Boltz-2 whole (boltz2: 4 trunk calls, condition, 200 denoise steps at 704 tokens) against TT-Boltz's configuration and its published runtime", ["boltz2_whole.py"]),
    ("PI0 sample_actions latency against the published PI0.5 figure", ["pi0.py"]),
    ("Multi-chip decode against the published T3K, QuietBox BH and Galaxy figures", ["mesh.py"]),
)

failed = []
for title, args in SCRIPTS:
    print(f"\n# {title}\n", flush=True)
    # one failing check (exit != 0) must not hide the other benchmarks' numbers
    if subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]]).returncode != 0:
        failed.append(" ".join(args))
if failed:
    print(f"\nmake bench: failed: {', '.join(failed)}", file=sys.stderr)
    sys.exit(1)
