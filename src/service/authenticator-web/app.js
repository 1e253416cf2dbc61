// The web authenticator: activates with a code, keeps a non-extractable P-256 key in IndexedDB,
// shows the TOTP passcode and answers login requests received by a signed long poll.
// Protocol: docs/device-api.md; canonical string: src/protocol/device-signature.ts.
/* global document, window, navigator, indexedDB, crypto, fetch, location, setTimeout, clearTimeout, setInterval, TextEncoder, URLSearchParams, AbortController */

const API = '/device/v1';
const SCHEME = 'AirlockDevice-v1';
const DB_NAME = 'airlock-authenticator';
const DB_STORE = 'device';
const DB_KEY = 'current';
const LONG_POLL_SECONDS = 25;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const ACTIVATION_CODE = /^(?:duo:\/\/)?([A-Z0-9]{20})(?:-[A-Za-z0-9+/=]+)?$/;

/**
 * What IndexedDB keeps for this browser's device. `privateKey` is a CryptoKey created with
 * extractable=false: structured clone stores it, but no script can ever read its bytes.
 * @typedef {object} DeviceRecord
 * @property {string} deviceId
 * @property {string} userId
 * @property {string} username
 * @property {string} name
 * @property {CryptoKey} privateKey
 * @property {{kty: string, crv: string, x: string, y: string}} publicJwk
 * @property {TotpSettings | null} totp
 * @property {string[]} capabilities
 * @property {number} activatedAtMs
 */

/**
 * The passcode generator. The TOTP secret is kept only as a non-extractable HMAC CryptoKey, never
 * as text.
 * @typedef {object} TotpSettings
 * @property {CryptoKey} key
 * @property {string} algorithm
 * @property {number} digits
 * @property {number} period
 */

/**
 * A login request as GET /device/v1/requests lists it.
 * @typedef {object} LoginRequest
 * @property {string} txid
 * @property {string} factor
 * @property {string} application
 * @property {string} username
 * @property {string} [display_username]
 * @property {string} [type]
 * @property {string} [ipaddr]
 * @property {string} [hostname]
 * @property {[string, string][]} [pushinfo]
 * @property {number} time
 * @property {number} expires
 * @property {boolean} verification
 */

/** Service clock minus ours, from the Date header of each answer (signing and countdowns). */
let serverOffsetMs = 0;

// ---------------------------------------------------------------------------------------------
// Storage

/** @returns {Promise<IDBDatabase>} */
function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} action
 * @returns {Promise<unknown>}
 */
