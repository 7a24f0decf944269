"""The machine a benchmark ran on: numbers mean little without it."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    usable_cores: int
    ram_gib: float
    python: str
    os: str

    def describe(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores ({self.usable_cores} usable), {self.ram_gib:.1f} GiB RAM, "
            f"Python {self.python}, {self.os}"
        )

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def cpu_model(cpuinfo: str) -> str:
    """``model name`` from /proc/cpuinfo text (the first CPU's), or "unknown"."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "cpu model") and value.strip():
            return value.strip()
    return "unknown"


def mem_total_gib(meminfo: str) -> float:
    """``MemTotal`` from /proc/meminfo text, in GiB (0 when absent)."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            parts = line.split()
            return int(parts[1]) / (1024 * 1024)
    return 0.0


def os_name(os_release: str, fallback: str) -> str:
    """``PRETTY_NAME`` from /etc/os-release text, else ``fallback``."""
    for line in os_release.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return fallback


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def this_machine() -> Machine:
    kernel = f"{platform.system()} {platform.release()}"
    distro = os_name(_read("/etc/os-release"), "")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 1
    return Machine(
        cpu=cpu_model(_read("/proc/cpuinfo"))
        if _read("/proc/cpuinfo")
        else platform.processor() or "unknown",
        cores=os.cpu_count() or 1,
        usable_cores=usable,
        ram_gib=mem_total_gib(_read("/proc/meminfo")),
        python=platform.python_version(),
        os=f"{distro} ({kernel})" if distro else kernel,
    )
