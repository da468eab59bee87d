"""Builds the module objects installed as ``ttnn``, ``ttnn.experimental``, ``ttnn.transformer`` and ``ttnn_jit``."""

from __future__ import annotations

import importlib
import pkgutil
import types
from typing import Optional

from . import configs as cfg
from . import dtypes as dt
from . import jit as jit_mod
from . import mesh as mesh_mod
from . import trace as trace_mod
from .device import Arch, Device, DeviceSpec
from .errors import EmulatorError, EmulatorUnsupported, EmulatorValidationError
from . import ops as ops_package
from .ops import attention, ccl, core, eltwise, embedding, heads, kv_cache, matmul, normalization, reduction, sampling
from .tensor import Shape, Tensor

TOP_LEVEL_OPS = {
    "from_torch": core.from_torch,
    "to_torch": core.to_torch,
    "as_tensor": core.as_tensor,
    "to_device": core.to_device,
    "from_device": core.from_device,
    "to_layout": core.to_layout,
    "to_memory_config": core.to_memory_config,
    "sharded_to_interleaved": core.sharded_to_interleaved,
    "interleaved_to_sharded": core.interleaved_to_sharded,
    "typecast": core.typecast,
    "reshape": core.reshape,
    "permute": core.permute,
    "fold": core.fold,
    "slice": core.slice,
    "pad": core.pad,
    "concat": core.concat,
    "deallocate": core.deallocate,
    "clone": core.clone,
    "linear": matmul.linear,
    "matmul": matmul.matmul,
    "rms_norm": normalization.rms_norm,
    "layer_norm": normalization.layer_norm,
    "softmax": normalization.softmax,
    "embedding": embedding.embedding,
    "argmax": reduction.argmax,
    "topk": sampling.topk,
    "sampling": sampling.sampling,
    "manual_seed": sampling.manual_seed,
    "add": eltwise.add,
    "mul": eltwise.mul,
    "multiply": eltwise.multiply,
    "silu": eltwise.silu,
    "subtract": eltwise.subtract,
    "divide": eltwise.divide,
    **eltwise.UNARY_OPS,
    "fill_cache": kv_cache.fill_cache,
    "update_cache": kv_cache.update_cache,
    "rms_norm_pre_all_gather": ccl.rms_norm_pre_all_gather,
    "rms_norm_post_all_gather": ccl.rms_norm_post_all_gather,
    "all_gather": ccl.all_gather,
    "reduce_scatter": ccl.reduce_scatter,
    "all_reduce": ccl.all_reduce,
}
# An ops module may list its top-level ops itself (`TTNN_OPS`): a new op kind's emulator function is its own file.
for _info in sorted(pkgutil.iter_modules(ops_package.__path__), key=lambda m: m.name):
    _listed = getattr(importlib.import_module(f"{ops_package.__name__}.{_info.name}"), "TTNN_OPS", {})
    _twice = sorted(set(_listed) & set(TOP_LEVEL_OPS))
    assert not _twice, f"emulator ops listed twice: {_twice}"
    TOP_LEVEL_OPS.update(_listed)
# Ops that read every chip of a mesh; every other op runs once per chip on mesh tensors (mesh.per_chip).
MESH_WIDE_OPS = frozenset({"all_gather", "reduce_scatter", "all_reduce"})

EXPERIMENTAL_OPS = {
    "rotary_embedding_llama": heads.rotary_embedding_llama,
    "nlp_create_qkv_heads": heads.nlp_create_qkv_heads,
    "nlp_create_qkv_heads_decode": heads.nlp_create_qkv_heads_decode,
    "nlp_concat_heads": heads.nlp_concat_heads,
    "nlp_concat_heads_decode": heads.nlp_concat_heads_decode,
    "paged_update_cache": kv_cache.paged_update_cache,
    "paged_fill_cache": kv_cache.paged_fill_cache,
}

TRANSFORMER_OPS = {
    "scaled_dot_product_attention": attention.scaled_dot_product_attention,
    "scaled_dot_product_attention_decode": attention.scaled_dot_product_attention_decode,
    "paged_scaled_dot_product_attention_decode": attention.paged_scaled_dot_product_attention_decode,
    "chunked_scaled_dot_product_attention": attention.chunked_scaled_dot_product_attention,
}

