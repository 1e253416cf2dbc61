// Routes providers and operators call: the phone provider's "key pressed" callback, and the
// per-factor health (JSON for the status page, gauges for Prometheus).
import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import type { FactorHealthBoard } from '../../core/factor-health.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { PhoneFlow } from './phone-flow.ts';
import { routeSchema } from '../api-schema.ts';
import type { CallbackQuery, TxidParams } from './device-schemas.ts';
import { STATUS_OPERATIONS } from './device-schemas.ts';

export function registerProviderCallbacks(
  server: FastifyInstance,
  d: { phone: PhoneFlow; clock: Clock; apiHost: () => string },
): void {
  server.post<{ Params: TxidParams; Querystring: CallbackQuery }>(
    STATUS_OPERATIONS.providerCall.path,
    { schema: routeSchema(STATUS_OPERATIONS.providerCall) },
    async (req, reply) => {
      const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const outcome = await d.phone.answerCall({
        txid: req.params.txid,
        token: req.query.token,
        // The URL the provider was given (and signed): our advertised host and the path as sent.
        fullUrl: `https://${d.apiHost()}${req.url}`,
        params: new URLSearchParams(body),
        signature:
          typeof req.headers['x-twilio-signature'] === 'string'
            ? req.headers['x-twilio-signature']
            : undefined,
        nowMs: d.clock.nowMs(),
      });
      const said =
        outcome.result === 'allow'
          ? 'Thank you. You are logged in.'
          : outcome.status === 'fraud'
            ? 'The login was denied and reported.'
            : 'The login was denied.';
      // TwiML, which other providers can ignore: what the caller hears before the call ends.
      return reply
        .type('text/xml; charset=utf-8')
        .send(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>${said}</Say></Response>`);
    },
  );
}

export function registerFactorStatus(
  server: FastifyInstance,
  metrics: Registry,
  board: FactorHealthBoard,
  clock: Clock,
): void {
  // No secrets here (factor, provider kind, rates): readable by the status page without a key.
  server.get(
    STATUS_OPERATIONS.factors.path,
    { schema: routeSchema(STATUS_OPERATIONS.factors) },
    async (_req, reply) =>
      reply.header('Cache-Control', 'no-store').send({
        stat: 'OK',
        response: { factors: board.report(clock.nowMs()) },
      }),
  );
  new Gauge({
    name: 'airlock_factor_degraded',
    help: '1 while deliveries of this factor through this provider are degraded',
    labelNames: ['factor', 'provider'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const e of board.report(clock.nowMs())) {
        this.set({ factor: e.factor, provider: e.provider }, e.state === 'degraded' ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'airlock_factor_failure_rate',
    help: 'Share of failed deliveries in the health window',
    labelNames: ['factor', 'provider'],
    registers: [metrics],
    collect() {
      this.reset();
      for (const e of board.report(clock.nowMs())) {
        if (e.failureRate !== undefined) {
          this.set({ factor: e.factor, provider: e.provider }, e.failureRate);
        }
      }
    },
  });
}
