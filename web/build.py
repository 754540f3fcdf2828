"""Build the course as a static web site that runs its Python in the page.

    python web/build.py --out site          # then: python -m http.server -d site

What goes in:

* the chapters (docs/*.md), the course's index (docs/README.md) and the exercises page,
  rendered by MkDocs with the Material theme, from the very Markdown the tests run: the
  only change is that a fence's extra words (`python torch`, `text output`) move into a
  list the page reads (`assets/blocks/NAME.json`), because Markdown takes one word there;
* the playground page (web/pages/playground.md);
* the package as a wheel built from this checkout, and the `graphviz` package (pure
  Python, it writes the DOT text) as a wheel;
* Pyodide (CPython in WebAssembly), Graphviz in WebAssembly (@viz-js/viz) and the
  CodeMirror 6 editor, copied from the npm packages that web/package-lock.json pins
  (installed with `npm ci`);
* the page's own code: web/src/ (JavaScript modules, the stylesheet, and the Python that
  runs in the page's Web Worker).

Why MkDocs with Material: it is pip-installable (no Node toolchain for the pages), renders
the chapters' Markdown as it is (tables, code, figures, links between chapters), and
gives navigation, search and a layout that works on a phone, all served as static files
with nothing fetched from another host (its web fonts are switched off).

Nothing is fetched from another host when the site runs: every file it needs is in the
output folder, which any static host serves.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
from run_chapter import parse_blocks  # noqa: E402  (the parser the tests run chapters with)

MARKER = ".micrograd-gpt-site"  # in every folder this script writes, so it may replace it
GRAPHVIZ_PACKAGE = "graphviz==0.21"  # the pure-Python package that writes DOT text
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                 "pyodide-lock.json")
EDITOR_ROOTS = "@codemirror/"  # the editor: these packages of package.json and what they import


def chapters():
    """The course's chapters, in order: docs/NN_*.md."""
    return sorted(DOCS.glob("[0-9][0-9]_*.md"))


def pages():
    """{page file in the site's Markdown folder: its source}, in the order of the menu."""
    found = {"index.md": DOCS / "README.md"}
    found.update({chapter.name: chapter for chapter in chapters()})
    found["exercises.md"] = DOCS / "exercises.md"
    found["playground.md"] = WEB / "pages" / "playground.md"
    return found


def title_of(path):
    """A page's menu title: its first Markdown heading."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem


# ---------------------------------------------------------------------------------------
# The Markdown pages, and the list of blocks each one has
# ---------------------------------------------------------------------------------------
def page_blocks(text):
    """The fenced blocks of a page as the page's script reads them: kind ("python",
    "output" or "other"), tags (["torch"]) and code."""
    return [{"kind": b.kind, "tags": sorted(b.tags), "code": b.code, "line": b.line}
            for b in parse_blocks(text)]


def one_word_fences(text):
    """`text` with every opening fence's info string cut to its first word (`python
    torch` -> `python`, `text output` -> `text`): Markdown renderers read one word there.
    The words cut are kept in `page_blocks`."""
    lines = text.split("\n")
    for block in parse_blocks(text):
        fence = re.match(r"^(`+)\s*(\S*)", lines[block.line - 1])
        lines[block.line - 1] = fence.group(1) + fence.group(2)
    return "\n".join(lines)


def stage_pages(docs_dir, assets):
    """Write every page's Markdown into `docs_dir` and its blocks into assets/blocks/."""
    (assets / "blocks").mkdir(parents=True)
    for name, source in pages().items():
        text = source.read_text(encoding="utf-8")
        if name == "exercises.md":
            text += '\n\n## Work on them here\n\n<div id="exercise-app"></div>\n'
        (docs_dir / name).write_text(one_word_fences(text), encoding="utf-8")
        blocks = page_blocks(text)
        (assets / "blocks" / f"{Path(name).stem}.json").write_text(
            json.dumps(blocks), encoding="utf-8")
    shutil.copytree(DOCS / "figures", docs_dir / "figures")


def mkdocs_config(docs_dir, site_dir, importmap):
    """The MkDocs settings: web/mkdocs.yml, plus the folders, the menu and the import map."""
    import yaml  # comes with MkDocs
    config = yaml.safe_load((WEB / "mkdocs.yml").read_text(encoding="utf-8"))
    config.update(docs_dir=str(docs_dir), site_dir=str(site_dir))
    config["theme"]["custom_dir"] = str(WEB / "overrides")
    config["nav"] = [{title_of(source): name} for name, source in pages().items()]
    config.setdefault("extra", {})["importmap"] = importmap
    return config


# ---------------------------------------------------------------------------------------
# What comes from npm and from Python packages
# ---------------------------------------------------------------------------------------
def run(command, cwd=ROOT, what=None):
    """Run a build step; a failure stops the build with the step's own message."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build.py: {what or command[0]} failed:\n"
                         f"{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return done.stdout


def npm_install():
    """`npm ci` in web/: exactly the versions package-lock.json pins."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("build.py: npm is not installed (Debian: apt-get install nodejs npm)")
    run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=WEB, what="npm ci")
    return WEB / "node_modules"


