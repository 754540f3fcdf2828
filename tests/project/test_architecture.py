"""The package's shape: layers enforced by import-linter, a core that needs nothing optional,
commands that load only what they use, a tidy top-level namespace, short functions."""
import ast
import importlib
import types
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

import micrograd_gpt

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "micrograd_gpt"


def python(code, cwd=ROOT, **kwargs):
    """Run `code` in a fresh Python that imports this checkout; returns the finished process."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kwargs)


# ---- layers ------------------------------------------------------------------------------

LAYER_FOLDERS = ["cli", "teaching", "viz", "training", "models", "autograd", "common"]


def lint_imports(cwd, pythonpath):
    """Run `lint-imports` on the package at `cwd`; under CI a missing linter is a failure."""
    if shutil.which("lint-imports") is None:
        if os.environ.get("CI"):
            pytest.fail("import-linter is missing under CI: the layers would go unchecked")
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "PYTHONPATH": str(pythonpath)}
    return subprocess.run(["lint-imports", "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=env)


def test_the_layer_contracts_hold():
    done = lint_imports(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def contract_layers():
    """The layer folders, top first, as the import-linter contract in pyproject.toml names them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"]
                    if c["type"] == "layers")
    return [[part.strip().removeprefix("micrograd_gpt.") for part in layer.split(":")]
            for layer in contract["layers"]]


def test_every_folder_of_the_package_is_a_layer_of_the_contract():
    named = {folder for layer in contract_layers() for folder in layer} - {"__main__"}
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert folders == named == set(LAYER_FOLDERS)
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in
                   ("__init__.py", "__main__.py"))
    assert not loose, f"every module lives in a layer folder; loose: {loose}"


def test_the_readme_and_the_package_docstring_draw_the_layers_of_the_contract():
    """One source of truth: the pictures list the contract's folders, top to bottom."""
    order = [folder for layer in contract_layers() for folder in layer if folder != "__main__"]
    for text in ((ROOT / "README.md").read_text(encoding="utf-8"), micrograd_gpt.__doc__):
        drawn = re.findall(r"^\s*(\w+)/\s", text, flags=re.M)
        drawn = [name for name in drawn if name in order]
        assert drawn == order, drawn


def copy_of_the_package(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "micrograd_gpt",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path / "micrograd_gpt"


@pytest.mark.slow
@pytest.mark.parametrize("module, upward_import", [
    ("autograd/value.py", "from ..viz import graph"),         # autograd reaching up to viz
    ("models/nn.py", "from ..training.loop import train"),    # models reaching up to training
    ("training/loop.py", "from ..cli import main"),           # training reaching up to the cli
    ("autograd/functional.py", "import graphviz"),            # autograd importing graphviz
])
def test_an_upward_import_breaks_the_build(tmp_path, module, upward_import):
    """The contracts can fail: a copy of the package with one upward import is refused."""
    path = copy_of_the_package(tmp_path) / module
    path.write_text(path.read_text() + f"\n{upward_import}  # an upward import\n")
    done = lint_imports(tmp_path, tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert f"micrograd_gpt.{module[:-3].replace('/', '.')} ->" in done.stdout


@pytest.mark.slow
def test_a_new_file_is_inside_its_layer_by_being_in_its_folder(tmp_path):
    """A new module importing numpy, beside the GPT and imported by it, breaks a contract,
    though no list in pyproject.toml names it."""
    package = copy_of_the_package(tmp_path)
    (package / "models" / "fast_math.py").write_text("import numpy\n")
    gpt = package / "models" / "gpt.py"
    gpt.write_text(gpt.read_text() + "\nfrom . import fast_math  # a new helper\n")
    done = lint_imports(tmp_path, tmp_path)
    assert done.returncode != 0, done.stdout
    assert "micrograd_gpt.models.fast_math -> numpy" in done.stdout


# ---- nothing optional in the core, nothing extra in a command ---------------------------

BLOCK_GRAPHVIZ = "import sys; sys.modules['graphviz'] = None\n"  # `import graphviz` now fails


def test_the_core_imports_without_graphviz():
    done = python(BLOCK_GRAPHVIZ + (
        "from micrograd_gpt import Value, GPT, GPTConfig, gradcheck, no_grad\n"
        "a = Value(2.0); b = a * a + a; b.backward(); assert a.grad == 5.0\n"
        "assert gradcheck(lambda x: x.tanh(), [0.3]).passed\n"
        "print(sorted(m for m in sys.modules if m.startswith(('micrograd_gpt.', 'torch'))))\n"))
    assert done.returncode == 0, done.stderr
    loaded = done.stdout
    for heavy in ("micrograd_gpt.viz.graph", "micrograd_gpt.training.loop", "torch"):
        assert f"'{heavy}" not in loaded


def test_drawing_without_graphviz_says_what_to_install():
    done = python(BLOCK_GRAPHVIZ + (
        "from micrograd_gpt import Value, draw_dot, GraphvizNotInstalled\n"
        "try:\n    draw_dot(Value(1.0) * 2)\n"
        "except GraphvizNotInstalled as e:\n    print('refused:', e)\n"))
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "pip install graphviz" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--help"], ["demo"], ["sample", "--help"]])
def test_commands_load_only_what_they_use(argv):
    done = python(
        "import sys, io, contextlib\nfrom micrograd_gpt.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    try:\n        main({argv!r})\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('micrograd_gpt', 'graphviz'))))")
    assert done.returncode == 0, done.stderr
    for unwanted in ("micrograd_gpt.viz.graph", "micrograd_gpt.viz.tracing", "graphviz"):
        assert f"'{unwanted}'" not in done.stdout, (argv, done.stdout)
    if argv != ["sample", "--help"]:
        assert "'micrograd_gpt.training.loop'" not in done.stdout


# ---- the top-level namespace ---------------------------------------------------------------

def test_importing_the_package_loads_no_submodule():
    done = python("import sys, micrograd_gpt\n"
                  "print([m for m in sys.modules if m.startswith('micrograd_gpt.')])")
    # only the few lines that make the lazy exports
    expected = "['micrograd_gpt.common', 'micrograd_gpt.common.lazy']"
    assert done.stdout.strip() == expected, done.stdout + done.stderr


def test_every_exported_name_resolves_and_no_module_is_hidden():
    for package in [micrograd_gpt] + [importlib.import_module(f"micrograd_gpt.{folder}")
                                      for folder in LAYER_FOLDERS if folder != "common"]:
        for name in getattr(package, "__all__", ()):
            value = getattr(package, name)
            if isinstance(value, types.ModuleType):  # a module export is named for its file
                assert value.__name__.rsplit(".", 1)[-1] == name, (package, name)
            else:
                assert value is not None, (package, name)
    with pytest.raises(AttributeError):
        micrograd_gpt.no_such_name  # noqa: B018


# ---- short functions -------------------------------------------------------------------------

def test_no_library_function_is_longer_than_50_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 50:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long, "split these along the story (prepare, run, report): " + ", ".join(long)
