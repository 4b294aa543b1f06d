// Starts the NHS.UK frontend components. The frontend's address comes from the page (its static file name is
// hashed in production), so this file needs no template and no CSP nonce.
const frontend = document.querySelector('meta[name="nhsuk-frontend"]');
if (frontend) {
  const { initAll } = await import(frontend.content);
  initAll();
}