CLASSES = {
    "Tensor": Tensor,
    "Shape": Shape,
    "DataType": dt.DataType,
    "Layout": dt.Layout,
    "StorageType": dt.StorageType,
    "MemoryConfig": cfg.MemoryConfig,
    "ShardSpec": cfg.ShardSpec,
    "CoreCoord": cfg.CoreCoord,
    "CoreRange": cfg.CoreRange,
    "CoreRangeSet": cfg.CoreRangeSet,
    "CoreGrid": cfg.CoreGrid,
    "BufferType": cfg.BufferType,
    "TensorMemoryLayout": cfg.TensorMemoryLayout,
    "ShardOrientation": cfg.ShardOrientation,
    "ShardStrategy": cfg.ShardStrategy,
    "MathFidelity": cfg.MathFidelity,
    "UnaryOpType": cfg.UnaryOpType,
    "UnaryWithParam": cfg.UnaryWithParam,
    "ThrottleLevel": cfg.ThrottleLevel,
    "WormholeComputeKernelConfig": cfg.WormholeComputeKernelConfig,
    "BlackholeComputeKernelConfig": cfg.BlackholeComputeKernelConfig,
    "DeviceComputeKernelConfig": cfg.DeviceComputeKernelConfig,
    "MatmulMultiCoreReuseProgramConfig": cfg.MatmulMultiCoreReuseProgramConfig,
    "MatmulMultiCoreReuseMultiCastProgramConfig": cfg.MatmulMultiCoreReuseMultiCastProgramConfig,
    "MatmulMultiCoreReuseMultiCast1DProgramConfig": cfg.MatmulMultiCoreReuseMultiCast1DProgramConfig,
    "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig": cfg.MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig,
    "LayerNormDefaultProgramConfig": cfg.LayerNormDefaultProgramConfig,
    "LayerNormShardedMultiCoreProgramConfig": cfg.LayerNormShardedMultiCoreProgramConfig,
    "SDPAProgramConfig": cfg.SDPAProgramConfig,
    "MeshShape": mesh_mod.MeshShape,
    "MeshDevice": mesh_mod.MeshDevice,
    "FabricConfig": mesh_mod.FabricConfig,
    "Topology": mesh_mod.Topology,
    "DispatchCoreConfig": mesh_mod.DispatchCoreConfig,
    "DispatchCoreType": mesh_mod.DispatchCoreType,
    "DispatchCoreAxis": mesh_mod.DispatchCoreAxis,
}

MESH_FUNCTIONS = {
    "ReplicateTensorToMesh": mesh_mod.ReplicateTensorToMesh,
    "ShardTensorToMesh": mesh_mod.ShardTensorToMesh,
    "ShardTensor2dMesh": mesh_mod.ShardTensor2dMesh,
    "ConcatMeshToTensor": mesh_mod.ConcatMeshToTensor,
    "ConcatMesh2dToTensor": mesh_mod.ConcatMesh2dToTensor,
    "get_device_tensors": mesh_mod.get_device_tensors,
    "set_fabric_config": ccl.set_fabric_config,
}

CONSTANTS = {
    "bfloat16": dt.bfloat16,
    "float32": dt.float32,
    "bfloat8_b": dt.bfloat8_b,
    "bfloat4_b": dt.bfloat4_b,
    "uint32": dt.uint32,
    "int32": dt.int32,
    "uint16": dt.uint16,
    "uint8": dt.uint8,
    "TILE_LAYOUT": dt.Layout.TILE,
    "ROW_MAJOR_LAYOUT": dt.Layout.ROW_MAJOR,
    "TILE_SIZE": dt.TILE_SIZE,
    "DRAM_MEMORY_CONFIG": cfg.DRAM_MEMORY_CONFIG,
    "L1_MEMORY_CONFIG": cfg.L1_MEMORY_CONFIG,
    "L1_WIDTH_SHARDED_MEMORY_CONFIG": cfg.L1_WIDTH_SHARDED_MEMORY_CONFIG,
    "L1_HEIGHT_SHARDED_MEMORY_CONFIG": cfg.L1_HEIGHT_SHARDED_MEMORY_CONFIG,
    "L1_BLOCK_SHARDED_MEMORY_CONFIG": cfg.L1_BLOCK_SHARDED_MEMORY_CONFIG,
    "DEVICE_STORAGE_TYPE": dt.StorageType.DEVICE,
}


def _tag(fn):
    try:
        fn.__tttgen_op__ = True
    except AttributeError:
        pass
    return fn


class _State:
    def __init__(self, spec: DeviceSpec):
        self.spec = spec
        self.devices: list[Device] = []