async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(DB_STORE, mode);
      const request = action(tx.objectStore(DB_STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** @returns {Promise<DeviceRecord | undefined>} */
async function loadDevice() {
  return /** @type {DeviceRecord | undefined} */ (
    await withStore('readonly', (s) => s.get(DB_KEY))
  );
}

/** @param {DeviceRecord} device */
async function saveDevice(device) {
  await withStore('readwrite', (s) => s.put(device, DB_KEY));
}

async function forgetDevice() {
  await withStore('readwrite', (s) => s.delete(DB_KEY));
}

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8 = new TextEncoder();

/** @param {ArrayBuffer} buffer */
function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {ArrayBuffer} buffer */
function toBase64Url(buffer) {
  let binary = '';
  for (const b of new Uint8Array(buffer)) binary += String.fromCharCode(b);
  return window.btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * RFC 4648 §6 base32 (TOTP secrets); padding and spaces are ignored.
 * @param {string} text
 */
function fromBase32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error('TOTP secret is not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------------------------
// Device-signed requests (docs/device-api.md "Signed requests")

function serverNowMs() {
  return Date.now() + serverOffsetMs;
}

/** @param {Response} response */
function noteServerDate(response) {
  const date = Date.parse(response.headers.get('Date') ?? '');
  // The Date header has second resolution; only correct offsets that matter.
  if (Number.isFinite(date) && Math.abs(date - Date.now() - serverOffsetMs) > 2000) {
    serverOffsetMs = date - Date.now();
  }
}

/**
 * The six canonical lines, byte for byte as canonicalDeviceRequest builds them.
 * @param {{method: string, pathAndQuery: string, date: string, deviceId: string, body: string}} parts
 */
async function canonicalRequest(parts) {
  const bodyHash = toHex(await crypto.subtle.digest('SHA-256', utf8.encode(parts.body)));
  return [
    SCHEME,
    parts.method.toUpperCase(),
    parts.pathAndQuery,
    parts.date,
    parts.deviceId,
    bodyHash,
  ].join('\n');
}

/**
 * Sends a device-signed request. WebCrypto's ECDSA output is already IEEE P1363 (r||s).
 * @param {DeviceRecord} device
 * @param {'GET' | 'POST'} method
 * @param {string} pathAndQuery exactly as sent, e.g. `/device/v1/requests?wait=25`
 * @param {unknown} [json] request body
 * @param {AbortSignal} [signal]
 */
async function signedFetch(device, method, pathAndQuery, json, signal) {
  const body = json === undefined ? '' : JSON.stringify(json);
  const date = String(Math.floor(serverNowMs() / 1000));
  const canonical = await canonicalRequest({
    method,
    pathAndQuery,
    date,
    deviceId: device.deviceId,
    body,
  });
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    device.privateKey,
    utf8.encode(canonical),
  );
  /** @type {Record<string, string>} */
  const headers = {
    'X-Airlock-Device': device.deviceId,
    'X-Airlock-Date': date,
    Authorization: `${SCHEME} ${toBase64Url(signature)}`,
    Accept: 'application/json',
  };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(pathAndQuery, {
    method,
    headers,
    body: json === undefined ? undefined : body,
    cache: 'no-store',
    credentials: 'omit',
    signal,
  });
  noteServerDate(response);
  return response;
}

/** An error answer of the service, with its wire code and detail. */
class ApiError extends Error {
  /**
   * @param {number} status
   * @param {number | undefined} code
   * @param {string} message
   * @param {string | undefined} detail
   */
  constructor(status, code, message, detail) {
    super(detail ? `${message}: ${detail}` : message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/**
 * The JSON answer; accepts a bare object or the service envelope `{stat:"OK", response}`.
 * @param {Response} response
 * @returns {Promise<any>}
 */
async function readAnswer(response) {
  /** @type {any} */
  let body;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok || body?.stat === 'FAIL') {
    throw new ApiError(
      response.status,
      typeof body?.code === 'number' ? body.code : undefined,
      typeof body?.message === 'string' ? body.message : `HTTP ${response.status}`,
      typeof body?.message_detail === 'string' ? body.message_detail : undefined,
    );
  }
  return body?.stat === 'OK' && 'response' in body ? body.response : body;
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238 over RFC 4226), with WebCrypto HMAC

const TOTP_HASHES = /** @type {const} */ ({ SHA1: 'SHA-1', SHA256: 'SHA-256', SHA512: 'SHA-512' });

/**
 * The activation's TOTP settings, with the secret turned into a non-extractable HMAC key. Never
 * throws: the code is already used, so a passcode we cannot make must not undo the activation.
 * @param {any} totp `{secret, algorithm, digits, period}` from POST /device/v1/activate
 * @returns {Promise<TotpSettings | null>}
 */
async function importTotp(totp) {
  const algorithm = String(totp?.algorithm ?? 'SHA1').toUpperCase();
  const hash = TOTP_HASHES[/** @type {keyof typeof TOTP_HASHES} */ (algorithm)];
  const digits = Number(totp?.digits ?? 6);
  const period = Number(totp?.period ?? 30);
  if (typeof totp?.secret !== 'string' || !hash) return null;
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) return null;
  if (!Number.isInteger(period) || period < 1) return null;
  try {
    const raw = fromBase32(totp.secret);
    const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, ['sign']);
    return { key, algorithm, digits, period };
  } catch {
    return null;
  }
}

/**
 * @param {TotpSettings} totp
 * @param {number} nowMs
 */
async function totpCode(totp, nowMs) {
  // RFC 6238 §4.2: T = floor((now - T0) / X), as an 8-byte big-endian counter.
  const counter = Math.floor(nowMs / 1000 / totp.period);
  const message = new DataView(new ArrayBuffer(8));
  message.setUint32(0, Math.floor(counter / 2 ** 32));
  message.setUint32(4, counter >>> 0);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', totp.key, message.buffer));
  // RFC 4226 §5.3 dynamic truncation.
  const offset = mac[mac.length - 1] & 0x0f;
  const binary =
    ((mac[offset] & 0x7f) << 24) |
    (mac[offset + 1] << 16) |
    (mac[offset + 2] << 8) |
    mac[offset + 3];
  return String(binary % 10 ** totp.digits).padStart(totp.digits, '0');
}

// ---------------------------------------------------------------------------------------------
// Screens

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element;
}

/** @param {'loading' | 'unsupported' | 'activation' | 'device'} name */
function showScreen(name) {
  for (const id of ['loading', 'unsupported', 'activation', 'device']) {
    byId(id).hidden = id !== name;
  }
}

function isSupported() {
  return window.isSecureContext && 'indexedDB' in window && Boolean(crypto?.subtle);
}

/**
 * The code to send: `duo://CODE-HOST` as given, or the bare 20-character code.
 * @param {string} input
 * @returns {string | undefined}
 */
function normalizeActivationCode(input) {
  let value = input.trim();
  // A pasted activation URL (https://HOST/activate/CODE) works too.
  const fromUrl = /\/activate\/([A-Za-z0-9]{20})\/?$/.exec(value);
  if (fromUrl?.[1]) value = fromUrl[1];
  if (!value.startsWith('duo://')) value = value.toUpperCase();
  return ACTIVATION_CODE.test(value) ? value : undefined;
}

function defaultDeviceName() {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : 'browser';
  return `Web authenticator (${os})`;
}

function startActivation() {
  showScreen('activation');
  const form = /** @type {HTMLFormElement} */ (byId('activation-form'));
  const codeInput = /** @type {HTMLInputElement} */ (byId('activation-code'));
  const nameInput = /** @type {HTMLInputElement} */ (byId('device-name'));
  const error = byId('activation-error');
  const button = /** @type {HTMLButtonElement} */ (byId('activate'));

  const fromQuery = new URLSearchParams(location.search).get('code');
  if (fromQuery && !codeInput.value) codeInput.value = fromQuery;
  if (!nameInput.value) nameInput.value = defaultDeviceName();
  (codeInput.value ? nameInput : codeInput).focus();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    const code = normalizeActivationCode(codeInput.value);
    const name = nameInput.value.trim();
    if (!code) {
      error.textContent = 'That is not an activation code.';
      codeInput.focus();
      return;
    }
    if (!name) {
      error.textContent = 'Give this device a name.';
      nameInput.focus();
      return;
    }
    button.disabled = true;
    button.textContent = 'Activating…';
    activate(code, name)
      .then((device) => {
        // The code is single use: drop it from the address bar and history.
        window.history.replaceState(null, '', location.pathname);
        startDevice(device);
      })
      .catch((/** @type {unknown} */ e) => {
        error.textContent =
          e instanceof ApiError && e.detail === 'activation_code'
            ? 'This activation code is unknown, used or expired. Ask for a new one.'
            : `Activation failed: ${e instanceof Error ? e.message : String(e)}`;
      })
      .finally(() => {
        button.disabled = false;
        button.textContent = 'Activate';
      });
  });
}

