export default {
  providers: [{ domain: process.env.TEST_AUTH_ISSUER, applicationID: "local-backend-test" }],
};
