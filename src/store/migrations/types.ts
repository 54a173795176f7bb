/** One schema step: plain SQL per dialect, applied in one transaction with its schema_migrations row. */
export type Migration = { id: number; name: string; sqlite: string[]; postgres: string[] };