/**
 * Creates the key pair (private half non-extractable), registers the public half, stores both.
 * @param {string} code
 * @param {string} name
 * @returns {Promise<DeviceRecord>}
 */
async function activate(code, name) {
  const keys = /** @type {CryptoKeyPair} */ (
    await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])
  );
  // Public keys are always exportable; send only the four members the service accepts.
  const jwk = await crypto.subtle.exportKey('jwk', keys.publicKey);
  const publicJwk = { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) };
  const response = await fetch(`${API}/activate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ activation_code: code, public_key: publicJwk, name, platform: 'web' }),
    cache: 'no-store',
    credentials: 'omit',
  });
  noteServerDate(response);
  const answer = await readAnswer(response);
  /** @type {DeviceRecord} */
  const device = {
    deviceId: String(answer.device_id),
    userId: String(answer.user_id),
    username: String(answer.username),
    name,
    privateKey: keys.privateKey,
    publicJwk,
    totp: await importTotp(answer.totp),
    capabilities: Array.isArray(answer.capabilities) ? answer.capabilities.map(String) : [],
    activatedAtMs: Date.now(),
  };
  await saveDevice(device);
  return device;
}

/** @param {DeviceRecord} device */
function startDevice(device) {
  showScreen('device');
  // Ask the browser not to evict the key under storage pressure (best effort; it may refuse).
  navigator.storage?.persist?.().catch(() => undefined);
  byId('device-username').textContent = device.username;
  byId('device-name-shown').textContent = device.name;
  startPasscode(device);
  const poller = new RequestPoller(device);
  poller.start();
  byId('forget').addEventListener('click', () => {
    if (!window.confirm('Remove this device key from this browser?')) return;
    poller.stop();
    forgetDevice()
      .then(() => location.reload())
      .catch((/** @type {unknown} */ e) => window.alert(String(e)));
  });
}

// ---------------------------------------------------------------------------------------------
// Passcode

/** @param {DeviceRecord} device */
function startPasscode(device) {
  const section = /** @type {HTMLElement} */ (byId('totp-code').closest('section'));
  const totp = device.totp;
  if (!totp) {
    section.hidden = true;
    return;
  }
  const codeElement = byId('totp-code');
  const progress = /** @type {HTMLProgressElement} */ (byId('totp-progress'));
  const remainingElement = byId('totp-remaining');
  progress.max = totp.period;
  let shownStep = -1;
  const tick = () => {
    const nowMs = serverNowMs();
    const step = Math.floor(nowMs / 1000 / totp.period);
    const remaining = totp.period - (Math.floor(nowMs / 1000) % totp.period);
    progress.value = remaining;
    remainingElement.textContent = `New code in ${remaining} s`;
    if (step === shownStep) return;
    shownStep = step;
    totpCode(totp, nowMs).then(
      (code) => {
        codeElement.textContent = code;
        // Screen readers read the digits one by one, not as a number.
        codeElement.setAttribute('aria-label', code.split('').join(' '));
      },
      (/** @type {unknown} */ e) => {
        codeElement.textContent = 'unavailable';
        remainingElement.textContent = String(e);
      },
    );
  };
  tick();
  setInterval(tick, 1000);
}

// ---------------------------------------------------------------------------------------------
// Login requests: long poll, cards, answers

class RequestPoller {
  /** @param {DeviceRecord} device */
  constructor(device) {
    this.device = device;
    /** @type {Map<string, RequestCard>} */
    this.cards = new Map();
    /** Dismissed requests: a later poll that still lists one must not bring it back. */
    this.dismissed = new Set();
    this.backoffMs = BACKOFF_MIN_MS;
    // A quick first poll (wait=0) shows pending requests and the connection state at once.
    this.waitSeconds = 0;
    this.running = false;
    /** @type {AbortController | undefined} */
    this.abort = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {(() => void) | undefined} */
    this.wake = undefined;
    this.list = byId('requests');
    this.empty = byId('no-requests');
    this.connection = byId('connection');
    this.announce = byId('announce');
    setInterval(() => this.tick(), 1000);
    // Back online or back in view: retry now instead of at the end of the backoff.
    window.addEventListener('online', () => this.wake?.());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.wake?.();
    });
  }

  start() {
    this.running = true;
    this.setConnection('connecting', 'Connecting…');
    void this.loop();
  }

  stop() {
    this.running = false;
    this.abort?.abort();
    this.wake?.();
  }

  async loop() {
    while (this.running) {
      const startedMs = Date.now();
      let fresh;
      try {
        this.abort = new AbortController();
        const response = await signedFetch(
          this.device,
          'GET',
          `${API}/requests?wait=${this.waitSeconds}`,
          undefined,
          this.abort.signal,
        );
        const answer = await readAnswer(response);
        const requests = Array.isArray(answer?.requests) ? answer.requests : [];
        fresh = this.merge(/** @type {LoginRequest[]} */ (requests));
        this.backoffMs = BACKOFF_MIN_MS;
        this.setConnection('connected', 'Connected. Waiting for login requests.');
      } catch (e) {
        if (!this.running) return;
        await this.waitAfterError(e);
        this.waitSeconds = 0;
        continue;
      }
      // A long poll that returned at once with nothing new must not turn into a busy loop.
      if (this.waitSeconds > 0 && fresh === 0 && Date.now() - startedMs < 1000) {
        await this.sleep(1000);
      }
      this.waitSeconds = LONG_POLL_SECONDS;
    }
  }

  /** @param {unknown} error */
  async waitAfterError(error) {
    const seconds = Math.round(this.backoffMs / 1000);
    const reason =
      error instanceof ApiError && error.status === 401
        ? 'The service does not accept this device (removed, or this device’s clock is wrong).'
        : error instanceof ApiError
          ? `The service answered: ${error.message}.`
          : 'Cannot reach the service.';
    this.setConnection('offline', `${reason} Retrying in ${seconds} s.`);
    await this.sleep(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    if (this.running) this.setConnection('connecting', 'Connecting…');
  }

  /**
   * Waits `ms`, or less when woken.
   * @param {number} ms
   * @returns {Promise<void>}
   */
  sleep(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(this.retryTimer);
        this.wake = undefined;
        resolve();
      };
      this.retryTimer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /**
   * @param {'connecting' | 'connected' | 'offline'} state
   * @param {string} text
   */
  setConnection(state, text) {
    this.connection.dataset.state = state;
    this.connection.textContent = text;
  }

  /**
   * Adds requests not shown yet; returns how many were new.
   * @param {LoginRequest[]} requests
   */
  merge(requests) {
    let fresh = 0;
    for (const request of requests) {
      if (typeof request?.txid !== 'string') continue;
      if (this.cards.has(request.txid) || this.dismissed.has(request.txid)) continue;
      const card = new RequestCard(request, this.device, () => this.remove(request.txid));
      this.cards.set(request.txid, card);
      this.list.prepend(card.element);
      fresh += 1;
      this.announce.textContent = `New login request for ${request.application ?? 'an application'}.`;
    }
    this.empty.hidden = this.cards.size > 0;
    return fresh;
  }

  /** @param {string} txid */
  remove(txid) {
    this.dismissed.add(txid);
    this.cards.get(txid)?.element.remove();
    this.cards.delete(txid);
    this.empty.hidden = this.cards.size > 0;
  }

  tick() {
    for (const card of this.cards.values()) card.tick();
  }
}

class RequestCard {
  /**
   * @param {LoginRequest} request
   * @param {DeviceRecord} device
   * @param {() => void} onDismiss
   */
  constructor(request, device, onDismiss) {
    this.request = request;
    this.device = device;
    this.onDismiss = onDismiss;
    this.answered = false;
    const template = /** @type {HTMLTemplateElement} */ (byId('request-template'));
    const fragment = /** @type {DocumentFragment} */ (template.content.cloneNode(true));
    this.element = /** @type {HTMLLIElement} */ (fragment.firstElementChild);
    this.element.dataset.txid = request.txid;
    const titleId = `request-${request.txid}-title`;
    this.element.setAttribute('aria-labelledby', titleId);
    this.element.tabIndex = -1;

    const title = this.query('.request-title');
    title.id = titleId;
    title.textContent = `${request.type ?? 'Login request'}: ${request.application ?? ''}`;
    this.field('username').textContent = request.display_username ?? request.username ?? '';
    this.field('ipaddr').textContent = request.ipaddr ?? 'unknown';
    this.field('hostname').textContent = request.hostname ?? 'unknown';
    this.field('time').textContent = new Date(request.time * 1000).toLocaleString();

    const context = this.query('.request-context');
    for (const pair of Array.isArray(request.pushinfo) ? request.pushinfo : []) {
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = String(pair[0]);
      dd.textContent = String(pair[1]);
      dd.dataset.pushinfo = String(pair[0]);
      context.append(dt, dd);
    }

    const verification = this.query('.verification');
    /** @type {HTMLInputElement} */
    this.verificationInput = /** @type {HTMLInputElement} */ (verification.querySelector('input'));
    if (request.verification) {
      verification.hidden = false;
      this.verificationInput.id = `request-${request.txid}-verification`;
      this.verificationInput.required = true;
      /** @type {HTMLLabelElement} */ (verification.querySelector('label')).htmlFor =
        this.verificationInput.id;
    }

    this.buttons = /** @type {HTMLButtonElement[]} */ ([
      ...this.element.querySelectorAll('button[data-answer]'),
    ]);
    for (const button of this.buttons) {
      button.addEventListener('click', () =>
        this.answer(/** @type {'approve' | 'deny' | 'fraud'} */ (button.dataset.answer)),
      );
    }
    this.result = this.query('.result');
    this.tick();
  }

  /** @param {string} selector */
  query(selector) {
    return /** @type {HTMLElement} */ (this.element.querySelector(selector));
  }

  /** @param {string} name */
  field(name) {
    return this.query(`[data-field="${name}"]`);
  }

  tick() {
    if (this.answered) return;
    const left = Math.ceil(this.request.expires - serverNowMs() / 1000);
    if (left > 0) {
      this.field('expiry').textContent = `Expires in ${left} s`;
      return;
    }
    this.field('expiry').textContent = 'Expired';
    this.finish('expired', 'This request expired. Nothing was approved.');
  }

  /** @param {'approve' | 'deny' | 'fraud'} answer */
  async answer(answer) {
    if (this.answered) return;
    /** @type {{answer: string, verification_code?: string}} */
    const body = { answer };
    if (answer === 'approve' && this.request.verification) {
      const code = this.verificationInput.value.trim();
      if (!/^[0-9]+$/.test(code)) {
        this.result.textContent = 'Enter the verification code shown on the login screen first.';
        this.verificationInput.focus();
        return;
      }
      body.verification_code = code;
    }
    if (answer === 'fraud' && !window.confirm('Deny this login and report it as fraud?')) return;
    this.setBusy(true);
    this.result.textContent = 'Sending…';
    try {
      const response = await signedFetch(
        this.device,
        'POST',
        `${API}/requests/${encodeURIComponent(this.request.txid)}`,
        body,
      );
      const outcome = await readAnswer(response);
      const status = String(outcome?.status ?? outcome?.result ?? '');
      const text =
        status === 'allow'
          ? 'Approved. The login is allowed.'
          : status === 'fraud'
            ? 'Denied and reported as fraud.'
            : answer === 'approve'
              ? 'Not approved: the verification code was wrong. The login is denied.'
              : 'Denied. The login is refused.';
      this.finish(status || 'deny', text);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.detail === 'txid') {
        this.finish('gone', 'This request was already answered or has expired.');
      } else {
        this.setBusy(false);
        this.result.textContent = `Could not send the answer (${e instanceof Error ? e.message : String(e)}). Try again.`;
      }
    }
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    for (const button of this.buttons) button.disabled = busy;
  }

  /**
   * @param {string} outcome
   * @param {string} text
   */
  finish(outcome, text) {
    this.answered = true;
    this.element.dataset.outcome = outcome;
    this.result.textContent = text;
    this.query('.actions').remove();
    this.query('.verification').hidden = true;
    if (outcome !== 'expired') this.field('expiry').textContent = '';
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.textContent = 'Dismiss';
    dismiss.addEventListener('click', this.onDismiss);
    this.element.append(dismiss);
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function main() {
  if (!isSupported()) {
    showScreen('unsupported');
    return;
  }
  if ('serviceWorker' in navigator) {
    // Offline app shell only; a failure (e.g. an untrusted certificate) leaves the page working.
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch(() => undefined);
  }
  const device = await loadDevice();
  if (device) startDevice(device);
  else startActivation();
}

main().catch((/** @type {unknown} */ e) => {
  showScreen('unsupported');
  byId('unsupported').textContent = `The authenticator could not start: ${String(e)}`;
});
