export default {
  providers: [
    { domain: process.env.TEST_AUTH_ISSUER, applicationID: "local-backend-test" },
    // A custom JWT provider on the same issuer's keys, for suites that set its variables.
    ...(process.env.TEST_CUSTOM_JWT_ISSUER
      ? [
          {
            type: "customJwt",
            issuer: process.env.TEST_CUSTOM_JWT_ISSUER,
            jwks: process.env.TEST_CUSTOM_JWT_JWKS,
            algorithm: "RS256",
            applicationID: "local-backend-custom",
          },
        ]
      : []),
  ],
};
