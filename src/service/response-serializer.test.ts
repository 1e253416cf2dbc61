// The service's serializer: declared schemas write the answers, and an answer that does not fit
// its schema is still written (and reported), never turned into a 500.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import Type from 'typebox';
import { createSerializerCompiler, type SchemaMismatch } from './response-serializer.ts';
import { envelopeResponses, fastifyResponseSchema } from './api-schema.ts';

function app(answer: unknown, mismatches: SchemaMismatch[]) {
  const server = Fastify();
  server.setSerializerCompiler(createSerializerCompiler((m) => mismatches.push(m)));
  server.get(
    '/auth/v2/thing',
    {
      schema: {
        response: fastifyResponseSchema(
          envelopeResponses(Type.Object({ result: Type.String(), time: Type.Integer() })),
        ),
      },
    },
    async (_req, reply) => reply.send(answer),
  );
  return server;
}

describe('response serializer', () => {
  it('writes an answer with its schema (undeclared fields are not written)', async () => {
    const mismatches: SchemaMismatch[] = [];
    const res = await app(
      { stat: 'OK', response: { result: 'allow', time: 5, extra: 1 } },
      mismatches,
    ).inject({ url: '/auth/v2/thing' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '{"stat":"OK","response":{"result":"allow","time":5}}');
    assert.deepEqual(mismatches, []);
  });

  it('writes an answer that does not fit its schema unchecked, reports it, and never answers 500', async () => {
    for (const response of [{ time: 5 }, { result: 'allow', time: 'soon' }]) {
      const mismatches: SchemaMismatch[] = [];
      const answer = { stat: 'OK', response };
      const res = await app(answer, mismatches).inject({ url: '/auth/v2/thing' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), answer);
      assert.equal(mismatches.length, 1);
      assert.equal(mismatches[0]!.url, '/auth/v2/thing');
      assert.equal(mismatches[0]!.httpStatus, '200');
    }
  });
});
