"""Where a workflow job runs, as one log line (issue 16).

Every `cftrain` subcommand starts its log with it, so a rule's log shows that the job ran under
Slurm (its job id) and which GPUs Slurm granted it (CUDA_VISIBLE_DEVICES), next to the device
the job then actually used.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket


def job_context() -> str:
    """``host=<name> slurm_job_id=<id|none> cuda_visible_devices=<list|unset>``."""
    env = os.environ
    return (
        f"host={socket.gethostname()} slurm_job_id={env.get('SLURM_JOB_ID', 'none')} "
        f"cuda_visible_devices={env.get('CUDA_VISIBLE_DEVICES', 'unset')}"
    )


def _cpu_model() -> str:
    """The CPU as ``/proc/cpuinfo`` describes it: vendor, family, model, name and a digest of
    its feature flags (two VMs with one model name can differ in the kernels they offer);
    else what the platform reports."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if not sep:
                    if fields:
                        break  # the first processor's block is enough
                    continue
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or "unknown"
    flags = hashlib.sha256(" ".join(sorted(fields.get("flags", "").split())).encode())
    return (
        f"{fields.get('vendor_id', '?')} family {fields.get('cpu family', '?')} model "
        f"{fields.get('model', '?')} ({fields['model name']}), flags {flags.hexdigest()[:12]}"
    )


def machine() -> dict[str, str]:
    """What decides a run's floating-point results besides its inputs: torch and NumPy
    versions, the CPU, the SIMD kernels torch dispatches to, the architecture. Two runs that
    agree here (and run one thread per job, as the workflow does) give the same bits;
    ``cftrain verify`` compares a run exactly with the record only then."""
    import numpy
    import torch

    return {
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu": _cpu_model(),
        "arch": platform.machine(),
    }
