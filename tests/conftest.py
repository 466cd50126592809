"""Shared fixtures: the real human-judgment data beside the checkout, a temp cache."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("METAEVAL_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: it holds the real judgments and is absent on a user's machine."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real human-judgment data not found at {SHARED_DATA} "
                    "(present in CI; set METAEVAL_SHARED_DATA to point elsewhere)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test touches the user's real score cache."""
    monkeypatch.setenv("METAEVAL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def local_ray():
    """A Ray on this machine (127.0.0.1, two CPUs), started once for the tests that ask."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install .[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()
