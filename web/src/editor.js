// Editable code: a CodeMirror 6 editor with Python highlighting, for the free cell and the
// exercises. (The modules come from npm, through the page's import map.)
import { EditorView, keymap, lineNumbers, highlightActiveLine } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";

// An editor inside `parent` holding `text`; `onRun` is called on Shift+Enter (or Ctrl+Enter),
// `onChange` with the new text after every edit.
export function makeEditor(parent, text, { onRun, onChange, testid } = {}) {
  const runKeys = onRun ? [
    { key: "Shift-Enter", run: () => { onRun(); return true; } },
    { key: "Mod-Enter", run: () => { onRun(); return true; } },
  ] : [];
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(), highlightActiveLine(), history(), python(),
        indentUnit.of("    "),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([...runKeys, indentWithTab, ...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorView.updateListener.of((update) => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  if (testid) view.dom.dataset.testid = testid;
  return {
    view,
    get text() { return view.state.doc.toString(); },
    set text(value) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
    },
  };
}
