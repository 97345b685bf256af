"""The committed admin API code is what grpcio-tools makes of the .proto.

CI never regenerates it (``make proto`` does, by hand, after editing
kv/proto/admin.proto); this test catches a .proto edited without
regenerating, or generated code edited by hand. The output depends on the
grpcio-tools version (it embeds it), so the test runs only with the version
that made the committed code, the one pinned in the test extra.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO = "kv/proto/admin.proto"
GENERATED = ("admin_pb2.py", "admin_pb2.pyi", "admin_pb2_grpc.py")


def _committed_tools_version() -> str:
    text = (ROOT / "kv/proto/admin_pb2_grpc.py").read_text()
    line = next(x for x in text.splitlines() if x.startswith("GRPC_GENERATED_VERSION"))
    return line.split("=", 1)[1].strip().strip("'\"")


def test_generated_code_matches_the_proto(tmp_path: Path) -> None:
    try:
        installed = metadata.version("grpcio-tools")
    except metadata.PackageNotFoundError:
        pytest.skip("grpcio-tools is not installed (pip install -e '.[test]'), cannot regenerate")
    wanted = _committed_tools_version()
    if installed != wanted:
        pytest.skip(f"grpcio-tools {installed} installed, the committed code is from {wanted}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            str(ROOT / PROTO),
        ],
        check=True,
        capture_output=True,
    )
    for name in GENERATED:
        fresh = (tmp_path / "kv/proto" / name).read_text()
        committed = (ROOT / "kv/proto" / name).read_text()
        assert fresh == committed, f"kv/proto/{name} is stale: run `make proto` and commit it"


def test_the_generated_code_loads_with_the_installed_runtime() -> None:
    from kv.proto import admin_pb2, admin_pb2_grpc

    assert admin_pb2.DESCRIPTOR.package == "raftlab.admin.v1"
    names = set(admin_pb2.DESCRIPTOR.services_by_name["Admin"].methods_by_name)
    assert names == {
        "AddLearner",
        "Promote",
        "RemoveNode",
        "ChangeMembership",
        "LeaveJoint",
        "CaughtUp",
        "TransferLeader",
        "GetStatus",
        "SetFaults",
    }
    assert hasattr(admin_pb2_grpc, "AdminStub")
