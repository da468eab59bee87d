"""Issue 11: a paged KV cache (`--paged`) and chunked prefill.

- `--paged` turns on the descriptions' `paged` feature (tttgen.inputs.module.Feature): an overlay of params, state
  and mode variants that every called module declaring it applies too. Llama's overlay keeps each layer's K and V
  as pools of blocks, reads and writes them through page tables (paged_update_cache, paged_fill_cache, paged SDPA
  decode) and runs prefill as chunks that attend to the earlier chunks through the cache (chunked SDPA).
- Checked on the emulator against transformers with a shuffled page table and a prompt of several chunks, and
  with planted bugs that the comparison must catch.
"""

import json

import pytest
from click.testing import CliRunner

from tttgen.cli import cli
from tttgen.errors import TttgenError
from tttgen.generate import Request, plan, render_plan

TINY = "tests/data/tiny-llama/config.json"
PAGED = (("paged", {}), ("prefill_lens", [128]))
# verify on the emulator: a 512-position cache (16 blocks per user) holds the 300-token prompt and the steps; the
# default max_seq_len's pool is twice as large for the same chunked prefill, paged fill/update and paged decode
VERIFY_PAGED = (("paged", {}), ("prefill_lens", [128]), ("max_seq_len", 512))


class Result:
    """What `tttgen ARGS` does, in process: its exit code and what it prints (an input error as main() renders it)."""

    def __init__(self, args):
        result = CliRunner().invoke(cli, list(args))
        err = result.exception
        failed = isinstance(err, TttgenError)
        if err is not None and not failed and not isinstance(err, SystemExit):
            raise err
        self.exit_code = err.exit_code if failed else result.exit_code
        self.output = f"error: {err.render()}" if failed else result.output


def invoke(*args):
    return Result(args)


def test_paged_on_a_description_without_the_feature_is_a_clear_input_error():
    result = invoke("build", "mlp", "--device", "n150", "--paged", "--out", "/nonexistent")
    assert result.exit_code == 2
    assert "has no feature 'paged'" in result.output and "its features: none" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "flags, message",
    [
        (("--page-block-size", "48"), "multiple of 32"),
        (("--paged", "--page-block-size", "256", "--prefill-lens", "128"), "does not divide"),
        (("--paged", "--max-seq-len", "1536", "--prefill-lens", "128,1024"), "multiple of the largest prefill"),
        (("--page-blocks", "0"), "greater than or equal to 1"),
        (("--paged", "--max-seq-len", "128", "--prefill-lens", "128"), "must be a multiple of 8"),
    ],
)
def test_bad_paged_hints_are_refused(flags, message):
    result = invoke("build", "llama-3.2-1b", "--device", "n150", *flags, "--out", "/nonexistent")
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_broken_feature_overlay_is_reported_with_its_feature(tmp_path):
    text = open("modules/llama_attention.yaml").read()
    broken = text.replace("page_table: chunk_pages}}", "page_table: chunk_page}}", 1)
    assert broken != text
    path = tmp_path / "llama_attention.yaml"
    path.write_text(broken)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert "with feature 'paged'" in result.output and "chunk_page" in result.output


def test_the_features_of_the_built_in_descriptions_validate():
    for name in ("llama", "llama_decoder_layer", "llama_attention"):
        assert invoke("validate", f"modules/{name}.yaml").exit_code == 0


@pytest.fixture(scope="module")
def paged_plan():
    return plan(Request(TINY, "n150", flags=PAGED))


def test_paged_graph_and_code(paged_plan):
    graph = paged_plan.graph
    # the cache: blocks of 32 positions, every user slot at max_seq_len by default
    pages = graph.hints.max_seq_len // 32
    assert graph.facts["state_shapes"]["k_cache"] == [2, 32 * pages, 2, 32, 64]
    files = render_plan(paged_plan)
    model = files["model.py"]
    assert "ttnn.experimental.paged_update_cache(k_cache, k_rot, update_idxs_tensor=positions, page_table=page_table)" in model
    assert "ttnn.transformer.paged_scaled_dot_product_attention_decode(" in model
    assert "ttnn.transformer.chunked_scaled_dot_product_attention(" in model
    assert "chunk_start_idx_tensor=chunk_start" in model
    assert "ttnn.experimental.paged_fill_cache(" in model and "ttnn.fill_cache(" not in model
    configs = files["configs.py"]
    assert f"PAGES_PER_USER = {pages}" in configs and f"PAGE_BLOCKS = {32 * pages}" in configs
    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["request"]["flags"]["paged"] == {}


