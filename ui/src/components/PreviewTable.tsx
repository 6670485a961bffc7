// The first rows of a block's output: column names with their types and null counts, values
// as text (binary values and long texts arrive already shortened by the server).

import type { Preview } from "../api";

/** A cell's value as text. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function PreviewTable({ preview }: { preview: Preview }) {
  return (
    <div className="preview" data-testid="preview" data-rows={preview.rows}>
      <p className="muted">
        {preview.rows.toLocaleString()} rows · {preview.columns.length} columns
        {preview.head.length < preview.rows ? ` · first ${preview.head.length} shown` : ""}
      </p>
      <div className="preview-scroll">
        <table>
          <thead>
            <tr>
              {preview.columns.map((c) => (
                <th key={c.name} title={`${c.type}, ${c.nulls} null`}>
                  {c.name}
                  <span className="col-type">
                    {c.type}
                    {c.nulls ? ` · ${c.nulls.toLocaleString()} null` : ""}
                  </span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {preview.head.map((row, i) => (
              <tr key={i}>
                {preview.columns.map((c) => {
                  const v = row[c.name];
                  return (
                    <td key={c.name} className={v === null || v === undefined ? "null" : undefined}>
                      {v === null || v === undefined ? "null" : cellText(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
