import { timingSafeEqual } from "node:crypto";
import {
  createRemoteJWKSet,
  exportJWK,
  exportPKCS8,
  compactVerify,
  generateKeyPair,
  type JWTPayload,
} from "jose";
import type { Value } from "convex/values";
import type { Identity } from "./engine-types";

/** One entry of `convex/auth.config.ts`: an OIDC provider or a custom JWT issuer. */
export type AuthProvider =
  | { domain: string; applicationID: string; type?: undefined }
  | {
      type: "customJwt";
      issuer: string;
      jwks: string;
      applicationID?: string;
      algorithm?: string;
    };

/** The keys Convex Auth signs its tokens with, as `npx @convex-dev/auth` would set them. */
export async function generateConvexAuthKeys(): Promise<{ JWT_PRIVATE_KEY: string; JWKS: string }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const pkcs8 = await exportPKCS8(privateKey);
  const jwk = await exportJWK(publicKey);
  return {
    JWT_PRIVATE_KEY: pkcs8.trimEnd().replace(/\n/g, " "),
    JWKS: JSON.stringify({ keys: [{ use: "sig", ...jwk }] }),
  };
}

const CLAIM_TO_ATTRIBUTE: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  email: "email",
  email_verified: "emailVerified",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
  phone_number_verified: "phoneNumberVerified",
  address: "address",
  updated_at: "updatedAt",
};
const PROTOCOL_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

/** The identity a real deployment derives from a verified token's claims. */
export function identityFromClaims(claims: JWTPayload): Identity {
  const identity: Record<string, Value> = {};
  for (const [claim, value] of Object.entries(claims)) {
    if (PROTOCOL_CLAIMS.has(claim) || value === undefined) continue;
    identity[CLAIM_TO_ATTRIBUTE[claim] ?? claim] = value as Value;
  }
  const issuer = claims.iss ?? "";
  const subject = claims.sub ?? "";
  return { ...identity, issuer, subject, tokenIdentifier: `${issuer}|${subject}` } as Identity;
}

/**
 * Thrown for tokens Convex would not accept; becomes the protocol's `AuthError` or an HTTP 401.
 * `code` is Convex's short error code (`InvalidAuthHeader`, `NoAuthProvider`, `Unauthenticated`).
 */
export class TokenRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function trimSlash(url: string): string {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** Verifies user tokens against the providers of `convex/auth.config.ts`, caching their JWKS. */
export class TokenVerifier {
  /** JWKS per provider, and for OIDC the issuer its discovery document names. */
  private readonly keySets = new Map<string, { keySet: KeySet; issuer?: string }>();

  constructor(private readonly providers: () => AuthProvider[]) {}

  private async keySetFor(provider: AuthProvider): Promise<{ keySet: KeySet; issuer?: string }> {
    const cacheKey =
      provider.type === "customJwt" ? `jwks:${provider.jwks}` : `oidc:${provider.domain}`;
    const cached = this.keySets.get(cacheKey);
    if (cached) return cached;
    let jwksUri: string;
    let issuer: string | undefined;
    if (provider.type === "customJwt") {
      jwksUri = provider.jwks;
    } else {
      const discovery = `${trimSlash(provider.domain)}/.well-known/openid-configuration`;
      const failed = (detail: string) =>
        new TokenRejected(
          "AuthProviderDiscoveryFailed",
          `Auth provider discovery of ${provider.domain} failed${detail}`,
        );
      let config: { jwks_uri?: unknown; issuer?: unknown };
      try {
        const response = await fetch(discovery);
        if (!response.ok) throw failed(`: ${response.status} ${await response.text()}`);
        config = (await response.json()) as { jwks_uri?: unknown; issuer?: unknown };
      } catch (error) {
        throw error instanceof TokenRejected ? error : failed("");
      }
      if (typeof config.jwks_uri !== "string" || typeof config.issuer !== "string") {
        throw failed("");
      }
      jwksUri = config.jwks_uri;
      issuer = config.issuer;
    }
    const keys = {
      keySet: createRemoteJWKSet(new URL(jwksUri), { cacheMaxAge: 10 * 60 * 1000 }),
      issuer,
    };
    this.keySets.set(cacheKey, keys);
    return keys;
  }

