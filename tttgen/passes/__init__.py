"""The optimizer pipeline: one readable list, the IR verified after every pass."""

from __future__ import annotations

from tttgen.errors import PipelineError
from tttgen.ir.graph import Graph
from tttgen.ir.verify import verify
from tttgen.passes.base import Pass
from tttgen.passes.chunking import chunking
from tttgen.passes.feasibility import feasibility
from tttgen.passes.fusion import fusion
from tttgen.passes.matmul_program import matmul_program
from tttgen.passes.memory import memory
from tttgen.passes.op_costs import op_costs
from tttgen.passes.op_programs import op_programs
from tttgen.passes.parallelism import parallelism
from tttgen.passes.precision import precision
from tttgen.passes.projections import projections
from tttgen.passes.reshard import reshard
from tttgen.passes.step_state import step_state
from tttgen.passes.target import target

PIPELINE: tuple[Pass, ...] = (
    target,  # refuse devices ttnn 0.81.1 cannot drive
    parallelism,  # mesh placement of every tensor, collectives between them (multi-chip only)
    precision,  # dtypes and compute-kernel configs from the precision preset
    chunking,  # prefill rows per matmul call, SDPA chunk sizes
    projections,  # linears reading one tensor: one fused linear and slices, or one each (modeled)
    memory,  # weights DRAM-sharded or interleaved; fixed activation placements
    matmul_program,  # search legal program configs, keep the fastest modeled
    reshard,  # moves between producer and consumer placements (or none)
    op_programs,  # sharded norm and SDPA program configs
    fusion,  # ttnn-jit blocks where its rules allow
    step_state,  # decode-step inputs kept and advanced on device
    op_costs,  # modeled time of the remaining ops and whole forwards
    feasibility,  # DRAM capacity and the remaining ttnn rules
)


def run_pipeline(graph: Graph, passes: tuple[Pass, ...] = PIPELINE) -> Graph:
    for i, p in enumerate(passes):
        missing = p.requires - graph.annotated
        if missing:
            ran = [q.name for q in passes[:i]]
            raise PipelineError(f"pass '{p.name}' needs {sorted(missing)}; ran {ran}")
        graph = p(graph)
        verify(graph, stage=p.name)
    return graph
