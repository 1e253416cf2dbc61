// Who a drafted user message is for, as e-mail addresses: the users of an application (its
// allowed groups' members, or every user) or the users who sign in with a failing factor.
import type { Device, OtpToken, User } from '../core/model.ts';
import type { Store } from '../store/store.ts';

/** The audience of one message: what `notify draft` names as `users of X` / `users who sign in with F`. */
export type NotifyAudience =
  | { kind: 'application'; appId: string }
  | { kind: 'factor'; factor: 'push' | 'sms' | 'phone' | 'passcode' };

/** Whether a user with these devices and tokens signs in with `factor` (docs/factors.md). */
export function signsInWith(
  factor: Extract<NotifyAudience, { kind: 'factor' }>['factor'],
  devices: readonly Device[],
  tokens: readonly OtpToken[],
): boolean {
  switch (factor) {
    case 'push':
      return devices.some((d) => d.publicKeyJwk !== null);
    case 'sms':
    case 'phone':
      return devices.some((d) => d.phoneNumber !== null);
    case 'passcode':
      return tokens.length > 0 || devices.some((d) => d.otpTokenId !== null);
  }
}

/**
 * The e-mail addresses of the audience's users: each once (case-insensitively), sorted; users
 * without an address and disabled users (who cannot sign in anyway) are left out.
 */
export async function audienceEmails(store: Store, audience: NotifyAudience): Promise<string[]> {
  const users = await audienceUsers(store, audience);
  const byKey = new Map<string, string>();
  for (const user of users) {
    if (user.status === 'disabled' || user.email === null || user.email.trim() === '') continue;
    const email = user.email.trim();
    if (!byKey.has(email.toLowerCase())) byKey.set(email.toLowerCase(), email);
  }
  return [...byKey.values()].sort((a, b) => a.localeCompare(b));
}

async function audienceUsers(store: Store, audience: NotifyAudience): Promise<User[]> {
  if (audience.kind === 'application') {
    const app = await store.getApplication(audience.appId);
    if (!app) return [];
    // No allowed groups: every user may use the application (docs/applications.md).
    if (app.allowedGroupIds.length === 0) return store.listUsers();
    const members = await Promise.all(app.allowedGroupIds.map((g) => store.listGroupMembers(g)));
    return members.flat();
  }
  const users = await store.listUsers();
  const using: User[] = [];
  for (const user of users) {
    if (user.email === null) continue;
    const [devices, tokens] = await Promise.all([
      store.listDevices(user.id),
      audience.factor === 'passcode' ? store.listOtpTokens(user.id) : Promise.resolve([]),
    ]);
    if (signsInWith(audience.factor, devices, tokens)) using.push(user);
  }
  return using;
}
