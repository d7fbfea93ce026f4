"""Every command of the command line, walked with hostile arguments: missing paths, a
folder where a file is expected and the reverse, files of the wrong kind (a PNG as a
manifest, text as a caffemodel), empty and malformed CSVs, a damaged store, text where
numbers go. Each ends in one line on stderr, never a traceback: exit status 1 when the
work fails, 2 when the command line does not parse (click's and POSIX's "used wrongly").

The commands are read from the Typer app, so a new command is walked without a word
here; a new path parameter must say what it is (ROLES) before the walk passes.
"""

from __future__ import annotations

import contextlib
import errno
import inspect
import os
import shutil
import signal
import subprocess
import types
import typing
from pathlib import Path

import numpy as np
import pytest
import typer.main
from typer.testing import CliRunner

from geovec.cli import app
from tests import caffe_writer
from tests.images import noise_image, simple_manifest, write_manifest
from tests.stores import store_from_arrays

runner = CliRunner()


def leaf_commands(group=None, prefix=()):
    group = group or typer.main.get_command(app)
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):
            yield from leaf_commands(cmd, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), cmd


def parameters(cmd) -> list[tuple[str, str | None, type, bool, bool]]:
    """(name, option flag or None for an argument, base type, required, many) of each of a
    command's parameters, the types read from the function's annotations."""
    hints = typing.get_type_hints(inspect.unwrap(cmd.callback))
    found = []
    for param in cmd.params:
        if param.name == "help":
            continue
        hint = hints[param.name]
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        many = typing.get_origin(hint) is list
        base = typing.get_args(hint)[0] if many else hint
        option = param.opts[0] if param.param_type_name == "option" else None
        found.append((param.name, option, base, param.required, many))
    return found


# what each path parameter is: its valid value and its hostile ones come from its role
ROLES = {
    ("ingest", "db"): "new_store",
    ("ingest", "source"): "manifest",
    ("localize", "ground_image"): "image",
    ("search", "aerial_image"): "image",
    ("cutouts", "panoramas"): "image",
    ("aerial", "paths"): "aerial",
    ("landcover", "truth"): "csv",
    ("evaluate", "head"): "model_file",
    ("evaluate", "by"): "layer",
    ("regions", "from_layer"): "layer",
    ("ingest", "regions"): "layer",
    ("grid", "regions"): "layer",
    ("aerial", "regions"): "layer",
    ("evaluate", "check"): "results",
    ("localize", "head"): "model_file",
    ("embed", "head"): "model_file",
    ("weights add-onnx", "model"): "model_file",
    ("weights convert", "caffemodel"): "caffemodel",
    ("weights convert", "mean"): "mean",
    ("weights convert", "labels"): "csv",
    ("dataset", "root"): "folder",
    ("localize", "heatmap"): "out_png",
    ("search", "out"): "out_png",
    ("landcover", "out"): "out_png",
    ("grid", "out"): "out_csv",
    ("dataset", "out"): "out_parquet",
    ("export", "out"): "out_parquet",
    ("export", "stac"): "out_folder",
    ("train", "out"): "out_head",
    ("weights convert", "out"): "out_weights",
    ("coverage", "out"): "out_png",
    ("evaluate", "out"): "out_folder",
    ("compare", "out"): "out_folder",
    ("classify", "out"): "out_folder",
    ("cutouts", "out"): "out_folder",
    ("aerial", "out"): "out_folder",
    ("synth", "directory"): "out_folder",
    ("demo", "directory"): "out_folder",
}


def role(command: str, name: str) -> str | None:
    return ROLES.get((command, name), "store" if name == "db" else None)