def build_modules(spec: DeviceSpec) -> dict[str, types.ModuleType]:
    state = _State(spec)
    ttnn = types.ModuleType(
        "ttnn", "CPU emulator of the ttnn surface used by tttgen (tttgen.checking.emulator); not Tenstorrent's ttnn."
    )
    experimental = types.ModuleType("ttnn.experimental")
    transformer = types.ModuleType("ttnn.transformer")
    for mod in (ttnn, experimental, transformer):
        mod.__tttgen_emulator__ = True
    ttnn.__version__ = "0.81.1+tttgen.checking.emulator"
    ttnn.__path__ = []  # behave as a package so "import ttnn.experimental" resolves through sys.modules

    for name, obj in {**CLASSES, **CONSTANTS}.items():
        setattr(ttnn, name, obj)
    tracer = trace_mod.Tracer()
    ccl.FABRIC.config = None  # a fresh install starts with no fabric, as a fresh process

    def on_mesh(name, fn):
        return fn if name in MESH_WIDE_OPS else mesh_mod.mesh_host_io(name, fn)

    for name, fn in TOP_LEVEL_OPS.items():
        setattr(ttnn, name, _tag(tracer.wrap(name, on_mesh(name, fn))))
    for name, fn in EXPERIMENTAL_OPS.items():
        setattr(experimental, name, _tag(tracer.wrap(name, on_mesh(name, fn))))
    for name, fn in TRANSFORMER_OPS.items():
        setattr(transformer, name, _tag(tracer.wrap(name, on_mesh(name, fn))))
    for name, fn in MESH_FUNCTIONS.items():
        setattr(ttnn, name, fn)
    ttnn.begin_trace_capture = tracer.begin_trace_capture
    ttnn.end_trace_capture = tracer.end_trace_capture
    ttnn.execute_trace = tracer.execute_trace
    ttnn.release_trace = tracer.release_trace
    # a mesh tensor's chips each take their own host chip (from_torch with a mesh_mapper and no device)
    ttnn.copy_host_to_device_tensor = mesh_mod.per_chip("copy_host_to_device_tensor", trace_mod.copy_host_to_device_tensor)
    ttnn.record_event = trace_mod.record_event
    ttnn.event_synchronize = trace_mod.event_synchronize
    ttnn.wait_for_event = trace_mod.wait_for_event
    ttnn.experimental = experimental
    ttnn.transformer = transformer

    def open_device(
        device_id: int = 0,
        l1_small_size: int = 0,
        trace_region_size: int = 0,
        num_command_queues: int = 1,
        dispatch_core_config=None,
        worker_l1_size: Optional[int] = None,
        **kwargs,
    ) -> Device:
        dev = Device(
            state.spec,
            device_id,
            l1_small_size=l1_small_size,
            trace_region_size=trace_region_size,
            num_command_queues=num_command_queues,
            **kwargs,
        )
        state.devices.append(dev)
        return dev

    def close_device(device: Device) -> None:
        if not isinstance(device, Device):
            raise TypeError(f"ttnn.close_device expects a device, got {type(device).__name__}")
        device.is_open = False

    def synchronize_device(device: Device, *args, **kwargs) -> None:
        return None

    def get_arch_name() -> str:
        return state.spec.arch.value

    def open_mesh_device(
        mesh_shape=None,
        l1_small_size: int = 0,
        trace_region_size: int = 0,
        num_command_queues: int = 1,
        dispatch_core_config=None,
        offset=None,
        physical_device_ids=(),
        worker_l1_size: Optional[int] = None,
    ) -> mesh_mod.MeshDevice:
        shape = mesh_mod.MeshShape(mesh_shape if mesh_shape is not None else (1, 1))
        if shape.dims() != 2:
            raise EmulatorUnsupported(f"ttnn.open_mesh_device: only 2D mesh shapes are emulated, got {shape}")
        devices = [
            open_device(i, l1_small_size=l1_small_size, trace_region_size=trace_region_size, num_command_queues=num_command_queues)
            for i in range(shape.mesh_size())
        ]
        return mesh_mod.MeshDevice(shape, devices, dispatch_core_config)

    def close_mesh_device(mesh_device) -> None:
        if not isinstance(mesh_device, mesh_mod.MeshDevice):
            raise TypeError(f"ttnn.close_mesh_device expects a mesh device, got {type(mesh_device).__name__}")
        for dev in mesh_device.devices:
            dev.is_open = False
        mesh_device.is_open = False

    ttnn.open_mesh_device = open_mesh_device
    ttnn.close_mesh_device = close_mesh_device
    ttnn.open_device = open_device
    ttnn.close_device = close_device
    ttnn.synchronize_device = synchronize_device
    ttnn.get_arch_name = get_arch_name
    ttnn.create_sharded_memory_config = cfg.create_sharded_memory_config
    ttnn.init_device_compute_kernel_config = cfg.init_device_compute_kernel_config
    ttnn.num_cores_to_corerangeset = lambda num_cores, grid, row_wise=False: cfg.num_cores_to_corerangeset(
        num_cores, grid, row_wise
    )
    ttnn.Arch = Arch
    ttnn.EmulatorError = EmulatorError
    ttnn.EmulatorValidationError = EmulatorValidationError
    ttnn.EmulatorUnsupported = EmulatorUnsupported
    ttnn._emulator_state = state

    jit_module = types.ModuleType("ttnn_jit", "Stand-in for tt-mlir's ttnn_jit (tttgen.checking.emulator.jit).")

    # a jitted block is one call of the step: recorded as a whole during a trace capture
    def traced(block):
        block.tracer = tracer  # a jitted block is one call of a traced step
        return block

    def jit(func=None, **options):
        if func is not None:
            return traced(jit_mod.jit(func, **options))
        decorate = jit_mod.jit(**options)  # the flags are checked here, as ttnn_jit.jit checks them
        return lambda fn: traced(decorate(fn))

    jit_module.jit = jit
    jit_module.__tttgen_emulator__ = True
    jit_module.SUPPORTED_OPS = jit_mod.SUPPORTED_OPS
    return {"ttnn": ttnn, "ttnn.experimental": experimental, "ttnn.transformer": transformer, "ttnn_jit": jit_module}
