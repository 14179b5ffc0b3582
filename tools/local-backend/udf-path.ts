/** Splits "dir/file:name" (or "dir/file.js:name", or "file" for the default export) into parts. */
export function canonicalUdfPath(udfPath: string): { module: string; name: string; path: string } {
  const colon = udfPath.lastIndexOf(":");
  let module = colon === -1 ? udfPath : udfPath.slice(0, colon);
  const name = colon === -1 ? "default" : udfPath.slice(colon + 1);
  if (module.endsWith(".js")) module = module.slice(0, -3);
  return { module, name, path: `${module}:${name}` };
}
