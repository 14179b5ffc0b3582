/**
 * Email and password rules shared by the sign-in form (components/features/auth) and the Password
 * provider (convex/auth.ts). Plain functions without server imports, so the browser bundles them;
 * the server alone also refuses common passwords (convex/lib/passwords.ts).
 */

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 128;
/** The longest address SMTP can deliver to (RFC 5321's 256-octet path, minus its brackets). */
export const MAX_EMAIL_LENGTH = 254;

// local@domain.tld: no spaces or control characters, one @, a domain of dot-separated labels.
const EMAIL_SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}.]+(?:\.[^\s@\p{Cc}.]+)+$/u;

/** What a sign-up for an email some account has is told (a sign-in says nothing of accounts). */
export const EMAIL_TAKEN = "An account with this email already exists. Sign in instead.";

// Characters that show as nothing (zero-width spaces and joiners, soft hyphens, direction marks,
// variation selectors, BOM): an email with one looks like the email without it.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * The form an email is stored and looked up in: NFKC (fullwidth and other compatibility forms
 * become their plain letters), without invisible characters, trimmed and lower-cased, so that
 * addresses that look the same are one account.
 */
export function normalizeEmail(email: string): string {
  return email.normalize("NFKC").replace(INVISIBLE, "").trim().toLowerCase();
}

/** Why a normalized email cannot be used, or null when it can. */
export function emailProblem(email: string): string | null {
  if (email.length === 0) return "Enter your email address.";
  if (email.length > MAX_EMAIL_LENGTH) {
    return `An email address can be at most ${MAX_EMAIL_LENGTH} characters.`;
  }
  if (!EMAIL_SHAPE.test(email)) return "Enter a valid email address, like name@example.com.";
  return null;
}

/** Characters as a person counts them closely enough: code points, so an emoji is one. */
export function passwordLength(password: string): number {
  return Array.from(password).length;
}

/** Why a new password is too short or too long, or null when its length is fine. */
export function passwordLengthProblem(password: string): string | null {
  const length = passwordLength(password);
  if (length < MIN_PASSWORD_LENGTH) {
    return `Choose a password with at least ${MIN_PASSWORD_LENGTH} characters.`;
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return `A password can be at most ${MAX_PASSWORD_LENGTH} characters.`;
  }
  return null;
}
