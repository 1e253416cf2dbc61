// SIGKILL under load on PostgreSQL: no audit event of an answered request lost.
process.env.AIRLOCK_IT_BACKEND = 'postgres';
await import('./crash-consistency.test.ts');
