// NHS.UK frontend styles components differently when JavaScript runs; set before the page paints. An external
// file rather than an inline script, so that stored public pages need no per-response CSP nonce.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
