"""The package's shape: layers enforced by import-linter, a core that needs nothing optional,
commands that load only what they use, a tidy top-level namespace, short functions."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd_gpt

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "micrograd_gpt"


def python(code, cwd=ROOT, **kwargs):
    """Run `code` in a fresh Python that imports this checkout; returns the finished process."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kwargs)


# ---- layers ------------------------------------------------------------------------------

def lint_imports(cwd, pythonpath):
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "PYTHONPATH": str(pythonpath)}
    return subprocess.run(["lint-imports", "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=env)


def test_the_layer_contracts_hold():
    done = lint_imports(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("module, upward_import", [
    ("engine.py", "from . import viz"),            # core reaching up to looking
    ("nn.py", "from .train import train"),        # model reaching up to training
    ("train.py", "from .cli import main"),         # training reaching up to the edge
    ("functional.py", "import graphviz"),          # the core importing an optional package
])
def test_an_upward_import_breaks_the_build(tmp_path, module, upward_import):
    """The contracts can fail: a copy of the package with one upward import is refused."""
    shutil.copytree(PACKAGE, tmp_path / "micrograd_gpt",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "micrograd_gpt" / module
    path.write_text(path.read_text() + f"\n{upward_import}  # an upward import\n")
    done = lint_imports(tmp_path, tmp_path)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert f"micrograd_gpt.{module[:-3]} ->" in done.stdout


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
    for heavy in ("micrograd_gpt.viz", "micrograd_gpt.train", "torch"):
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
    for unwanted in ("micrograd_gpt.viz", "micrograd_gpt.trace", "graphviz"):
        assert f"'{unwanted}'" not in done.stdout, (argv, done.stdout)
    if argv != ["sample", "--help"]:
        assert "'micrograd_gpt.train'" not in done.stdout


# ---- the top-level namespace ---------------------------------------------------------------

def test_importing_the_package_loads_no_submodule():
    done = python("import sys, micrograd_gpt\n"
                  "print([m for m in sys.modules if m.startswith('micrograd_gpt.')])")
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_every_exported_name_resolves_and_no_module_is_hidden():
    modules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()
                                                       if (p / "__init__.py").exists()}
    for name in micrograd_gpt.__all__:
        value = getattr(micrograd_gpt, name)
        if name in modules:  # a name that is also a module must be that module
            assert getattr(value, "__name__", None) == f"micrograd_gpt.{name}", name
    assert "trace" not in micrograd_gpt.__all__ or micrograd_gpt.trace.__name__ == \
        "micrograd_gpt.trace"
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
