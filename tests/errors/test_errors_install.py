"""Installing to test: the README's test command installs only what a user gets quickly (no
PyTorch), says in one line how to add PyTorch's CPU build, CI runs exactly that command
after installing torch, and without torch the suite passes with every comparison skipped
for a stated reason (never exit status 5, "no tests ran")."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def readme_test_command():
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.strip() for line in first_block.splitlines()
                if "python -m pytest" in line and not line.strip().startswith("#")]
    assert len(commands) == 1, commands
    return commands[0]


def requirement_names(requirements):
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_readme_test_command_installs_no_torch():
    command = readme_test_command()
    assert command == 'pip install -e ".[dev]" && python -m pytest'
    extras = re.search(r'\.\[([a-z,]+)\]', command).group(1).split(",")
    project = PYPROJECT["project"]
    installed = set(requirement_names(project["dependencies"]))
    for extra in extras:
        installed |= requirement_names(project["optional-dependencies"][extra])
    assert "torch" not in installed
    assert not any(name.startswith(("nvidia", "triton")) for name in installed)


def test_the_readme_says_how_to_add_the_cpu_build_of_torch():
    pinned = [r for r in PYPROJECT["project"]["optional-dependencies"]["torch"]
              if r.startswith("torch")]
    assert pinned == ["torch==2.13.0"]
    line = next(line for line in README.splitlines() if "download.pytorch.org" in line)
    assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in line


def test_ci_installs_torch_then_runs_exactly_the_readme_command():
    lines = [line.strip() for line in CI.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[-1] == readme_test_command()
    torch_install = next(i for i, line in enumerate(lines) if "pip install" in line
                         and "torch==2.13.0" in line)
    assert torch_install < len(lines) - 1
    assert "--index-url" not in lines[torch_install] or "whl/cpu" in lines[torch_install]


BLOCK_TORCH = "import sys\nsys.modules['torch'] = None  # `import torch` now fails\n"


@pytest.mark.slow
def test_without_torch_the_comparisons_skip_with_a_reason(tmp_path):
    (tmp_path / "no_torch.py").write_text(BLOCK_TORCH)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    files = ["tests/training/test_interop.py", "tests/training/test_optim.py", "tests/models/test_nn.py",
             "tests/autograd/test_functional.py", "tests/models/test_gpt.py", "tests/viz/test_tracing.py",
             "tests/autograd/test_value_properties.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no_torch", "-q", "-rs",
                           "-m", "not slow", "-p", "no:cacheprovider", *files],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips, "nothing was skipped: were the torch comparisons run after all?"
    for line in skips:
        reason = line.split(": ", 1)[-1].lower()
        assert "torch" in reason, line
    assert re.search(r"\d+ passed", done.stdout)
    # a file of comparisons alone is skipped, not "no tests ran" (exit status 5)
    alone = subprocess.run([sys.executable, "-m", "pytest", "-p", "no_torch", "-q",
                            "-p", "no:cacheprovider", "tests/training/test_interop.py"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stdout[-2000:]


# ---- one torch install line everywhere ----------------------------------------------------

def _places_that_talk_about_installing():
    """Every file a user reads or runs: the READMEs, the chapters and their notebooks, the
    package (its error messages), the examples, the benchmarks, the docs scripts, pyproject."""
    patterns = ["README.md", "pyproject.toml", "docs/*.md", "docs/*.py", "docs/notebooks/*.ipynb",
                "micrograd_gpt/**/*.py", "micrograd_gpt/**/*.md", "examples/*.py",
                "benchmarks/*.py"]
    found = {path for pattern in patterns for path in ROOT.glob(pattern)}
    return sorted(found - {ROOT / "micrograd_gpt" / "common" / "install.py"})  # defines it


def test_every_torch_install_line_is_the_one_line_of_the_cpu_wheel_index():
    from micrograd_gpt.common.install import INSTALL_TORCH, TORCH_CPU_INDEX, TORCH_VERSION
    assert INSTALL_TORCH == f"pip install torch=={TORCH_VERSION} --index-url {TORCH_CPU_INDEX}"
    assert TORCH_CPU_INDEX == "https://download.pytorch.org/whl/cpu"
    assert PYPROJECT["project"]["optional-dependencies"]["torch"][0] == f"torch=={TORCH_VERSION}"
    other = re.compile(r"pip3? install[^\n`'\"]*\btorch\b|\[torch\]")
    seen, wrong = 0, []
    for path in _places_that_talk_about_installing():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if INSTALL_TORCH in line or "{INSTALL_TORCH}" in line:
                seen += 1
            elif other.search(line):
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not wrong, "another way to install torch:\n" + "\n".join(wrong)
    assert seen >= 8  # README, docs/README, chapter 13, its notebook, the error messages


def test_the_error_without_torch_gives_the_line():
    from micrograd_gpt.common.install import INSTALL_TORCH
    from micrograd_gpt.training import engines
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['torch'] = None\n"
         "from micrograd_gpt.training.engines import import_torch_engine\n"
         "import_torch_engine()"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 1 and INSTALL_TORCH in done.stderr.splitlines()[-1]
    assert engines.INSTALL_TORCH == INSTALL_TORCH


def test_the_license_file_is_the_one_pyproject_names():
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) micrograd_gpt contributors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
