// Build step: copies the web authenticator's static files beside the compiled service (dist/).
/* global URL */
import { cpSync } from 'node:fs';

const from = new URL('../src/service/authenticator-web/', import.meta.url);
const to = new URL('../dist/service/authenticator-web/', import.meta.url);
cpSync(from, to, { recursive: true });