# valid values of the required parameters that are not paths (a fast, working baseline)
TEXT = {
    "query": "select id from ground",
    "ident": "q1",
    "name": "cvusa",
    "bbox": "-79.95,32.77,-79.94,32.78",
    "features": "gist",
    "ground_feature": "gist",
    "net": "caffenet",
}
BASELINE_OPTIONS = {"feature": "gist"}
"""Optional parameters that the baseline sets: the tiny store has GIST features only."""
BASELINE_ARGUMENTS = {("evaluate", "db")}
"""Optional arguments that the baseline gives as if required (evaluate's DB is optional
for --check RESULTS.json alone)."""
# hostile text for the parameters that take text (every one also gets "nonsense")
HOSTILE_TEXT = {
    "query": ["selec id", "select * from nothere", "select 1; select 2", ""],
    "bbox": ["a,b,c,d", "1,2,3", "10,10,0,0", "0,-95,1,95"],
    "near": ["x", "1,2", "-79.9,32.7,-5", "500,32.7,100"],
    "size": ["12", "axb", "0x0", "-8x6"],
    "headings": ["x", "90,,"],
    "crs": ["EPSG:0", "+proj=nonsense"],
    "feature": ["nope", ",", "gist,nope"],
    "features": ["nope", ",", "gist,nope"],
    "ground_feature": ["nope"],
    "overhead_feature": ["nope"],
    "ident": ["nope", ""],
    "host": ["no.such.host.invalid", "256.1.1.1"],
    "ray_address": ["nonsense:0"],
}
HOSTILE_NUMBERS = {int: ["abc", "1.5", "-1", "0"], float: ["abc", "-1", "nan", "inf"]}
COSTLY = {
    "demo": "a valid run is the whole demo",
    "synth": "a valid run writes a world",
    "serve": "a valid run serves until stopped",
    "ingest": "a valid run extracts features",
    "extract": "a valid run extracts features",
    "train": "a valid run trains a head",
    "search": "every run computes the query image's GIST first (an XLA compile)",
}
"""Commands whose valid run is long (or never ends): numbers are tried only as text where
numbers go ("abc"), which fails before any work."""
ACCEPTED = {
    ("ingest", "source", "folder"): "a folder's unreadable images become failure rows",
    ("ingest", "source", "empty_folder"): "an empty folder ingests nothing, and says so",
    ("ingest", "source", "words"): "a manifest's bad rows become failure rows",
    ("evaluate", "split", "nonsense"): "the map protocol has no splits (--split is for pairs)",
    ("compare", "split", "nonsense"): "the map protocol has no splits (--split is for pairs)",
    ("serve", "db", "damaged"): "the explorer reads tables per request: each answers 400 "
    "with the error in one line",
    ("serve", "db", "empty_folder"): "an empty store is served empty",
    ("regions", "set_name", "nonsense"): "any text names a region",
    ("grid", "region", "nonsense"): "any text names a region",
    ("aerial", "region", "nonsense"): "any text names a region",
}
"""Hostile-looking values that are right where they stand: (command, parameter, value)."""


def is_note(line: str) -> bool:
    """A line a command writes on stderr as it works: ingest names the features, then
    shows its progress bar (the last frame stays when it stops)."""
    return line.startswith("features: ") or "images/s" in line


