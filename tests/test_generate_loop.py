"""Issue 24: every LM package carries a generate loop (generate.py) and a demo (`python -m <package>`, __main__.py);
`tttgen run` runs that demo on the emulator. Here with the tiny Llama (tests/data/tiny-llama) and a word-level
tokenizer with a chat template saved into its checkpoint folder, against transformers' greedy generate."""

import importlib
import json

import pytest
import torch

from tttgen.generate import Request, plan, render_plan

TINY = "tests/data/tiny-llama/config.json"
FLAGS = (("max_seq_len", 256), ("prefill_lens", [128]))
CHAT = (
    "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)
STOP = 2  # <|im_end|>


def save_tokenizer(directory, vocab_size):
    """A word-level tokenizer over the tiny vocabulary: special tokens 0-2, then the words w3 ... wN, with a chat
    template; generation_config.json names <|im_end|> as eos."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<|im_start|>": 1, "<|im_end|>": STOP}
    vocab.update({f"w{i}": i for i in range(3, vocab_size)})
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="<unk>", bos_token="<|im_start|>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHAT
    tokenizer.save_pretrained(str(directory))
    (directory / "generation_config.json").write_text(json.dumps({"eos_token_id": STOP}))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(Model on the emulator, its package, the transformers model, the checkpoint folder, the package folder)."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import emulated, imported_package, reference_model

    work = tmp_path_factory.mktemp("generate_loop")
    p = plan(Request(TINY, "n150", flags=FLAGS))
    (work / "pkg").mkdir()
    for name, text in render_plan(p).items():
        (work / "pkg" / name).write_text(text)
    hf, checkpoint = reference_model(p.graph.entry.reference, None, work, seed=0)
    save_tokenizer(checkpoint, p.graph.entry.reference.vocab_size)
    with emulated(p.graph.device), imported_package(work / "pkg", "tttgen_generate_tiny") as package:
        package.generate = importlib.import_module("tttgen_generate_tiny.generate")
        yield package.Model.open(str(checkpoint)), package, hf, checkpoint, work / "pkg"


def hf_greedy(hf, prompt, new):
    with torch.no_grad():
        out = hf.generate(torch.tensor([prompt]), max_new_tokens=new, do_sample=False, eos_token_id=None)
    return out[0, len(prompt) :].tolist()


def test_only_lm_packages_have_a_generate_loop():
    lm = render_plan(plan(Request(TINY, "n150", flags=FLAGS)))
    assert {"generate.py", "__main__.py"} <= set(lm)
    assert "from .generate import" in lm["__main__.py"] and "IDLE_POSITION" in lm["generate.py"]
    assert "python -m tiny_llama --checkpoint" in lm["README.md"]
    module = render_plan(plan(Request("mlp", "n150")))
    assert not {"generate.py", "__main__.py"} & set(module)


def test_batched_greedy_prompts_match_transformers(tiny):
    """Three prompts of different lengths and budgets in slots 0-2, the other slots idle: each completion is
    transformers' greedy continuation, and no idle slot's KV cache is written."""
    model, package, hf, _, _ = tiny
    gen = package.generate
    prompts = [[(7 * i + 3) % 509 + 3 for i in range(n)] for n in (5, 17, 40)]
    budgets = [6, 3, 8]
    before = [t.values.clone() for t in model.k_cache + model.v_cache]
    done = gen.generate(model, prompts, max_new_tokens=budgets)
    for prompt, budget, completion in zip(prompts, budgets, done):
        assert completion.prompt == prompt
        assert completion.tokens == hf_greedy(hf, prompt, budget)
        assert completion.finish_reason == "length"
    for old, new in zip(before, (t.values for t in model.k_cache + model.v_cache)):
        assert torch.equal(old[3:], new[3:])  # idle slots
        assert not torch.equal(old[:3], new[:3])


def test_a_stop_token_ends_its_slot_only(tiny):
    model, package, hf, _, _ = tiny
    prompts = [[11, 12, 13, 14], [40, 41, 42]]
    expected = [hf_greedy(hf, p, 6) for p in prompts]
    stop = expected[0][2]  # prompt 0's third token
    assert stop not in expected[1] and stop not in expected[0][:2]
    done = package.generate.generate(model, prompts, max_new_tokens=6, stop_ids=[stop])
    assert done[0].tokens == expected[0][:3] and done[0].finish_reason == "stop"
    assert done[1].tokens == expected[1] and done[1].finish_reason == "length"
    # per prompt: the stop applies to prompt 1 only
    done = package.generate.generate(model, prompts, max_new_tokens=6, stop_ids=[[], [stop]])
    assert done[0].tokens == expected[0] and done[0].finish_reason == "length"


def test_the_loop_enqueues_each_step_before_it_reads_the_last_one(tiny):
    """The host's replay call, ids read and bookkeeping overlap the device: each decode step is enqueued before the
    previous step's ids are waited for (its ids are already the next step's tokens on device), and only the first
    step copies tokens. Planted: a loop that reads each step's ids before enqueuing the next gives E R E R ..."""
    import re

    model, package, hf, _, _ = tiny
    mod = importlib.import_module(package.__name__ + ".model")
    ttnn = mod.ttnn
    log = []
    saved = {n: getattr(ttnn, n) for n in ("execute_trace", "event_synchronize", "copy_host_to_device_tensor")}

    def logged(name, mark):
        def run(*args, **kwargs):
            if mark != "C" or args[1] is model.step_inputs["tokens"]:  # copies: the tokens' only
                log.append(mark)
            return saved[name](*args, **kwargs)

        return run

    ttnn.execute_trace = logged("execute_trace", "E")
    ttnn.event_synchronize = logged("event_synchronize", "R")
    ttnn.copy_host_to_device_tensor = logged("copy_host_to_device_tensor", "C")
    try:
        prompts = [[11, 12, 13, 14], [40, 41, 42]]
        done = package.generate.generate(model, prompts, max_new_tokens=[5, 3])
    finally:
        for n, fn in saved.items():
            setattr(ttnn, n, fn)
    assert [d.tokens for d in done] == [hf_greedy(hf, p, n) for p, n in zip(prompts, (5, 3))]
    # the tokens copied once, then: step 1 enqueued, (step k+1 enqueued, step k read)..., the last step read
    assert re.fullmatch(r"CE(ER)+R", "".join(log)), "".join(log)


