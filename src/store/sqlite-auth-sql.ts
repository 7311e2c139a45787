/**
 * The SQL of the SQLite auth store (`sqlite-auth.ts`): each table's insert of every column by
 * name and the updates of what may change, built from the column lists of `auth-columns.ts`,
 * and a user's row as SQLite binds it.
 */
import type { UserRecord } from "../services/auth/model.js";
import {
  AUDIT_COLUMNS,
  AUTHORIZATION_CODE_COLUMNS,
  CHALLENGE_COLUMNS,
  CLIENT_COLUMNS,
  FACTOR_COLUMNS,
  MAIL_COLUMNS,
  ONE_TIME_TOKEN_COLUMNS,
  RECOVERY_CODE_COLUMNS,
  REFRESH_TOKEN_COLUMNS,
  SESSION_COLUMNS,
  SESSION_UPDATED_COLUMNS,
  SIGNING_KEY_COLUMNS,
  USER_COLUMNS,
  USER_UPDATED_COLUMNS,
} from "./auth-columns.js";
import { userRow } from "./auth-row.js";

/** `INSERT` of every column by name; `onConflict` (SQL) follows it. */
function insertSql(table: string, columns: readonly string[], onConflict = ""): string {
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")}) ${onConflict}`;
}

/** `UPDATE` of `columns` by name, of the row `where` (SQL over named parameters) picks. */
function updateSql(table: string, columns: readonly string[], where: string): string {
  return `UPDATE ${table} SET ${columns.map((c) => `${c} = @${c}`).join(", ")} WHERE ${where}`;
}

export const INSERT_USER = insertSql("auth_users", USER_COLUMNS, "ON CONFLICT DO NOTHING");
export const UPDATE_USER = updateSql("auth_users", USER_UPDATED_COLUMNS, "id = @id");
export const INSERT_SESSION = insertSql("auth_sessions", SESSION_COLUMNS);
export const UPDATE_SESSION = updateSql("auth_sessions", SESSION_UPDATED_COLUMNS, "id = @id");
export const INSERT_REFRESH_TOKEN = insertSql("auth_refresh_tokens", REFRESH_TOKEN_COLUMNS);
export const INSERT_ONE_TIME_TOKEN = insertSql("auth_one_time_tokens", ONE_TIME_TOKEN_COLUMNS);
export const INSERT_FACTOR = insertSql("auth_factors", FACTOR_COLUMNS);
export const INSERT_CHALLENGE = insertSql("auth_challenges", CHALLENGE_COLUMNS);
export const INSERT_RECOVERY_CODE = insertSql(
  "auth_recovery_codes",
  RECOVERY_CODE_COLUMNS,
  "ON CONFLICT DO NOTHING",
);
export const INSERT_SIGNING_KEY = insertSql("auth_signing_keys", SIGNING_KEY_COLUMNS);
export const INSERT_MAIL = insertSql("auth_mail", MAIL_COLUMNS);
export const INSERT_AUDIT = insertSql("auth_audit", AUDIT_COLUMNS);
export const INSERT_CLIENT = insertSql("auth_clients", CLIENT_COLUMNS, "ON CONFLICT DO NOTHING");
export const INSERT_AUTHORIZATION_CODE = insertSql("auth_authorization_codes", AUTHORIZATION_CODE_COLUMNS);

/** A user's row as SQLite binds it (a flag as 0/1). */
export const boundUser = (u: UserRecord) => ({ ...userRow(u), is_anonymous: u.isAnonymous ? 1 : 0 });
