// The console's only stylesheet and script, served as files so the CSP can forbid inline code.

export const CONSOLE_CSS = `
:root { --fg:#1d2430; --muted:#5b6475; --line:#d9dde5; --bg:#f6f7f9; --accent:#1f5fbf; --warn:#8a4b00; --warnbg:#fff4e0; --danger:#a4161a; --dangerbg:#fdecec; --ok:#1b6e3a; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); background:var(--bg); }
header.top { display:flex; align-items:center; gap:1.5rem; padding:.6rem 1.25rem; background:#17202e; color:#fff; }
header.top .brand { font-weight:700; letter-spacing:.02em; }
header.top nav a { color:#cfd8e6; text-decoration:none; margin-right:1rem; }
header.top nav a.current, header.top nav a:hover { color:#fff; text-decoration:underline; }
header.top .who { margin-left:auto; display:flex; gap:.75rem; align-items:center; color:#cfd8e6; }
header.top .who button { background:none; border:1px solid #5d6b82; color:#fff; padding:.2rem .6rem; border-radius:4px; cursor:pointer; }
main { max-width:72rem; margin:1.25rem auto; padding:0 1.25rem; }
h1 { font-size:1.5rem; margin:.25rem 0 1rem; }
h2 { font-size:1.15rem; margin:1.5rem 0 .5rem; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#eef1f5; font-weight:600; font-size:.9rem; }
a { color:var(--accent); }
form.inline { display:inline; }
form.card, section.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:1rem; margin:.75rem 0; }
label { display:block; margin:.4rem 0 .15rem; font-weight:600; font-size:.9rem; }
input[type=text], input[type=password], input[type=search], input[type=number], select, textarea { font:inherit; padding:.35rem .5rem; border:1px solid #b9c0cc; border-radius:4px; min-width:16rem; }
button, .button { font:inherit; padding:.35rem .8rem; border-radius:4px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--danger); border-color:var(--danger); }
.row { display:flex; gap:1rem; flex-wrap:wrap; align-items:flex-end; }
.muted { color:var(--muted); }
.status { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.85rem; border:1px solid var(--line); }
.status-bypass { background:var(--warnbg); color:var(--warn); border-color:#f0c27a; }
.status-disabled, .status-locked-out { background:var(--dangerbg); color:var(--danger); border-color:#f1a9ab; }
.status-active { color:var(--ok); }
.notice { background:#e8f3ec; border:1px solid #a9d5b7; padding:.6rem .8rem; border-radius:6px; margin:.75rem 0; }
.error { background:var(--dangerbg); border:1px solid #f1a9ab; padding:.6rem .8rem; border-radius:6px; margin:.75rem 0; }
.warning { background:var(--warnbg); border:1px solid #f0c27a; padding:.6rem .8rem; border-radius:6px; margin:.75rem 0; color:var(--warn); }
.banner-emergency { background:#a4161a; color:#fff; padding:.7rem 1.25rem; font-weight:600; }
.banner-emergency a { color:#fff; }
.secret { font-family:ui-monospace,monospace; background:#fff; border:1px dashed #b9c0cc; padding:.5rem; word-break:break-all; }
.login { max-width:24rem; margin:4rem auto; }
.login form { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.5rem; }
.login input { width:100%; min-width:0; }
.login button { margin-top:1rem; width:100%; }
.qr svg { width:12rem; height:12rem; }
.pager { margin:.75rem 0; display:flex; gap:1rem; }
h3 { font-size:1rem; margin:.25rem 0 .4rem; }
fieldset { border:1px solid var(--line); border-radius:4px; margin:.6rem 0; padding:.4rem .75rem; }
label.check { display:inline-flex; gap:.35rem; align-items:center; font-weight:400; margin-right:1rem; }
dl.policy { display:grid; grid-template-columns:max-content 1fr; gap:.15rem 1rem; margin:.25rem 0; }
dl.policy dt { font-weight:600; font-size:.9rem; }
dl.policy dd { margin:0; }
form.revert { display:flex; gap:.4rem; }
form.revert input { min-width:10rem; }
.banner-emergency span { font-weight:400; }
`;

/** Asks before a form marked data-confirm is sent (deletes, secret rotation). */
export const CONSOLE_JS = `
document.addEventListener('submit', function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) event.preventDefault();
});
`;
