/**
 * POSTs `file` to a Convex upload URL, reporting progress (0 to 1) as the bytes go out (fetch
 * cannot report upload progress, XMLHttpRequest can); resolves to the storage id it answers.
 */
export function uploadFile(
  url: string,
  file: File,
  signal: AbortSignal,
  onProgress: (fraction: number) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    const failed = () =>
      reject(new Error(`"${file.name}" could not be uploaded. Remove it and try again.`));
    request.open("POST", url);
    request.setRequestHeader("Content-Type", file.type);
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as { storageId?: unknown } | null;
      if (request.status >= 200 && request.status < 300 && typeof body?.storageId === "string") {
        resolve(body.storageId);
      } else failed();
    };
    request.onerror = failed;
    request.onabort = failed;
    signal.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}
