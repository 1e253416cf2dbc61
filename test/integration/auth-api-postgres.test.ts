// The whole Auth API integration suite again, on PostgreSQL instead of SQLite.
process.env.AIRLOCK_IT_BACKEND = 'postgres';
await import('./auth-api.test.ts');
