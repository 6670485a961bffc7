// The shell: navigation, the token prompt, and the pages by path.

import { useEffect, useState } from "react";
import { Link, Route, Switch, useLocation } from "wouter";
import { setToken, whenUnauthorized } from "./api";
import { NotebookPage } from "./pages/Notebook";
import { PipelinePage } from "./pages/Pipeline";
import { PipelinesPage } from "./pages/Pipelines";
import { RunPage } from "./pages/Run";
import { RunsPage } from "./pages/Runs";
import { TriggersPage } from "./pages/Triggers";

/** Asks once for the server's API token when a call was refused for want of it. */
function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState("");
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
          onDone();
        }}
      >
        <h2>This server needs its API token</h2>
        <p className="muted">
          The value of <code>WEFT_API_TOKEN</code> the server was started with. It is kept in this tab only.
        </p>
        <input type="password" autoFocus value={value} onChange={(e) => setValue(e.target.value)} data-testid="token" />
        <button className="primary" type="submit">
          Continue
        </button>
      </form>
    </div>
  );
}

export function App() {
  const [asking, setAsking] = useState(false);
  const [location] = useLocation();
  useEffect(() => whenUnauthorized(() => setAsking(true)), []);
  return (
    <>
      <nav className="top">
        <Link href="/" className="brand">
          weft
        </Link>
        <Link href="/" className={location === "/" || location.startsWith("/pipelines") ? "active" : ""}>
          Pipelines
        </Link>
        <Link href="/runs" className={location.startsWith("/runs") ? "active" : ""}>
          Runs
        </Link>
        <Link href="/triggers" className={location.startsWith("/triggers") ? "active" : ""}>
          Triggers
        </Link>
      </nav>
      {asking ? (
        <TokenPrompt
          onDone={() => {
            setAsking(false);
            window.location.reload();
          }}
        />
      ) : (
        <Switch>
          <Route path="/">
            <PipelinesPage />
          </Route>
          <Route path="/pipelines/:name/edit">{(p) => <NotebookPage name={decodeURIComponent(p.name)} />}</Route>
          <Route path="/pipelines/:name">{(p) => <PipelinePage name={decodeURIComponent(p.name)} />}</Route>
          <Route path="/runs">
            <RunsPage />
          </Route>
          <Route path="/runs/:id">{(p) => <RunPage id={p.id} />}</Route>
          <Route path="/triggers">
            <TriggersPage />
          </Route>
          <Route>
            <main className="page">
              <h1>Not found</h1>
              <p>
                <Link href="/">Back to the pipelines</Link>
              </p>
            </main>
          </Route>
        </Switch>
      )}
    </>
  );
}
