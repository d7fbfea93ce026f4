"""The package's layers hold: no import circle, and no module imports a room above its own
(lazy imports inside functions count too). Type-only imports (under TYPE_CHECKING) are
not imports at run time and are left out."""

import ast
from pathlib import Path

import geovec

PACKAGE = Path(geovec.__file__).parent
RANK = {  # a room may import rooms of a lower rank, and itself
    "errors": 0,
    "defaults": 0,
    "resources": 0,
    "progress": 0,
    "counts": 0,  # counts in words: "1 image", "2 images"
    "compile_cache": 0,  # XLA's persistent compilation cache: one folder per jax and device
    "geodesy": 0.25,  # the one geodesy: distances and footprints (geovec.geodesy)
    "engines": 0.25,  # the engine names and the Ray session (ingest, extract, evaluate)
    "nets": 1,
    "store": 1,
    "encoders": 1.5,  # ONNX image encoders added by the user (geovec weights add-onnx)
    "features": 2,
    "geo": 3,
    "ingestion": 4,
    "heads": 4.5,
    "analyses": 5,
    "synthetic": 5,
    "report": 6,
    "exports": 6,  # GeoParquet, COG and STAC out (geovec export), beside report
    "geovec": 6.5,  # the package's own __init__, the lazy public names: for demo and cli only
    "demo": 7,
    "explorer": 7.5,  # the web explorer (geovec serve)
    "cli": 8,
    "__main__": 9,  # python -m geovec
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "geovec"


def runtime_imports(path: Path) -> set[str]:
    """geovec modules that ``path`` imports when it runs, at top level or in functions."""
    tree = ast.parse(path.read_text())
    type_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in node.body
        for n in ast.walk(child)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("geovec")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geovec"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules}


def graph() -> dict[str, set[str]]:
    return {module_name(p): runtime_imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_room_has_a_rank():
    assert {room(m) for m in graph()} <= set(RANK)


def test_no_import_goes_up_or_sideways():
    wrong = [
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if room(target) != room(source) and RANK[room(target)] >= RANK[room(source)]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    edges = {m: {t for t in ts if t != m and t != "geovec"} for m, ts in graph().items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in edges[node]:
            if state.get(target) == 1:
                raise AssertionError(" -> ".join([*trail, node, target]))
            if target not in state:
                visit(target, [*trail, node])
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node, [])


def test_the_package_root_imports_only_bottom_modules_at_run_time():
    assert runtime_imports(PACKAGE / "__init__.py") == {"geovec.defaults", "geovec.errors"}


def test_the_package_lists_only_its_public_names():
    """dir(geovec) is the API: no helper module (importlib, typing), no submodule."""
    import geovec.errors  # noqa: F401 - a submodule, now an attribute of the package

    assert dir(geovec) == sorted(geovec.__all__)


def test_the_version_is_the_projects():
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    assert geovec.__version__ == project["version"]
