"""The compiled-program cache (geovec.compile_cache): a second process with the same cache
compiles nothing; the folder is keyed by jax build and machine; an unusable folder costs
one warning line and nothing else; the batch shapes an extractor compiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from geovec import compile_cache
from geovec.features.extract import FeatureExtractor, padded_size, padded_sizes
from tests.features.tiny_weights import tiny_weights

ROOT = Path(__file__).resolve().parents[1]

SECOND_PROCESS = """
import json, logging, re
import numpy as np
messages = []
class Keep(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
log = logging.getLogger("jax._src.compiler")
log.setLevel(logging.DEBUG)
log.addHandler(Keep())
from geovec.features.extract import FeatureExtractor
from tests.features.tiny_weights import tiny_weights
rng = np.random.default_rng(0)
images = [rng.integers(0, 256, (70, 90, 3), dtype=np.uint8) for _ in range(3)]
extractor = FeatureExtractor(["imagenet_fc7"], 4, {"caffenet": tiny_weights()})
out = extractor.extract(images)["imagenet_fc7"]
def modules(pattern):
    return sorted(m.group(1) for text in messages if (m := re.match(pattern, text)))
print(json.dumps({
    "hits": modules("Persistent compilation cache hit for '([^']+)'"),
    "misses": modules("PERSISTENT COMPILATION CACHE MISS for '([^']+)'"),
    "first": out[0, :4].tolist(),
}))
"""


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (70, 90, 3), dtype=np.uint8) for _ in range(n)]


def entries(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*-cache")}


def test_second_process_with_the_same_cache_compiles_nothing(compile_cache_dir):
    extractor = FeatureExtractor(["imagenet_fc7"], 4, {"caffenet": tiny_weights()})
    assert extractor.compile_cache is not None
    assert extractor.compile_cache.parent == compile_cache_dir
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # cache even quick ones
    first = extractor.extract(images(3))["imagenet_fc7"]
    written = entries(compile_cache_dir)
    assert any(e.startswith("jit_forward-") for e in written)  # the network's, batch of 4
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    second = json.loads(done.stdout.strip().splitlines()[-1])
    assert second["hits"] == ["jit_forward"]  # the network's program, loaded
    # compiled again: only what compiles in under MIN_COMPILE_S (never written)
    assert "jit_forward" not in second["misses"]
    assert entries(compile_cache_dir) == written  # nothing new written
    np.testing.assert_array_equal(second["first"], first[0, :4])


def test_folder_keyed_by_jax_version_backend_and_cpu(monkeypatch, tmp_path):
    key = compile_cache.cache_key()
    assert key.startswith(f"jax-{jax.__version__}-{jax.default_backend()}-")
    monkeypatch.setenv("GEOVEC_XLA_CACHE", str(tmp_path / "a"))
    assert compile_cache.cache_root() == tmp_path / "a"
    monkeypatch.delenv("GEOVEC_XLA_CACHE")
    monkeypatch.setenv("GEOVEC_CACHE", str(tmp_path / "b"))
    assert compile_cache.cache_root() == tmp_path / "b" / "xla"
    monkeypatch.delenv("GEOVEC_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    if sys.platform.startswith("linux"):
        assert compile_cache.cache_root() == tmp_path / "c" / "geovec" / "xla"
    for off in ("off", "0", ""):
        monkeypatch.setenv("GEOVEC_XLA_CACHE", off)
        assert compile_cache.cache_root() is None


def test_unusable_folder_warns_once_and_changes_nothing(compile_cache_dir, monkeypatch, capsys):
    blocker = compile_cache_dir.parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GEOVEC_XLA_CACHE", str(blocker / "xla"))
    compile_cache.reset()
    tiny = {"caffenet": tiny_weights()}
    out = FeatureExtractor(["imagenet_fc7"], 2, tiny).extract(images(2))["imagenet_fc7"]
    FeatureExtractor(["imagenet_fc7"], 2, tiny).extract(images(2))
    assert out.shape == (2, 16) and np.isfinite(out).all()
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "compiled programs are not cached" in err
    assert jax.config.jax_compilation_cache_dir is None


def test_read_only_folder_is_read_not_written(compile_cache_dir, monkeypatch, capsys):
    folder = compile_cache_dir / compile_cache.cache_key()
    folder.mkdir(parents=True)
    monkeypatch.setattr(compile_cache, "_writable", lambda path: False)
    assert compile_cache.enable() == folder
    assert compile_cache.enable() == folder  # asked again: no second warning
    assert capsys.readouterr().err.count("cannot be written") == 1
    assert jax.config.jax_persistent_cache_min_compile_time_secs == float("inf")


def test_padded_batch_shapes():
    assert padded_sizes(64) == [1, 2, 4, 8, 16, 32, 64]
    assert padded_sizes(48) == [1, 2, 4, 8, 16, 32, 48]
    assert padded_sizes(1) == [1]
    assert [padded_size(n, 64) for n in (1, 3, 5, 33, 64)] == [1, 4, 8, 64, 64]
    with pytest.raises(ValueError):
        padded_size(65, 64)


def test_warm_network_compiles_batches_of_one_and_the_batch_size(compile_cache_dir, monkeypatch):
    from geovec.features import extract

    tiny = tiny_weights("places205")
    monkeypatch.setattr(extract, "load_weights", lambda net, path=None: tiny)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    folder, sizes = extract.warm_network("places205", batch_size=4)
    assert folder == compile_cache_dir / compile_cache.cache_key() and sizes == [1, 4]
    assert len([e for e in entries(folder) if e.startswith("jit_forward-")]) == 2


def test_warm_network_does_nothing_with_the_cache_off(monkeypatch):
    from geovec.features import extract

    monkeypatch.setattr(extract, "load_weights", lambda *a: pytest.fail("loaded weights"))
    compile_cache.reset()
    assert extract.warm_network("places205") == (None, [])
