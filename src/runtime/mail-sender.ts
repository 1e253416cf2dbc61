// E-mail port for user messages and status subscriptions, and its SMTP implementation (nodemailer).
import { createTransport } from 'nodemailer';

export interface MailMessage {
  to: readonly string[];
  subject: string;
  text: string;
}

export interface MailSender {
  /** Rejects when the server refuses the message or cannot be reached. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface SmtpOptions {
  /** `smtp://host:port` (STARTTLS when offered) or `smtps://host:port` (TLS from the start). */
  url: string;
  from: string;
  /** PEM CAs trusted for the SMTP server's certificate (default: the system store). */
  caPem?: string | undefined;
  /** Refuse to send over a connection that is not encrypted (default true unless loopback). */
  requireTls?: boolean;
  timeoutMs?: number;
}

export function createSmtpSender(options: SmtpOptions): MailSender {
  const url = new URL(options.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`SMTP URL must be smtp:// or smtps://, got ${url.protocol}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    requireTLS: options.requireTls ?? !loopback,
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    tls: options.caPem ? { ca: options.caPem } : {},
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(message) {
      await transport.sendMail({
        from: options.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
      });
    },
    close: () => transport.close(),
  };
}