def walk_store(path: Path):
    """A tiny store that every analysis runs on: a 3 x 3 block of 480 m map tiles, three
    training pairs and two isolated queries, 512 GIST values each (as a query image's)."""
    rng = np.random.default_rng(0)
    gist = lambda: rng.random(512, dtype=np.float32)  # noqa: E731
    tiles = [
        (
            {"id": f"t{i}{j}", "region": "r", "lon": 0.005 * i, "lat": 0.005 * j, "size_m": 480.0},
            gist(),
        )
        for i in range(3)
        for j in range(3)
    ]
    pairs = [(f"a{i}", 0.004 * i, 0.006) for i in range(3)]
    ground = [
        ({"id": i, "region": "r", "lon": lon, "lat": lat, "isolated": False, "pair": i}, gist())
        for i, lon, lat in pairs
    ]
    ground += [
        ({"id": "q1", "region": "r", "lon": 0.0, "lat": 0.0, "isolated": True}, gist()),
        ({"id": "q2", "region": "r", "lon": 0.01, "lat": 0.01, "isolated": True}, gist()),
    ]
    overhead = [({"id": i, "region": "r", "lon": lon, "lat": lat}, gist()) for i, lon, lat in pairs]
    return store_from_arrays(path, ground, overhead, tiles)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every kind of file the walk hands to commands, made once."""
    root = tmp_path_factory.mktemp("hostile")
    walk_store(root / "db").close()
    damaged = root / "damaged"
    shutil.copytree(root / "db", damaged)
    for data in damaged.glob("*.lance/data/*.lance"):  # every table loses its data file
        data.unlink()
    png = root / "image.png"
    noise_image(1).save(png)
    text = root / "notes.txt"
    text.write_text("this is plain text, not what was asked for\n")
    bare = root / "passwd"  # a file without a suffix (geovec aerial /etc/passwd ...)
    bare.write_text("root:x:0:0:root:/root:/bin/bash\n")
    empty = root / "empty.csv"
    empty.write_bytes(b"")
    malformed = root / "malformed.csv"
    malformed.write_text('id,path,lon,lat\n"a,b\n1,2,3,4,5,6\n')
    words = write_manifest(
        root / "words.csv",
        [{"id": "a", "path": "image.png", "view": "ground", "lon": "west", "lat": "north"}],
    )
    png_manifest = root / "manifest.csv.png"
    shutil.copy(png, png_manifest)
    png_as_csv = root / "picture.csv"
    shutil.copy(png, png_as_csv)
    text_tif = root / "notes.tif"
    text_tif.write_text("not a raster")
    text_parquet = root / "notes.parquet"
    text_parquet.write_text("not parquet")
    text_geojson = root / "notes.geojson"
    text_geojson.write_text("{ not json")
    folder = root / "folder"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    empty_folder = root / "empty_folder"
    empty_folder.mkdir()
    model = root / "bad.caffemodel"
    model.write_bytes(caffe_writer.caffemodel({}))
    text_model = root / "notes.caffemodel"
    text_model.write_text("this is not protobuf")
    points = root / "points.csv"
    points.write_text("id,lon,lat\np1,-79.94,32.78\n")
    mean = root / "mean.npy"
    np.save(mean, np.full((3, 4, 4), 110.0))
    made = {k: v for k, v in locals().items() if isinstance(v, Path)}
    made["manifest"] = simple_manifest(root / "world", 2)
    made["store"] = root / "db"
    made["missing"] = root / "no" / "such" / "thing"
    made["under_file"] = text / "inside"  # a path below a file: ENOTDIR
    made["proc"] = Path("/proc/no-such-geovec-folder/out.png")  # cannot be made: ENOENT
    return made


def valid_value(kind: str, files: dict[str, Path], tmp: Path) -> list[str]:
    """A valid value of a path role (outputs: a new path in ``tmp``)."""
    outputs = {
        "out_png": "out.png",
        "out_csv": "out.csv",
        "out_parquet": "out.parquet",
        "out_head": "head.safetensors",
        "out_weights": "w.safetensors",
        "out_folder": "out",
    }
    if kind in outputs:
        return [str(tmp / outputs[kind])]
    if kind in ("store", "new_store"):
        copy = tmp / "db"
        if not copy.exists():
            shutil.copytree(files["store"], copy)
        return [str(copy)]
    if kind == "aerial":
        return [str(files["text_tif"]), str(files["points"])]
    named = {"model_file": "text", "folder": "empty_folder", "caffemodel": "model", "csv": "points"}
    return [str(files[named.get(kind, "png" if kind == "image" else kind)])]


HOSTILE_FILES = {  # by role: names of files made by the ``files`` fixture
    "store": ["missing", "under_file", "text", "png", "damaged", "empty_folder"],
    "new_store": ["under_file", "text", "damaged", "proc"],
    "manifest": [
        "missing",
        "under_file",
        "folder",
        "empty_folder",
        "png_manifest",
        "png_as_csv",
        "empty",
        "malformed",
        "words",
        "text_parquet",
        "text_geojson",
        "text",
    ],
    "image": ["missing", "under_file", "folder", "text", "empty", "bare"],
    "csv": ["missing", "under_file", "folder", "png", "empty", "malformed", "text"],
    "model_file": ["missing", "under_file", "folder", "text", "png", "empty"],
    "caffemodel": ["missing", "under_file", "folder", "text_model", "png", "empty"],
    "mean": ["missing", "under_file", "folder", "text", "png"],
    "folder": ["missing", "under_file", "text", "png", "empty_folder", "folder"],
    "out_folder": ["text", "under_file", "proc"],
    "layer": ["missing", "under_file", "folder", "text", "png", "empty", "text_geojson"]
    + ["text_parquet"],
    "results": ["missing", "under_file", "folder", "text", "png", "empty", "text_geojson"],
}
AERIAL_SOURCES = ["missing", "bare", "png", "text_tif", "empty_folder", "folder"]
POINT_TABLES = ["missing", "png", "empty", "malformed", "words", "folder"]


def hostile_values(kind: str, f: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(label, words) of each hostile value of a path role (several words for aerial)."""
    if kind == "aerial":
        return [(s, [str(f[s]), str(f["points"])]) for s in AERIAL_SOURCES] + [
            (f"points:{t}", [str(f["text_tif"]), str(f[t])]) for t in POINT_TABLES
        ]
    names = HOSTILE_FILES.get(kind) or ["empty_folder", "under_file", "proc"]  # out files
    return [(name, [str(f[name])]) for name in names]


