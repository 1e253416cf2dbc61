// The SIEM output's settings (target, facility, app name, CA), shared by authproxy.cfg and `airlock serve`.
import {
  isSyslogFacility,
  SYSLOG_FACILITIES,
  type SyslogFacility,
} from '../protocol/syslog-message.ts';
import { parseSyslogTarget, type SyslogTarget } from '../runtime/syslog-sender.ts';
import { closestWord } from './closest-word.ts';

export interface SyslogConfig {
  readonly target: SyslogTarget;
  readonly facility: SyslogFacility;
  readonly appName: string;
  /** PEM CAs for `tls://`; undefined = the system trust store. */
  readonly caPem: string | undefined;
}

/** Authentication events belong to the auth facility (RFC 5424 §6.2.1: 4, security/authorization). */
export const SYSLOG_DEFAULT_FACILITY: SyslogFacility = 'auth';

export interface SyslogSettings {
  target?: string | undefined;
  facility?: string | undefined;
  appName?: string | undefined;
  caPem?: string | undefined;
}

/**
 * Validates the settings; no target = no SIEM output. Each error names its setting
 * (`target`, `facility`, `appName`), so the caller can place it.
 */
export function readSyslogConfig(
  settings: SyslogSettings,
  defaultAppName: string,
): {
  config: SyslogConfig | undefined;
  errors: { setting: keyof SyslogSettings; message: string }[];
} {
  const errors: { setting: keyof SyslogSettings; message: string }[] = [];
  // Duo's proxy writes facilities as Python's syslog constants (`LOG_AUTH`); both forms are read.
  const facilityText =
    settings.facility?.toLowerCase().replace(/^log_/, '') ?? SYSLOG_DEFAULT_FACILITY;
  if (!isSyslogFacility(facilityText)) {
    const guess = closestWord(facilityText, SYSLOG_FACILITIES);
    errors.push({
      setting: 'facility',
      message:
        `unknown facility ${JSON.stringify(settings.facility)}` +
        (guess ? `; did you mean ${guess}?` : `; one of ${SYSLOG_FACILITIES.join(', ')}`),
    });
  }
  const appName = settings.appName ?? defaultAppName;
  if (!/^[\x21-\x7e]{1,48}$/.test(appName)) {
    errors.push({
      setting: 'appName',
      message: 'must be 1-48 printable ASCII characters without spaces (RFC 5424 APP-NAME)',
    });
  }
  if (settings.target === undefined) {
    if (settings.caPem !== undefined) {
      errors.push({ setting: 'caPem', message: 'is set but no syslog target is' });
    }
    return { config: undefined, errors };
  }
  const target = parseSyslogTarget(settings.target);
  if (typeof target === 'string') errors.push({ setting: 'target', message: target });
  if (typeof target !== 'string' && target.transport !== 'tls' && settings.caPem !== undefined) {
    errors.push({ setting: 'caPem', message: 'applies to tls:// targets only' });
  }
  if (errors.length > 0 || typeof target === 'string' || !isSyslogFacility(facilityText)) {
    return { config: undefined, errors };
  }
  return {
    config: Object.freeze({ target, facility: facilityText, appName, caPem: settings.caPem }),
    errors,
  };
}
