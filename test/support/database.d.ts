import { type Database } from '@callgate/common';
export interface TestDatabase {
    db: Database;
    /** Where it came from, for test names and skips. */
    source: 'DATABASE_URL' | 'testcontainers' | 'pglite';
    close(): Promise<void>;
}
export declare function openTestDatabase(): Promise<TestDatabase>;
/** A schema name no other test uses, so tests share one database without touching each other. */
export declare function uniqueSchema(prefix: string): string;
//# sourceMappingURL=database.d.ts.map