def test_unpaged_packages_do_not_change():
    """Without --paged the description is the one written: no page tables in any step (the server surface takes the
    argument vLLM passes and refuses a table, since the cache is one slot per user)."""
    files = render_plan(plan(Request(TINY, "n150", flags=(("prefill_lens", [128]),))))
    steps = files["model.py"].split("class Generator")[0]
    assert "page_table" not in steps and "PAGE_BLOCKS" not in files["configs.py"]
    assert "built without --paged): no page table" in files["model.py"]
    assert "ttnn.fill_cache(" in files["model.py"]


def test_the_sdpa_decode_l1_claim_counts_the_page_table_row(paged_plan):
    plain = plan(Request(TINY, "n150", flags=(("prefill_lens", [128]),)))
    claim = {p.graph.hints.paged is not None: p.graph.op("decode.sdpa").decisions["l1_bytes"] for p in (plain, paged_plan)}
    pages = paged_plan.graph.hints.max_seq_len // 32
    assert claim[True] - claim[False] == -(-pages * 4 // 32) * 32  # one int32 row, DRAM-aligned


def _verify(edit=None, prompt_len=300, steps=4):
    pytest.importorskip("transformers")
    from tttgen.checking.verification import run_verify

    return run_verify(plan(Request(TINY, "n150", flags=VERIFY_PAGED)), steps=steps, prompt_len=prompt_len, edit_files=edit)


def test_paged_chunked_prefill_and_decode_match_transformers():
    """A 300-token prompt runs as three 128-row chunks (the package's one prefill length), each attending to the
    earlier chunks through the cache, then greedy decode steps; every block comes from a shuffled page table."""
    report = _verify(steps=8)
    assert report.passed, report.as_dict()
    assert min(report.layer_pcc) > 0.999 and report.token_agreement == 8


def _planted(old, new):
    def edit(files):
        assert old in files["model.py"], old
        return {**files, "model.py": files["model.py"].replace(old, new)}

    return edit


@pytest.mark.parametrize(
    "old, new",
    [
        # every chunk fills the user's first blocks: later chunks overwrite the earlier ones
        ("user_pages[:, first : first + count]", "user_pages[:, :count]"),
        # decode ignores the caller's table and reads the default allocation
        ("table = check_page_table(page_table)\n", "table = check_page_table(None)\n"),
    ],
)
def test_paged_verify_catches_a_planted_paging_bug(old, new):
    assert not _verify(_planted(old, new)).passed


def test_paged_mistral_matches_transformers():
    """Mistral's description declares the same feature: a two-chunk prompt and greedy steps, shuffled blocks."""
    pytest.importorskip("transformers")
    from tttgen.checking.verification import run_verify

    report = run_verify(
        plan(Request("tests/data/tiny-mistral/config.json", "n150", flags=VERIFY_PAGED)), steps=3, prompt_len=200
    )
    assert report.passed, report.as_dict()


def test_verify_with_too_few_blocks_for_every_user_is_an_input_error():
    pytest.importorskip("transformers")
    args = ("--config", TINY, "--device", "n150", "--paged", "--page-blocks", "64", "--prefill-lens", "128")
    result = invoke("verify", *args, "--steps", "1", "--prompt-len", "10")
    assert result.exit_code == 2 and "needs 1024 cache blocks, the package has 64" in result.output, result.output


def test_the_hints_are_the_one_home_of_max_seq_len_and_the_paged_geometry(paged_plan):
    """module_params holds no hint-owned value: max_seq_len and the paged geometry are read from graph.hints, and
    graph fact hint_params names the params of the description they bind (Graph.params() joins both)."""
    from tttgen.inputs.hints import HINT_PARAMS, PAGED_PARAMS, paged_params

    graph = paged_plan.graph
    assert not set(HINT_PARAMS) & set(graph.facts["module_params"])
    assert set(graph.facts["hint_params"]) == set(HINT_PARAMS)  # the paged llama declares all four
    params = graph.params()
    assert params["max_seq_len"] == graph.hints.max_seq_len
    assert {n: params[n] for n in PAGED_PARAMS} == paged_params(graph.hints, graph.facts["decode_rows"])
    assert list(params) == sorted(params) and params["max_batch"] == graph.facts["module_params"]["max_batch"]
