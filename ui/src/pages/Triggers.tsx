// Triggers: schedules with their next ticks, API triggers with their routes; an API token is
// issued (or rotated) here and shown once, with a curl line that uses it.

import { useCallback, useEffect, useState } from "react";
import { api, type TriggerView } from "../api";
import { ErrorBox, Header } from "../components";

/** The curl line that starts a run through an API trigger. */
export function curlLine(origin: string, path: string, token: string): string {
  return `curl -X POST ${origin}${path} -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '{}'`;
}

function When({ iso }: { iso: string | null }) {
  if (!iso) return <span className="muted">—</span>;
  const d = new Date(iso);
  return <time dateTime={iso}>{d.toLocaleString()}</time>;
}

export function TriggersPage() {
  const [triggers, setTriggers] = useState<TriggerView[] | null>(null);
  const [issued, setIssued] = useState<{ key: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    api
      .triggers()
      .then((r) => setTriggers(r.triggers))
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  async function issue(t: TriggerView) {
    if (t.has_token && !window.confirm(`Rotate the token of ${t.pipeline}/${t.name}? The current one stops working at once.`)) return;
    try {
      const { token } = await api.issueToken(t.pipeline, t.name);
      setIssued({ key: `${t.pipeline}/${t.name}`, token });
      setCopied(false);
      load();
    } catch (e) {
      setError(e);
    }
  }

  async function pause(t: TriggerView) {
    try {
      await api.pauseTrigger(t.pipeline, t.name, !t.paused);
      load();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <main className="page">
      <Header title="Triggers" sub="What starts pipelines besides a person: schedules and API calls (pipelines/<name>/triggers.yaml)." />
      <ErrorBox error={error} />
      <table className="grid" data-testid="triggers">
        <thead>
          <tr>
            <th>Pipeline</th>
            <th>Trigger</th>
            <th>Type</th>
            <th>Schedule / route</th>
            <th>Next tick</th>
            <th title="The latest tick the scheduler has handled (fired, or skipped by catch-up)">Handled up to</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {triggers?.map((t) => {
            const key = `${t.pipeline}/${t.name}`;
            const shown = issued?.key === key ? issued : null;
            return [
              <tr key={key} data-trigger={key}>
                <td>{t.pipeline}</td>
                <td className="strong" title={t.description ?? ""}>
                  {t.name}
                </td>
                <td>
                  <span className="chip">{t.type}</span>
                </td>
                <td>
                  {t.type === "schedule" ? (
                    <>
                      <code>{t.cron}</code> <span className="muted">{t.timezone}</span>
                      {t.catch_up ? <span className="muted"> · catch-up {t.catch_up}</span> : null}
                    </>
                  ) : (
                    <code>POST {t.path}</code>
                  )}
                </td>
                <td data-testid="next">
                  {t.paused ? <span className="badge status-cancelled">paused</span> : <When iso={t.next} />}
                </td>
                <td>
                  <When iso={t.last_tick} />
                </td>
                <td className="right">
                  <button onClick={() => pause(t)} data-testid="pause" aria-pressed={t.paused}>
                    {t.paused ? "Resume" : "Pause"}
                  </button>{" "}
                  {t.type === "api" ? (
                    <button onClick={() => issue(t)} data-testid="issue">
                      {t.has_token ? "Rotate token" : "Create token"}
                    </button>
                  ) : null}
                </td>
              </tr>,
              shown && t.path ? (
                <tr key={`${key}-token`} className="token-row">
                  <td colSpan={7}>
                    <p>
                      New token for <b>{key}</b>, shown this once (the server keeps only its hash):
                    </p>
                    <code className="token" data-testid="token">
                      {shown.token}
                    </code>
                    <pre className="curl" data-testid="curl">
                      {curlLine(window.location.origin, t.path, shown.token)}
                    </pre>
                    <button
                      onClick={() =>
                        navigator.clipboard
                          .writeText(curlLine(window.location.origin, t.path!, shown.token))
                          .then(() => setCopied(true))
                          .catch(setError)
                      }
                    >
                      {copied ? "Copied" : "Copy curl line"}
                    </button>
                  </td>
                </tr>
              ) : null,
            ];
          })}
        </tbody>
      </table>
      {triggers && triggers.length === 0 ? <p className="muted">No triggers: add pipelines/&lt;name&gt;/triggers.yaml.</p> : null}
    </main>
  );
}
