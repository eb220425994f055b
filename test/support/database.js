/**
 * The database a test runs against: PostgreSQL at DATABASE_URL when set (CI sets it); else a
 * PostgreSQL container when a Docker engine answers; else embedded PGlite. Tests that prove
 * concurrency must check `kind === 'postgres'`, since PGlite serializes everything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createLogger, PgliteDatabase, PostgresDatabase } from '@callgate/common';
const log = createLogger('test', 'silent');
function dockerAnswers() {
    // Asking the docker CLI costs seconds when no engine runs; without a socket or DOCKER_HOST there is none.
    if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock'))
        return false;
    try {
        execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
        return true;
    }
    catch {
        return false;
    }
}
export async function openTestDatabase() {
    if (process.env.DATABASE_URL) {
        const db = new PostgresDatabase({ url: process.env.DATABASE_URL, log, applicationName: 'callgate-test' });
        return { db, source: 'DATABASE_URL', close: () => db.close() };
    }
    if (dockerAnswers()) {
        const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
        const container = await new PostgreSqlContainer('postgres:16-alpine').start();
        const db = new PostgresDatabase({ url: container.getConnectionUri(), log });
        return {
            db,
            source: 'testcontainers',
            close: async () => {
                await db.close();
                await container.stop();
            },
        };
    }
    const db = await PgliteDatabase.open();
    return { db, source: 'pglite', close: () => db.close() };
}
/** A schema name no other test uses, so tests share one database without touching each other. */
export function uniqueSchema(prefix) {
    return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
//# sourceMappingURL=database.js.map