def test_sampled_generation_repeats_under_its_seeds(tiny):
    model, package, _, _, _ = tiny
    prompts = [[5, 6, 7], [5, 6, 7]]
    params = {"top_k": 32, "top_p": 1.0, "temperature": 50.0}
    first = package.generate.generate(model, prompts, max_new_tokens=5, sampling=params, seeds=[1, 2])
    again = package.generate.generate(model, prompts, max_new_tokens=5, sampling=params, seeds=[1, 2])
    assert [c.tokens for c in first] == [c.tokens for c in again]
    assert first[0].tokens != first[1].tokens  # two seeds, two streams


@pytest.mark.parametrize(
    "prompts, kwargs, message",
    [
        ([[1]] * 33, {}, r"33 prompts for 32 user slots"),
        ([[1] * 129], {}, r"prompt 0 has 129 tokens, more than the 128 prefill takes"),
        ([[1], []], {}, r"prompt 1 is empty"),
        ([[1, 512]], {}, r"prompt 0 has token ids outside \[0, 512\)"),
        ([[1] * 100], {"max_new_tokens": 200}, r"needs 299 cache positions, more than MAX_SEQ_LEN=256: ask for at most 157"),
        ([[1]], {"max_new_tokens": 0}, r"max_new_tokens of prompt 0 must be an int >= 1"),
        ([[1], [2]], {"max_new_tokens": [1, 2, 3]}, r"max_new_tokens must be one value or one per prompt \(2\)"),
        ([[1]], {"stop_ids": [600]}, r"stop_ids must be token ids in \[0, 512\)"),
        ([[1]], {"seeds": [1]}, r"seeds are given but sampling is not"),
        (["w5 w6"], {}, r"prompts are token ids: encode text first"),
    ],
)
def test_generate_refuses_what_the_slots_or_the_cache_cannot_hold(tiny, prompts, kwargs, message):
    model, package, _, _, _ = tiny
    with pytest.raises(ValueError, match=message):
        package.generate.generate(model, prompts, **kwargs)


def test_prompts_are_encoded_with_the_chat_template(tiny):
    _, package, _, checkpoint, _ = tiny
    gen = package.generate
    tokenizer = gen.load_tokenizer(checkpoint)
    assert gen.encode_prompt(tokenizer, "w5 w6") == [1, tokenizer.convert_tokens_to_ids("user"), 5, 6, 2, 1, 0]
    assert gen.encode_prompt(tokenizer, "w5 w6", chat=False) == [5, 6]
    assert gen.stop_token_ids(checkpoint, tokenizer) == [STOP]


