import {
  createRemoteJWKSet,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
  type JWTPayload,
} from "jose";
import type { Value } from "convex/values";
import type { Identity } from "./engine";

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

/** Thrown for tokens that no provider accepts; becomes the protocol's `AuthError`. */
export class TokenRejected extends Error {}

function trimSlash(url: string): string {
  return url.endsWith("/") ? url.slice(0, -1) : url;
}

/** Verifies user tokens against the providers of `convex/auth.config.ts`, caching their JWKS. */
export class TokenVerifier {
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(private readonly providers: () => AuthProvider[]) {}

  private async keySetFor(provider: AuthProvider): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const cacheKey =
      provider.type === "customJwt" ? `jwks:${provider.jwks}` : `oidc:${provider.domain}`;
    const cached = this.keySets.get(cacheKey);
    if (cached) return cached;
    let jwksUri: string;
    if (provider.type === "customJwt") {
      jwksUri = provider.jwks;
    } else {
      const discovery = `${trimSlash(provider.domain)}/.well-known/openid-configuration`;
      const response = await fetch(discovery);
      if (!response.ok) {
        throw new TokenRejected(`Could not fetch ${discovery}: HTTP ${response.status}`);
      }
      const config = (await response.json()) as { jwks_uri?: string };
      if (typeof config.jwks_uri !== "string") {
        throw new TokenRejected(`${discovery} has no jwks_uri`);
      }
      jwksUri = config.jwks_uri;
    }
    const keySet = createRemoteJWKSet(new URL(jwksUri), { cacheMaxAge: 10 * 60 * 1000 });
    this.keySets.set(cacheKey, keySet);
    return keySet;
  }

  /** Returns the identity for a valid token, or throws `TokenRejected` saying why not. */
  async verify(token: string): Promise<{ identity: Identity; expiresAt: number | null }> {
    const parts = token.split(".");
    if (parts.length !== 3 || parts[2] === "") {
      throw new TokenRejected("Could not parse JWT payload: the token is not a signed JWT");
    }
    let unverified: JWTPayload;
    try {
      unverified = JSON.parse(
        Buffer.from(parts[1] ?? "", "base64url").toString("utf8"),
      ) as JWTPayload;
    } catch {
      throw new TokenRejected("Could not parse JWT payload");
    }
    const issuer = typeof unverified.iss === "string" ? trimSlash(unverified.iss) : "";
    const providers = this.providers();
    const provider = providers.find((p) =>
      p.type === "customJwt"
        ? trimSlash(p.issuer) === issuer
        : trimSlash(p.domain ?? "") === issuer,
    );
    if (provider === undefined) {
      throw new TokenRejected(
        `No auth provider found matching the given token (issuer "${unverified.iss}"). Check that your JWT's issuer and audience match one of your configured providers: ${JSON.stringify(providers)}`,
      );
    }
    try {
      const keySet = await this.keySetFor(provider);
      const { payload } = await jwtVerify(token, keySet, {
        issuer: [issuer, `${issuer}/`],
        ...(provider.applicationID ? { audience: provider.applicationID } : {}),
        ...(provider.type === "customJwt" && provider.algorithm
          ? { algorithms: [provider.algorithm] }
          : {}),
      });
      if (typeof payload.sub !== "string") throw new TokenRejected("Token has no subject");
      return {
        identity: identityFromClaims(payload),
        expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : null,
      };
    } catch (error) {
      if (error instanceof TokenRejected) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new TokenRejected(`Token verification failed: ${message}`);
    }
  }
}
