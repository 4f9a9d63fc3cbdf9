"""A local stand-in for HighLevel's order and fulfillment API, served over loopback HTTP.

Tests, benchmarks and the CLI's --sandbox flag use it in place of
https://services.leadconnectorhq.com:

    seed = load_seed(Path("sandbox_seed.json"))
    with Sandbox(seed, tokens={"tok-abc": None}) as sandbox:
        ...  # send requests to sandbox.base_url
"""

from importer.sandbox.api import API_VERSION, RequestRecord
from importer.sandbox.faults import (
    MALFORMED_KINDS,
    FaultKind,
    FaultPlan,
    FaultScope,
    InjectedFault,
    WrongShape,
)
from importer.sandbox.seed import SandboxSeed, SeedError, load_seed
from importer.sandbox.server import Sandbox
from importer.sandbox.store import CreatedFulfillment

__all__ = [
    "API_VERSION",
    "MALFORMED_KINDS",
    "CreatedFulfillment",
    "FaultKind",
    "FaultPlan",
    "FaultScope",
    "InjectedFault",
    "RequestRecord",
    "Sandbox",
    "SandboxSeed",
    "SeedError",
    "WrongShape",
    "load_seed",
]