def test_tttgen_run_runs_the_demo_on_the_emulator(tiny, capsys):
    """`tttgen run` builds the package into a temporary directory (or takes --package) and runs its __main__ there:
    the JSON lines carry the prompt ids and transformers' greedy tokens."""
    from click.testing import CliRunner

    from tttgen.cli import cli

    _, _, hf, checkpoint, pkg = tiny
    base = ["--checkpoint", str(checkpoint), "--no-chat", "--max-new-tokens", "4", "--json"]
    prompts = ["--prompt", "w9 w8 w7", "--prompt", "w100 w3"]
    result = CliRunner().invoke(cli, ["run", "--config", TINY, "--max-seq-len", "256", "--prefill-lens", "128", *base, *prompts])
    assert result.exit_code == 0, result.output
    assert "on tttgen's ttnn CPU emulator" in result.stderr and "slow" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["prompt_ids"] for line in lines] == [[9, 8, 7], [100, 3]]
    for line in lines:
        assert line["tokens"] == hf_greedy(hf, line["prompt_ids"], 4)
        assert line["text"] == " ".join(f"w{t}" for t in line["tokens"] if t > STOP)
    again = CliRunner().invoke(cli, ["run", "--package", str(pkg), *base, *prompts])
    assert again.exit_code == 0, again.output
    assert [json.loads(line) for line in again.stdout.splitlines()] == lines


def test_tttgen_run_refuses_with_clear_errors(tiny, tmp_path):
    from click.testing import CliRunner

    from tttgen.cli import cli, main

    _, _, _, checkpoint, pkg = tiny
    long_prompt = " ".join(["w5"] * 129)
    args = ["run", "--package", str(pkg), "--checkpoint", str(checkpoint), "--no-chat", "--prompt", long_prompt]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "prompt 0 has 129 tokens, more than the 128 prefill takes" in result.stderr
    module = CliRunner().invoke(cli, ["run", "mlp", "--checkpoint", str(checkpoint), "--prompt", "w5"])
    assert module.exit_code != 0 and "only causal-LM packages have a generate loop" in str(module.exception)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = CliRunner().invoke(cli, ["run", "--checkpoint", str(empty), "--prompt", "w5"])
    assert "has no config.json" in str(missing.exception)
    untokenized = CliRunner().invoke(cli, ["run", "--package", str(pkg), "--checkpoint", str(empty), "--prompt", "w5"])
    assert untokenized.exit_code == 2 and f"cannot read a tokenizer from {empty}" in untokenized.stderr


def test_a_paged_package_generates_through_its_page_table(tmp_path):
    """--paged: generate() passes the page table to prefill and decode; a shuffled block allocation gives
    transformers' greedy tokens."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import emulated, imported_package, page_table, reference_model

    p = plan(Request(TINY, "n150", flags=FLAGS + (("paged", {}),)))
    (tmp_path / "pkg").mkdir()
    for name, text in render_plan(p).items():
        (tmp_path / "pkg" / name).write_text(text)
    hf, checkpoint = reference_model(p.graph.entry.reference, None, tmp_path, seed=0)
    with emulated(p.graph.device), imported_package(tmp_path / "pkg", "tttgen_generate_paged") as package:
        gen = importlib.import_module("tttgen_generate_paged.generate")
        assert gen.PROMPT_LIMIT == package.configs.MAX_SEQ_LEN == 256
        model = package.Model.open(str(checkpoint))
        prompts = [[(5 * i + 1) % 509 + 3 for i in range(n)] for n in (150, 9)]  # 150: two prefill chunks
        done = gen.generate(model, prompts, max_new_tokens=4, page_table=page_table(package.configs, 0))
    assert [c.tokens for c in done] == [hf_greedy(hf, prompt, 4) for prompt in prompts]


def test_tttgen_run_passes_its_generation_options_to_the_demo():
    from tttgen.cli import _demo_argv

    kw = {"max_new_tokens": 5, "seed": 3, "no_chat": False, "as_json": True, "system": "be brief", "top_k": 8}
    kw.update(top_p=None, temperature=0.5, max_seq_len=256)
    argv = _demo_argv("ckpt", ("a", "b"), kw)
    assert argv == [
        "--checkpoint", "ckpt", "--max-new-tokens", "5", "--seed", "3", "--prompt", "a", "--prompt", "b", "--json",
        "--system", "be brief", "--top-k", "8", "--temperature", "0.5",
    ]  # fmt: skip
    assert kw == {"max_seq_len": 256}  # what is left are the build's hints
