"use client";
// Anything that throws while rendering a page ends here, in words, with a way back.
export default function PageError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="login-page">
      <div className="login-card" role="alert">
        <h2>Something went wrong on this page</h2>
        <p>{error.message || "The page could not be shown."}</p>
        <button className="btn primary" onClick={reset}>Try again</button>
        <a className="link" href="/">Back to the containers</a>
      </div>
    </div>
  );
}
