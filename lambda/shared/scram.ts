import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';

/**
 * PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802, RFC 7677; the form pg_authid
 * keeps): `ALTER ROLE ... PASSWORD '<verifier>'` sets the password without the password itself
 * reaching the server, its statement log or anything that records the statement.
 * The password must be printable ASCII (SASLprep leaves it as it is), as generated secrets are.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('a SCRAM verifier is made here only for a printable ASCII password without spaces');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