def invocations(command: str, cmd, files: dict[str, Path], tmp: Path):
    """(words, (parameter, label)) of every hostile variant of one command: a valid
    baseline with one parameter replaced by a hostile value."""
    params = parameters(cmd)
    base: dict[str, list[str]] = {}
    for name, option, kind, required, _many in params:
        if not required and (command, name) not in BASELINE_ARGUMENTS:
            if name in BASELINE_OPTIONS and option:
                base[name] = [option, BASELINE_OPTIONS[name]]
            continue
        if kind is Path:
            if role(command, name) is None:
                pytest.fail(f"geovec {command} {name}: say what this path is in ROLES")
            value = valid_value(role(command, name), files, tmp)
        elif kind in (int, float):
            value = ["1"]
        else:
            value = [TEXT.get(name, "x")]
        base[name] = [option, *value] if option else value

    def words(name: str, option: str | None, value: list[str]) -> list[str]:
        merged = {**base, name: [option, *value] if option else value}
        options = [w for n, o, *_ in params if o and n in merged for w in merged[n]]
        arguments = [w for n, o, *_ in params if not o and n in merged for w in merged[n]]
        return [*command.split(), *options, "--", *arguments]

    for name, option, kind, _required, _many in params:
        if kind is bool:
            continue
        if kind is Path:
            if role(command, name) is None:
                pytest.fail(f"geovec {command} {name}: say what this path is in ROLES")
            values = hostile_values(role(command, name), files)
        elif kind in (int, float):
            numbers = ["abc"] if command in COSTLY else HOSTILE_NUMBERS[kind]
            values = [(v, [v]) for v in numbers]
        else:
            values = [(v, [v]) for v in ["nonsense", *HOSTILE_TEXT.get(name, [])]]
        for label, value in values:
            yield words(name, option, value), (name, label)


def test_every_path_parameter_has_a_role():
    missing = [
        f"{command} {name}"
        for command, cmd in leaf_commands()
        for name, _o, kind, *_ in parameters(cmd)
        if kind is Path and role(command, name) is None
    ]
    assert not missing, f"say what these paths are in ROLES: {missing}"


def one_line_failure(result) -> str | None:
    """None when ``result`` failed in one line on stderr (besides the command's notes)
    with exit status 1 or 2, without a traceback; else what is wrong with it."""
    if "Traceback" in result.output or (
        result.exception is not None and not isinstance(result.exception, SystemExit)
    ):
        return f"raised {type(result.exception).__name__}: {result.exception}"
    if result.exit_code not in (1, 2):
        return f"exit status {result.exit_code}: {result.output.strip()[:300]}"
    lines = [line for line in result.stderr.splitlines() if not is_note(line)]
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"{len(lines)} lines on stderr: {result.stderr.strip()[:300]}"
    return None


async def _stop_at_once(server) -> None:
    """uvicorn's main loop, ended at once: a server that binds stops instead of serving."""


class Hung(Exception):
    pass


def _hung(signum, frame):
    raise Hung("a hostile variant ran for a minute (a server that started?)")


