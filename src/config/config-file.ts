// The frame every INI config file shares (authproxy.cfg, gateway.cfg): parse the text, let the
// file's readers report every error and warning to one context, freeze the result; and load the
// file from disk, relative paths against its directory, throwing `ConfigError` with every problem.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ConfigError,
  deepFreeze,
  type ParseAuthProxyConfigOptions,
} from './authproxy-config-model.ts';
import { errorCode, type Context } from './authproxy-section-reader.ts';
import { formatIniError, parseIni, type IniDocument } from './ini-parse.ts';

/** Every error (each naming its place) and warning, or the frozen config. */
export type ConfigParseResult<C> =
  | { readonly ok: true; readonly config: C }
  | {
      readonly ok: false;
      readonly errors: readonly string[];
      readonly warnings: readonly string[];
    };

/**
 * Parses INI `text` and runs `read` over it with the context every section reader reports to:
 * the INI syntax errors come first, then what `read` found. Any error: all of them; else the
 * config `read` returned, deeply frozen.
 */
export function parseConfigText<C>(
  text: string,
  options: ParseAuthProxyConfigOptions,
  read: (doc: IniDocument, ctx: Context) => C,
): ConfigParseResult<C> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const doc = parseIni(text);
  errors.push(...doc.errors.map(formatIniError));
  const config = read(doc, { options, errors, warnings });
  if (errors.length > 0) {
    return { ok: false, errors: Object.freeze(errors), warnings: Object.freeze(warnings) };
  }
  return { ok: true, config: deepFreeze(config) };
}

/**
 * Reads the config file at `path` and parses it with `parse`; relative paths inside resolve
 * against the file's directory, and the files it names are read with `readFile` (UTF-8 from
 * disk unless given). Throws `ConfigError` listing every problem.
 */
export function loadConfigFile<C>(
  path: string,
  parse: (text: string, options: ParseAuthProxyConfigOptions) => ConfigParseResult<C>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): C {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [`cannot read the file (${errorCode(err)})`]);
  }
  const result = parse(text, { configDir: dirname(absolute), readFile });
  if (!result.ok) throw new ConfigError(absolute, result.errors, result.warnings);
  return result.config;
}

/**
 * `loadConfigFile` for a drill: a file the config names that cannot be read (a CA of another
 * machine, ../data/tls/ca.pem before `airlock serve` made it) is replaced by `standInPem`, the
 * drill's own CA: the drill brings its own transport trust, so such a file changes no result.
 */
export function loadDrillConfigFile<C>(
  path: string,
  parse: (text: string, options: ParseAuthProxyConfigOptions) => ConfigParseResult<C>,
  standInPem: string,
): { config: C; substitutedFiles: string[] } {
  const substitutedFiles: string[] = [];
  const config = loadConfigFile(path, parse, (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      substitutedFiles.push(p);
      return standInPem;
    }
  });
  return { config, substitutedFiles };
}
