// A block's source in CodeMirror 6: Python, SQL or Rust highlighting, Ctrl/Cmd-S saves, and
// the line a build error points at marked in the gutter and underlined.

import { python } from "@codemirror/lang-python";
import { rust } from "@codemirror/lang-rust";
import { sql } from "@codemirror/lang-sql";
import { linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useRef } from "react";

/** The syntax of a block's language. */
function languageOf(language: string): Extension {
  if (language === "python") return python();
  if (language === "sql") return sql();
  if (language === "rust") return rust();
  return [];
}

/** The diagnostics of an error at `line` (1-based) of `doc`. */
export function diagnosticsAt(state: EditorState, line: number | null, message: string | null): Diagnostic[] {
  if (!message) return [];
  const n = Math.min(Math.max(line ?? 1, 1), state.doc.lines);
  const l = state.doc.line(n);
  return [{ from: l.from, to: Math.max(l.to, l.from), severity: "error", message }];
}

export interface EditorProps {
  /** The text when the editor opens, or when it is replaced from outside (`generation`). */
  text: string;
  /** Bumped to replace the editor's text with `text` (a reload from disk). */
  generation: number;
  language: string;
  readOnly?: boolean;
  /** A build error to show, at its line. */
  error?: { line: number | null; message: string } | null;
  onChange: (text: string) => void;
  onSave: () => void;
}

export default function Editor({ text, generation, language, readOnly, error, onChange, onSave }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const errorRef = useRef(error);
  errorRef.current = error;
  const lint = useRef(new Compartment());
  const handlers = useRef({ onChange, onSave });
  handlers.current = { onChange, onSave };

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: text,
        extensions: [
          basicSetup,
          languageOf(language),
          EditorState.readOnly.of(!!readOnly),
          keymap.of([
            {
              key: "Mod-s",
              preventDefault: true,
              run: () => {
                handlers.current.onSave();
                return true;
              },
            },
          ]),
          lintGutter(),
          lint.current.of([]),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) handlers.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => v.destroy();
    // The editor is made once per block; new text arrives through `generation`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [language, readOnly]);

  useEffect(() => {
    const v = view.current;
    if (!v || v.state.doc.toString() === text) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [generation]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const e = error ?? null;
    v.dispatch({
      effects: lint.current.reconfigure(
        e ? linter((view) => diagnosticsAt(view.state, e.line, e.message), { delay: 0 }) : [],
      ),
    });
  }, [error]);

  return <div className="editor" ref={host} data-testid="editor" />;
}
