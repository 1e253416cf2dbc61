// The one stylesheet and script of the login pages (the hosted prompt and the gateway portal),
// served as files so the CSP can forbid inline code.

export const LOGIN_CSS = `
:root { --fg:#1d2430; --muted:#5b6475; --line:#d9dde5; --bg:#f3f5f8; --accent:#1f5fbf; --danger:#a4161a; --dangerbg:#fdecec; --warn:#8a4b00; --warnbg:#fff4e0; --ok:#1b6e3a; --okbg:#e8f3ec; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
main.prompt { max-width:28rem; margin:3rem auto; background:#fff; border:1px solid var(--line); border-radius:10px; padding:1.5rem 1.75rem; }
.brand { font-weight:700; letter-spacing:.02em; color:var(--muted); font-size:.85rem; text-transform:uppercase; margin:0 0 .5rem; }
h1 { font-size:1.35rem; margin:0 0 .5rem; }
p { margin:.5rem 0; }
.muted { color:var(--muted); font-size:.9rem; }
form { margin:1rem 0; }
label { display:block; font-weight:600; margin:.25rem 0; }
input[type=text], input[type=password] { font:inherit; width:100%; padding:.5rem .6rem; border:1px solid #9aa3b2; border-radius:6px; margin-bottom:.5rem; }
input[inputmode=numeric] { letter-spacing:.1em; }
input[type=checkbox] { margin-right:.4rem; }
label.check { font-weight:normal; display:flex; align-items:center; }
button, a.button { display:block; text-align:center; text-decoration:none; font:inherit; width:100%; padding:.55rem .9rem; margin-top:.5rem; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; }
button.secondary { background:#fff; color:var(--accent); }
button:focus-visible, input:focus-visible, a:focus-visible { outline:3px solid #f0b429; outline-offset:2px; }
.factors { border-top:1px solid var(--line); margin-top:1rem; padding-top:.5rem; }
.error { background:var(--dangerbg); border:1px solid #f1a9ab; color:var(--danger); padding:.6rem .8rem; border-radius:6px; }
.warning { background:var(--warnbg); border:1px solid #f0c27a; color:var(--warn); padding:.6rem .8rem; border-radius:6px; }
.status { background:var(--okbg); border:1px solid #a9d5b7; padding:.6rem .8rem; border-radius:6px; }
.code { font:700 2rem/1.2 ui-monospace,monospace; letter-spacing:.3em; text-align:center; margin:.75rem 0; }
.link { word-break:break-all; }
`;

// Live status without a reload: asks the status endpoint (a long poll) until the push or call is
// answered, then submits the page's own Continue form, which works without this script too.
export const LOGIN_JS = `
(function () {
  var box = document.querySelector('[data-status-url]');
  if (!box) return;
  var url = box.getAttribute('data-status-url');
  var text = document.getElementById('status-text');
  var form = document.getElementById('complete');
  var tries = 0;
  function poll() {
    tries += 1;
    if (tries > 40) return;
    fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s && s.message && text) text.textContent = s.message;
        if (s && s.done) { if (form) form.submit(); return; }
        setTimeout(poll, 250);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
`;