@pytest.mark.parametrize("command", [c for c, _ in leaf_commands()])
def test_hostile_arguments_end_in_one_line(command, files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with contextlib.suppress(ImportError):  # a served explorer stops once it is up
        import uvicorn

        monkeypatch.setattr(uvicorn.Server, "main_loop", _stop_at_once)
    cmd = dict(leaf_commands())[command]
    wrong = []
    previous = signal.signal(signal.SIGALRM, _hung)
    try:
        for words, (name, label) in invocations(command, cmd, files, tmp_path):
            signal.alarm(60)
            result = runner.invoke(app, words, prog_name="geovec")
            signal.alarm(0)
            if (command, name, label) in ACCEPTED and result.exit_code == 0:
                continue
            problem = one_line_failure(result)
            if problem:
                wrong.append(f"geovec {' '.join(words)}  [{name}={label}]: {problem}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not wrong, "\n".join(wrong)


LANCE_ENOSPC = (  # what Lance raised on a full 64 kB tmpfs (lance-file 13)
    "lance error: LanceError(IO): No space left on device (os error 28), "
    "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lance-file-13.0.0/src/"
    "writer/structural.rs:258:9"
)


@pytest.mark.parametrize(
    "full",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        RuntimeError(LANCE_ENOSPC),
    ],
    ids=["oserror", "lance"],
)
def test_a_full_disk_mid_ingest_keeps_the_committed_chunks(full, files, tmp_path, monkeypatch):
    """The disk fills at the second chunk's commit: one line naming the store, status 1,
    the first chunk's rows kept; the same command, run again, adds the rest once (tried
    once: the resume does not depend on how the error was worded)."""
    from geovec.store.database import Store

    manifest = simple_manifest(tmp_path / "world", 6)
    db = tmp_path / "db"
    commits = []
    real_append = Store.append

    def append(self, view, rows):
        if view == "ground":
            commits.append(rows.num_rows)
            if len(commits) == 2:
                raise full
        return real_append(self, view, rows)

    monkeypatch.setattr(Store, "append", append)
    words = ["ingest", str(db), str(manifest), "--features", "gist", "--batch-size", "1"]
    result = runner.invoke(app, words, prog_name="geovec")
    assert one_line_failure(result) is None, result.output
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {db}: no space left on device (free some space and run it again)"
    )
    import geovec

    assert geovec.open(db).count("ground") == commits[0] == 4  # a chunk: 4 batches of 1
    if isinstance(full, RuntimeError):
        return
    monkeypatch.setattr(Store, "append", real_append)
    again = runner.invoke(app, words, prog_name="geovec")
    assert again.exit_code == 0, again.output
    ids = geovec.open(db).read("ground", ["id"]).column("id").to_pylist()
    assert sorted(ids) == [f"g{i}" for i in range(6)]


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` and every folder in it unwritable while the block runs: by its mode, or
    for root (whom modes do not stop) by the immutable attribute; skipped where neither
    holds."""
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    if os.geteuid() != 0:
        for f in folders:
            f.chmod(0o555)
        try:
            yield
        finally:
            for f in folders:
                f.chmod(0o755)
        return
    try:
        made = subprocess.run(["chattr", "+i", *map(str, folders)], capture_output=True)
    except FileNotFoundError:
        made = None
    if made is None or made.returncode:
        subprocess.run(["chattr", "-i", *map(str, folders)], capture_output=True)
        pytest.skip("root, and no chattr +i here: no folder is read-only to this test")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, folders)], check=True)


@pytest.mark.parametrize("command", [["isolate"], ["sql", "--write", "delete from ground"]])
def test_a_read_only_store_is_one_line_and_keeps_its_rows(command, files, tmp_path):
    import geovec

    db = tmp_path / "db"
    shutil.copytree(files["store"], db)
    before = geovec.open(db).read("ground").sort_by("id")
    words = [command[0], str(db), *command[1:]]
    with read_only(db):
        result = runner.invoke(app, words, prog_name="geovec")
    assert one_line_failure(result) is None, result.output
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert str(db) in line and ("permission denied" in line or "not permitted" in line), line
    assert geovec.open(db).read("ground").sort_by("id").equals(before)
