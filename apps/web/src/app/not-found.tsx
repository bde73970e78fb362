export default function NotFound() {
  return (
    <div className="login-page">
      <div className="login-card">
        <h2>Nothing here</h2>
        <p>This page does not exist.</p>
        <a className="btn primary" href="/">Back to the containers</a>
      </div>
    </div>
  );
}