  /**
   * Returns the identity for a token Convex would accept, or throws `TokenRejected` with
   * Convex's code and message (crates/authentication/src/lib.rs `validate_id_token`).
   */
  async verify(token: string): Promise<{ identity: Identity; expiresAt: number }> {
    const parts = token.split(".");
    const header = parts.length === 3 ? decodeJson(parts[0]!) : null;
    const payload = parts.length === 3 ? decodeJson(parts[1]!) : null;
    if (header === null || payload === null) {
      throw new TokenRejected(
        "InvalidAuthHeader",
        "Could not parse JWT payload. Check that the token is a valid JWT format with three base64-encoded parts separated by dots.",
      );
    }
    if (typeof payload.iss !== "string") {
      throw new TokenRejected(
        "InvalidAuthHeader",
        "Missing issuer claim ('iss') in JWT payload. The JWT must include an 'iss' claim that matches one of your configured auth providers.",
      );
    }
    const issuer = payload.iss;
    const audiences =
      typeof payload.aud === "string"
        ? [payload.aud]
        : Array.isArray(payload.aud)
          ? payload.aud.filter((a): a is string => typeof a === "string")
          : [];
    const providers = this.providers();
    const provider = providers.find((p) => matchesToken(p, audiences, issuer));
    if (provider === undefined) throw new TokenRejected("NoAuthProvider", noProvider(providers));
    const { keySet, issuer: discovered } = await this.keySetFor(provider);
    return provider.type === "customJwt"
      ? await verifyCustomJwt(token, header, payload, audiences, provider, keySet)
      : await verifyOidc(token, payload, audiences, keySet, discovered);
  }
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function withProtocol(url: string): string {
  return url.startsWith("https://") || url.startsWith("http://") ? url : `https://${url}`;
}

// Convex's `AuthInfo::matches_token`: the issuer (with https:// added if missing) equals the
// provider's domain or issuer up to a trailing slash, and the audience holds the application id.
function matchesToken(provider: AuthProvider, audiences: string[], issuer: string): boolean {
  const applicationID = provider.applicationID;
  if (applicationID !== undefined && !audiences.includes(applicationID)) return false;
  const domain = provider.type === "customJwt" ? provider.issuer : provider.domain;
  return trimSlash(domain ?? "") === trimSlash(withProtocol(issuer));
}

function noProvider(providers: AuthProvider[]): string {
  if (providers.length === 0) {
    return "No auth provider found matching the given token (no providers configured). Check convex/auth.config.ts.";
  }
  const configured = providers.map((p) =>
    p.type === "customJwt"
      ? `CustomJWT(issuer=${p.issuer}, app_id=${p.applicationID ?? "none"})`
      : `OIDC(domain=${p.domain}, app_id=${p.applicationID})`,
  );
  return `No auth provider found matching the given token. Check that your JWT's issuer and audience match one of your configured providers: [${configured.join(", ")}]`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// The signing algorithms Convex's OIDC verifier allows.
const OIDC_ALGORITHMS = ["RS256", "EdDSA", "Ed25519"];

/**
 * OIDC providers (openidconnect's `CoreIdTokenVerifier`): `exp`, `iat` and `sub` must be present,
 * `iss` must be the discovered issuer exactly, `aud` the application id alone, `kid` may be absent
 * when exactly one key fits, `iat` is not checked, and the token is expired from its `exp` second
 * on, with no leeway.
 */
async function verifyOidc(
  token: string,
  payload: Record<string, unknown>,
  audiences: string[],
  keySet: KeySet,
  discoveredIssuer: string | undefined,
): Promise<{ identity: Identity; expiresAt: number }> {
  if (
    typeof payload.exp !== "number" ||
    typeof payload.iat !== "number" ||
    typeof payload.sub !== "string"
  ) {
    throw new TokenRejected(
      "InvalidAuthHeader",
      "Could not parse as OIDC ID token. Token might not be an OIDC-compliant JWT.",
    );
  }
  const unverified = new TokenRejected(
    "Unauthenticated",
    "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.",
  );
  if (payload.iss !== discoveredIssuer || audiences.length !== 1) throw unverified;
  try {
    await compactVerify(token, keySet, { algorithms: OIDC_ALGORITHMS });
  } catch {
    throw unverified;
  }
  if (nowSeconds() >= payload.exp) throw unverified;
  return { identity: identityFromClaims(payload as JWTPayload), expiresAt: payload.exp * 1000 };
}

// biscuit's temporal leeway as Convex configures it for custom JWTs.
const CUSTOM_JWT_LEEWAY_S = 5;

function rustDebugList(values: string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}

/**
 * Custom JWT providers (biscuit): `kid` is required, `exp`, `nbf` and `iat` are checked with 5 s of
 * leeway, then `sub` and `exp` must be present.
 */
async function verifyCustomJwt(
  token: string,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  audiences: string[],
  provider: Extract<AuthProvider, { type: "customJwt" }>,
  keySet: KeySet,
): Promise<{ identity: Identity; expiresAt: number }> {
  const invalid = (message: string) => new TokenRejected("InvalidAuthHeader", message);
  if (typeof header.kid !== "string") {
    throw invalid("Could not decode token. JWT may be missing a 'kid' (key ID) header.");
  }
  try {
    await compactVerify(
      token,
      keySet,
      provider.algorithm ? { algorithms: [provider.algorithm] } : {},
    );
  } catch {
    throw invalid(
      `Could not decode token. The JWT's 'kid' (key ID) header is '${header.kid}', does this key match any key in the provider's JWKS?`,
    );
  }
  if (provider.applicationID !== undefined) {
    if (payload.aud === undefined) {
      throw invalid(
        "Missing audience claim ('aud') in JWT payload. The JWT must include an 'aud' claim that matches your configured application ID.",
      );
    }
    if (!audiences.includes(provider.applicationID)) {
      throw invalid(
        `Invalid audience: ${provider.applicationID} not in ${rustDebugList(audiences)}`,
      );
    }
  }
  const now = nowSeconds();
  const { exp, nbf, iat } = payload;
  if (typeof exp === "number" && now - exp > CUSTOM_JWT_LEEWAY_S) {
    throw invalid(`Could not validate token: Token expired ${now - exp} seconds ago`);
  }
  for (const notBefore of [nbf, iat]) {
    if (typeof notBefore === "number" && notBefore - now > CUSTOM_JWT_LEEWAY_S) {
      throw invalid(`Could not validate token: Token will be valid in ${notBefore - now} seconds`);
    }
  }
  if (typeof payload.sub !== "string") throw invalid("Missing subject");
  if (typeof exp !== "number") throw invalid("Missing expiry");
  return { identity: identityFromClaims(payload as JWTPayload), expiresAt: exp * 1000 };
}

/** What Convex answers an admin key it does not know, or a component's function without one. */
export const BAD_DEPLOY_KEY =
  "The provided deploy key was invalid for this deployment. Double check that the environment this key was generated for matches the desired deployment.";

/** Whether `given` is the deployment's admin key (compared in constant time). */
export function isAdminKey(given: string, adminKey: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(adminKey);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The user an admin acts as (`setAdminAuth(key, identity)`), as Convex takes it
 * (sync_types json.rs, UserIdentityAttributes): `tokenIdentifier`, or `issuer` and `subject` to
 * make one; null when the attributes are not an identity.
 */
export function actingAsIdentity(attributes: unknown): Identity | null {
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    return null;
  }
  const raw = attributes as Record<string, Value>;
  const { issuer, subject, tokenIdentifier } = raw;
  if (typeof tokenIdentifier === "string") return { ...raw, tokenIdentifier } as Identity;
  if (typeof issuer !== "string" || typeof subject !== "string") return null;
  return { ...raw, tokenIdentifier: `${issuer}|${subject}` } as Identity;
}

/**
 * An admin key from an `Authorization: Convex …` header, split as Convex splits it
 * (local_backend authentication.rs extract_admin_key): after a deployment-type prefix
 * (`prod:name|…`), `<key>:<base64 of the JSON identity to act as>`. `actingAs` is undefined for a
 * plain key and null for one whose identity part is malformed.
 */
export function splitAdminKey(header: string): { key: string; actingAs?: Identity | null } {
  const bar = header.indexOf("|");
  const colon = header.indexOf(":");
  const withoutType = bar !== -1 && colon !== -1 && colon < bar ? header.slice(colon + 1) : header;
  const split = withoutType.indexOf(":");
  if (split === -1) return { key: header };
  const key = header.slice(0, header.length - withoutType.length + split);
  try {
    const json = Buffer.from(withoutType.slice(split + 1), "base64").toString("utf8");
    return { key, actingAs: actingAsIdentity(JSON.parse(json)) };
  } catch {
    return { key, actingAs: null };
  }
}
