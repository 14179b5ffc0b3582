// Node module hook: functions are re-imported under a fresh tsx namespace on every reload, but the
// packages they use (node_modules) stay shared, loaded once per process.
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.includes("/node_modules/") && result.url.includes("tsx-namespace=")) {
    const url = new URL(result.url);
    url.searchParams.delete("tsx-namespace");
    return { ...result, url: url.href };
  }
  return result;
}
