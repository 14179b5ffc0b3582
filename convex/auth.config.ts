export default {
  providers: [
    {
      // auth.config.ts is evaluated on its own, without the generated `env` module.
      // eslint-disable-next-line @convex-dev/no-process-env
      domain: process.env.CONVEX_SITE_URL,
      applicationID: "convex",
    },
  ],
};
