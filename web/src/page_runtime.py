"""The Python that runs in the page's Web Worker: the cells of a chapter, and the exercises.

Every function the page calls takes plain values and returns a JSON text. Code runs in one
namespace per page, block after block, like a notebook (and like docs/run_chapter.py, which
runs the same blocks under the tests). What a block prints goes to the page as it is
printed; the value of its last line, if it is not None, is shown the way the object shows
itself in Jupyter: a graph from `draw_dot` as SVG drawn by Graphviz in WebAssembly, any
other object by its `_repr_svg_` or `_repr_html_`, else its repr. An error is shown as the
one line the library wrote for it, with the line of the block it came from.
"""
import ast
import json
import os
import sys
import traceback
from pathlib import Path

HOME = Path("/home/pyodide")
NAMESPACE = {"__name__": "__main__"}


def start():
    """Set up the interpreter: the library draws with the page's Graphviz, the chapters'
    long runs are short by default (MICROGRAD_GPT_QUICK=1), files go in the home folder."""
    import js
    from micrograd_gpt.viz.graph import use_renderer

    def render(source, fmt):
        if fmt != "svg":
            raise ValueError(f"fmt: the page draws SVG only, not {fmt.upper()}; write .svg")
        return str(js.renderDot(source)).encode("utf-8")

    use_renderer(render)
    os.environ["MICROGRAD_GPT_QUICK"] = "1"
    os.chdir(HOME)
    sys.argv = ["micrograd-gpt"]


def answer(**fields):
    return json.dumps(fields)


def set_quick(quick):
    """The switch between the chapters' quick runs (the default) and their full runs."""
    os.environ["MICROGRAD_GPT_QUICK"] = "1" if quick else "0"
    return answer(quick=bool(quick))


def restart():
    """Forget every name the cells defined (a fresh notebook)."""
    NAMESPACE.clear()
    NAMESPACE["__name__"] = "__main__"
    return answer(ok=True)


# ---------------------------------------------------------------------------------------
# Running a cell
# ---------------------------------------------------------------------------------------
def run_cell(code, where="cell"):
    """Run `code` in the page's namespace: {"displays": [...], "error": one line or None}."""
    try:
        value = _run(code, where)
    except BaseException as error:  # noqa: BLE001 - the learner's code can raise anything
        if isinstance(error, (SystemExit, KeyboardInterrupt)) and not str(error):
            return answer(displays=[], error=f"{type(error).__name__}")
        return answer(displays=[], error=one_line_error(error, where))
    finally:
        sys.stdout.flush()
    try:
        displays = [display(value)] if value is not None else []
    except Exception as error:  # noqa: BLE001 - a picture that cannot be drawn
        return answer(displays=[], error=one_line_error(error, where))
    return answer(displays=displays, error=None)


def _run(code, where):
    """Execute the block; the value of its last line when that line is an expression."""
    tree = ast.parse(code, filename=where)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, where, "exec"), NAMESPACE)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), where, "eval"), NAMESPACE)


def one_line_error(error, where):
    """ "ValueError: lr: must be a finite number >= 0, got nan (line 3)": the library's own
    message, and the line of the block where it was raised."""
    if isinstance(error, SyntaxError) and error.filename == where:
        return f"SyntaxError: {error.msg} (line {error.lineno})"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if frame.filename == where]
    message = str(error).strip().split("\n")[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return text + (f" (line {lines[-1]})" if lines else "")


def display(value):
    """How the page shows `value`: {"kind": "svg" | "html" | "text", "data": ...}."""
    if hasattr(value, "source") and hasattr(value, "pipe"):  # a graphviz.Digraph
        from micrograd_gpt.viz.graph import pipe_graph
        return {"kind": "svg", "data": pipe_graph(value, "svg").decode("utf-8")}
    for method, kind in (("_repr_svg_", "svg"), ("_repr_html_", "html")):
        shown = getattr(value, method, None)
        if callable(shown) and not isinstance(value, type):
            data = shown()
            if isinstance(data, str) and data:
                return {"kind": kind, "data": data}
    return {"kind": "text", "data": repr(value)}


# ---------------------------------------------------------------------------------------
# Exercises: the same tutor as `micrograd-gpt exercise check`
# ---------------------------------------------------------------------------------------
def exercise_list():
    """Every exercise: number, chapter, title, file name and the stub to start from."""
    from micrograd_gpt.teaching.exercises import EXERCISES
    return json.dumps([{"number": e.number, "chapter": e.chapter, "title": e.title,
                        "filename": e.filename, "stub": e.stub.read_text(encoding="utf-8")}
                       for e in EXERCISES])


def check_exercise(number, source):
    """Save the learner's text as exercises/NN_name.py and check it as the command line
    does; the report is the text `micrograd-gpt exercise check N` prints."""
    from micrograd_gpt.teaching import exercises
    exercise = exercises.find_exercise(int(number))
    folder = Path("exercises")
    folder.mkdir(exist_ok=True)
    path = folder / exercise.filename
    path.write_text(source, encoding="utf-8")
    report = _check_here(exercises, path, exercise)
    return answer(report=str(report), passed=report.passed)


def _check_here(exercises, path, exercise):
    """Run the tutor in this interpreter (`check_here`, what `check`'s child process runs):
    there are no processes here. The page keeps itself safe instead: a check that hangs
    is stopped with its worker."""
    return exercises.check_here(path, exercise)
