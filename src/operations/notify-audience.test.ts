import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Device, OtpToken } from '../core/model.ts';
import { signsInWith } from './notify-audience.ts';

const device = (d: Partial<Device>): Device => ({
  id: 'D1',
  userId: 'U1',
  name: 'd',
  platform: 'android',
  publicKeyJwk: null,
  phoneNumber: null,
  otpTokenId: null,
  createdAtMs: 0,
  lastSeenAtMs: null,
  ...d,
});
const token = { id: 'T1' } as OtpToken;

describe('signsInWith: who a factor outage message is for', () => {
  const app = device({ publicKeyJwk: '{}', otpTokenId: 'T9' });
  const phone = device({ phoneNumber: '+15551230100', platform: 'phone' });
  for (const [name, devices, tokens, expected] of [
    ['an authenticator app', [app], [], { push: true, sms: false, phone: false, passcode: true }],
    ['a phone number', [phone], [], { push: false, sms: true, phone: true, passcode: false }],
    ['a hardware token', [], [token], { push: false, sms: false, phone: false, passcode: true }],
    ['nothing', [], [], { push: false, sms: false, phone: false, passcode: false }],
  ] as const) {
    it(`a user with ${name}`, () => {
      for (const factor of ['push', 'sms', 'phone', 'passcode'] as const) {
        assert.equal(signsInWith(factor, devices, tokens), expected[factor], factor);
      }
    });
  }
});