def copy_vendor(modules, assets):
    """Copy Pyodide, Graphviz and the editor into assets/; returns the editor's import
    map (a bare name like "@codemirror/view" -> its module file in the site)."""
    pyodide = assets / "pyodide"
    pyodide.mkdir()
    for name in PYODIDE_FILES:
        shutil.copy2(modules / "pyodide" / name, pyodide / name)
    viz = assets / "vendor" / "@viz-js" / "viz"
    viz.mkdir(parents=True)
    shutil.copy2(modules / "@viz-js" / "viz" / "dist" / "viz.js", viz / "viz.js")
    imports = {}
    for package in editor_packages(modules):
        meta = json.loads((modules / package / "package.json").read_text(encoding="utf-8"))
        entry = module_entry(meta)
        shutil.copytree(modules / package, assets / "vendor" / package,
                        ignore=shutil.ignore_patterns("*.cjs", "*.d.ts", "*.d.cts", "*.map",
                                                      "*.md", "test", "node_modules"))
        imports[package] = f"vendor/{package}/{entry.lstrip('./')}"
    return imports


def editor_packages(modules):
    """The editor's packages: the CodeMirror ones package.json names, and every package they
    depend on, in turn (read from each package's own package.json)."""
    wanted = json.loads((WEB / "package.json").read_text(encoding="utf-8"))["dependencies"]
    todo = [name for name in wanted if name.startswith(EDITOR_ROOTS)]
    found = []
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.append(name)
        meta = json.loads((modules / name / "package.json").read_text(encoding="utf-8"))
        todo.extend(meta.get("dependencies", {}))
    return sorted(found)


def module_entry(meta):
    """The ES module file of an npm package, from its package.json."""
    exports = meta.get("exports")
    if isinstance(exports, dict):
        exports = exports.get(".", exports)
        if isinstance(exports, dict):
            exports = exports.get("import") or exports.get("default")
    return meta.get("module") or (exports if isinstance(exports, str) else None) or "index.js"


def build_wheels(assets):
    """The package as a wheel built from this checkout, and the graphviz package's wheel;
    their names go in assets/wheels/wheels.json for the page's worker."""
    wheels = assets / "wheels"
    wheels.mkdir()
    pip = [sys.executable, "-m", "pip"]
    run(pip + ["wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)], what="pip wheel")
    run(pip + ["download", "--no-deps", "-q", "--only-binary", ":all:", "-d", str(wheels),
               GRAPHVIZ_PACKAGE], what="pip download graphviz")
    names = sorted(p.name for p in wheels.glob("*.whl"))
    (wheels / "wheels.json").write_text(json.dumps(names), encoding="utf-8")
    return names


def copy_page_code(assets):
    """The page's own JavaScript, stylesheet and in-page Python (web/src/)."""
    shutil.copytree(WEB / "src", assets / "web")


# ---------------------------------------------------------------------------------------
# The whole build
# ---------------------------------------------------------------------------------------
def check_out_folder(out):
    """`out` may be written: absent, empty, or a site this script built (it is replaced)."""
    out = Path(out)
    if out.resolve() in (ROOT, DOCS, WEB) or ROOT.is_relative_to(out.resolve()):
        raise SystemExit(f"build.py: --out {out} would replace the project; give another folder")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"build.py: --out {out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SystemExit(f"build.py: --out {out} is a folder with other files in it; give "
                         "an empty or new folder (a site built here before is replaced)")
    return out


def build(out):
    """Build the site into `out` (made or replaced whole, never left half-written)."""
    out = check_out_folder(out)
    modules = npm_install()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".site-build-", dir=out.parent) as scratch:
        scratch = Path(scratch)
        docs_dir, site_dir = scratch / "docs", scratch / "site"
        assets = docs_dir / "assets"
        assets.mkdir(parents=True)
        stage_pages(docs_dir, assets)
        importmap = copy_vendor(modules, assets)
        wheels = build_wheels(assets)
        copy_page_code(assets)
        render_site(scratch, docs_dir, site_dir, importmap)
        check_pages(site_dir)
        (site_dir / MARKER).write_text("built by web/build.py\n", encoding="utf-8")
        replace_folder(site_dir, out)
    return wheels


def render_site(scratch, docs_dir, site_dir, importmap):
    """Run MkDocs on the staged pages."""
    import yaml
    config_path = scratch / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(mkdocs_config(docs_dir, site_dir, importmap)),
                           encoding="utf-8")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f",
                           str(config_path)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"build.py: mkdocs failed (is it installed? pip install -e "
                         f"\".[web]\"):\n{done.stderr[-4000:]}")


def check_pages(site_dir):
    """Every fenced block of every page is on its rendered page, in order, with its text
    (the page script finds them the same way): a SystemExit naming the first one missing."""
    import html
    for name in pages():
        stem = Path(name).stem
        blocks = json.loads((site_dir / "assets" / "blocks" / f"{stem}.json").read_text())
        rendered = [html.unescape(re.sub(r"<[^>]+>", "", code)).strip() for code in
                    re.findall(r"<pre[^>]*>(.*?)</pre>",
                               (site_dir / f"{stem}.html").read_text(encoding="utf-8"), re.S)]
        at = 0
        for block in blocks:
            while at < len(rendered) and rendered[at] != block["code"].strip():
                at += 1
            if at == len(rendered):
                raise SystemExit(f"build.py: the block at line {block['line']} of {name} is "
                                 "not on its rendered page as it is in the source")
            at += 1


def replace_folder(new, out):
    """Move the finished site to `out`; an old site there goes only once the new one is
    whole."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
    shutil.move(str(new), str(out))
    if old is not None:
        shutil.rmtree(old)


def folder_size(folder):
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the folder to write the site into")
    args = parser.parse_args(argv)
    wheels = build(args.out)
    print(f"built {args.out}: {len(pages())} pages, wheels {', '.join(wheels)}, "
          f"{folder_size(args.out) / 1e6:.1f} MB; serve it with: "
          f"python -m http.server -d {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
